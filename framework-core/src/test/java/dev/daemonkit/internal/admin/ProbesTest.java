package dev.daemonkit.internal.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.internal.transport.StallWatchdog;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The probe routes /health/live, /health/ready and /health/started of the admin endpoint. */
class ProbesTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    private record Answer(int status, String body) {}

    /** One GET through a fresh admin handler (one per connection) in an embedded channel, with no token. */
    private static Answer get(Probes probes, String path) {
        EmbeddedChannel ch = new EmbeddedChannel(new AdminHandler(probes.launcher(), null, probes, "s3cret", () -> {}));
        try {
            ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path));
            ch.runPendingTasks();
            FullHttpResponse response = ch.readOutbound();
            try {
                return new Answer(response.status().code(), response.content().toString(StandardCharsets.UTF_8));
            } finally {
                response.release();
            }
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    private static Probes handler(Launcher launcher, StallWatchdog watchdog) {
        return new Probes(launcher, watchdog);
    }

    @Test
    void probesAnswerWithoutTheTokenWhileEveryOtherRouteStillNeedsIt() throws Exception {
        Jars.lineEcho(home.plugins());
        Launcher launcher = home.start();
        Probes handler = handler(launcher, null);

        assertThat(get(handler, "/health/live")).isEqualTo(new Answer(200, "ok\n"));
        assertThat(get(handler, "/health/ready")).isEqualTo(new Answer(200, "ok\n"));
        assertThat(get(handler, "/health/started")).isEqualTo(new Answer(200, "ok\n"));
        assertThat(get(handler, "/health").status()).isEqualTo(401);
        assertThat(get(handler, "/daemons").status()).isEqualTo(401);
        assertThat(get(handler, "/health/ready/../../daemons").status()).isEqualTo(401);
    }

    @Test
    void readyTurns503TheMomentTheLauncherIsStoppingWhileLiveAndStartedStay200() throws Exception {
        Jars.lineEcho(home.plugins());
        Launcher launcher = home.start();
        Probes handler = handler(launcher, null);

        launcher.beginStop();

        Answer ready = get(handler, "/health/ready");
        assertThat(ready.status()).isEqualTo(503);
        assertThat(ready.body()).startsWith("not ready: stopping");
        assertThat(get(handler, "/health/live").status()).isEqualTo(200);
        assertThat(get(handler, "/health/started").status()).isEqualTo(200);
    }

    @Test
    void readyIs503WhileADaemonIsStoppedWithoutNamingItAndStartedStays200() throws Exception {
        Jars.lineEcho(home.plugins());
        Launcher launcher = home.start();
        Probes handler = handler(launcher, null);
        assertThat(get(handler, "/health/started").status()).isEqualTo(200);

        launcher.stopDaemon("line-echo").get(10, TimeUnit.SECONDS);

        assertThat(get(handler, "/health/ready"))
                .isEqualTo(new Answer(
                        503, "not ready: 1 of 1 daemon(s) not RUNNING or degraded (GET /health names them and why)\n"));
        assertThat(get(handler, "/health/started").status()).isEqualTo(200);
        launcher.startDaemon("line-echo").get(10, TimeUnit.SECONDS);
        assertThat(get(handler, "/health/ready").status()).isEqualTo(200);
    }

    @Test
    void aDegradedDaemonMakesReady503AndHealthSaysWhyUntilItIsWholeAgain() throws Exception {
        Jars.lineEcho(home.plugins());
        Launcher launcher = home.start();
        Probes handler = handler(launcher, null);

        launcher.daemon("line-echo").degraded("backend at 127.0.0.1:6379 unreachable");

        assertThat(get(handler, "/health/ready"))
                .isEqualTo(new Answer(
                        503, "not ready: 1 of 1 daemon(s) not RUNNING or degraded (GET /health names them and why)\n"));
        assertThat(get(handler, "/health/live").status()).isEqualTo(200);
        EmbeddedChannel ch = new EmbeddedChannel(new AdminHandler(launcher, null, handler, "s3cret", () -> {}));
        try {
            DefaultFullHttpRequest request =
                    new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/health");
            request.headers().set("Authorization", "Bearer s3cret");
            ch.writeInbound(request);
            ch.runPendingTasks();
            FullHttpResponse response = ch.readOutbound();
            try {
                assertThat(response.status().code()).isEqualTo(503);
                assertThat(response.content().toString(StandardCharsets.UTF_8))
                        .isEqualTo("unhealthy\nline-echo RUNNING degraded: backend at 127.0.0.1:6379 unreachable\n");
            } finally {
                response.release();
            }
        } finally {
            ch.finishAndReleaseAll();
        }

        launcher.daemon("line-echo").degraded(null);
        assertThat(get(handler, "/health/ready")).isEqualTo(new Answer(200, "ok\n"));
    }

    @Test
    void aStalledEventLoopMakesLive503UntilItRunsAgain() throws Exception {
        Jars.lineEcho(home.plugins());
        Launcher launcher = home.start();
        DefaultEventLoopGroup loops =
                new DefaultEventLoopGroup(1, (ThreadFactory) r -> new Thread(r, "stalled-loop-0"));
        CountDownLatch release = new CountDownLatch(1);
        try (StallWatchdog watchdog = new StallWatchdog(loops, Duration.ofMillis(100))) {
            Probes handler = handler(launcher, watchdog);
            // The loop has run a probe, so the watchdog knows its thread.
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> get(handler, "/health/live").status() == 200);

            loops.next().execute(() -> {
                try {
                    release.await(); // a handler that blocks its event loop
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });

            await().atMost(Duration.ofSeconds(5))
                    .until(() -> get(handler, "/health/live").status() == 503);
            assertThat(get(handler, "/health/live").body())
                    .isEqualTo("not live: 1 event loop(s) blocked for more than 100 ms"
                            + " (daemonkit.watchdog.threshold): stalled-loop-0\n");
            assertThat(get(handler, "/health/ready").status())
                    .as("readiness is about the daemons, not the loops")
                    .isEqualTo(200);

            release.countDown();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> get(handler, "/health/live").status() == 200);
        } finally {
            release.countDown();
            loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }

    @Test
    void faultDirectMemoryNettyHoldsIsAMetricAndFollowsABufferTakenAndGivenBack() throws Exception {
        // Replies built in Netty's direct buffers used up 512 MB while jvm_buffer_memory_used_bytes read 25 KB
        // (Netty allocates without the JDK's Cleaner): an operator could not see it coming.
        Jars.lineEcho(home.plugins());
        Launcher launcher = home.start();
        try (DaemonkitMetrics metrics = new DaemonkitMetrics(launcher, null, null)) {
            assertThat(metrics.scrape()).contains("daemonkit_netty_direct_memory_max_bytes");
            long before = scraped(metrics, "daemonkit_netty_direct_memory_used_bytes");
            org.junit.jupiter.api.Assumptions.assumeTrue(before >= 0, "Netty counts its direct memory here");
            io.netty.buffer.ByteBuf big = io.netty.buffer.UnpooledByteBufAllocator.DEFAULT.directBuffer(8 << 20);
            try {
                assertThat(scraped(metrics, "daemonkit_netty_direct_memory_used_bytes"))
                        .isGreaterThanOrEqualTo(before + (8 << 20));
            } finally {
                big.release();
            }
            assertThat(scraped(metrics, "daemonkit_netty_direct_memory_used_bytes"))
                    .isLessThan(before + (8 << 20));
        }
    }

    /** The value of the scraped line of {@code name} (a regular expression: labels' braces escaped). */
    private static long scraped(DaemonkitMetrics metrics, String name) {
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(metrics.scrape());
        assertThat(m.find()).as(name + " is scraped").isTrue();
        return (long) Double.parseDouble(m.group(1));
    }

    @Test
    void aProbeGetsThroughAnAdminEndpointFullOfIdleConnections() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("""
                daemonkit.admin { listen = "127.0.0.1:0", token = "s3cret", max-connections = 2 }
                """);
        Launcher launcher = home.start();
        DaemonkitMetrics metrics = new DaemonkitMetrics(launcher, null, null);
        AdminServer admin =
                AdminServer.start(launcher, metrics, null, launcher.settings().admin(), () -> {});
        metrics.bindAdmin(admin.connections()); // as Main does
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                held.add(connect(admin.address()));
            }
            await().until(() -> admin.connections().open() == 2);
            // The connection waiting longest gives its place at once (DaemonConnections.evictWhenFull).
            try (Socket probe = connect(admin.address())) {
                probe.getOutputStream()
                        .write("GET /health/ready HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                assertThat(statusLine(probe.getInputStream())).isEqualTo("HTTP/1.1 200 OK");
            }
            assertThat(admin.connections().evicted()).isEqualTo(1);
            // Fault seen by an operator: the evictions are counted where the dashboards look.
            assertThat(scraped(metrics, "daemonkit_connections_evicted_total\\{daemon=\"admin\"\\}"))
                    .isEqualTo(1);
        } finally {
            for (Socket s : held) {
                s.close();
            }
            admin.close();
            metrics.close();
        }
    }

    private static Socket connect(InetSocketAddress at) throws IOException {
        Socket s = new Socket(at.getAddress(), at.getPort());
        s.setSoTimeout(5_000);
        return s;
    }

    private static String statusLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) != -1 && c != '\n'; ) {
            sb.append((char) c);
        }
        return sb.toString().trim();
    }
}
