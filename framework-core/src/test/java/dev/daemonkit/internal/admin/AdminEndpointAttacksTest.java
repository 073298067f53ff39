package dev.daemonkit.internal.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.internal.transport.DaemonConnections;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * What a user and an attacker get from the admin endpoint over real sockets, with the default config's
 * shape (loopback, no token) unless a test says otherwise: trickling connections that fill its cap
 * (they must not lock out liveness), web pages sending cross-origin requests (CSRF) and pages whose
 * name was pointed at 127.0.0.1 (DNS rebinding).
 */
class AdminEndpointAttacksTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger connectionsLog = (Logger) LoggerFactory.getLogger(DaemonConnections.class);

    private Launcher launcher;
    private DaemonkitMetrics metrics;
    private AdminServer admin;
    private final AtomicInteger shutdowns = new AtomicInteger();

    @BeforeEach
    void capture() {
        logged.start();
        connectionsLog.addAppender(logged);
    }

    @AfterEach
    void release() {
        connectionsLog.detachAppender(logged);
        if (admin != null) {
            admin.close();
        }
        if (metrics != null) {
            metrics.close();
        }
    }

    private InetSocketAddress start(String adminConfig) throws IOException {
        Jars.lineEcho(home.plugins());
        home.config("daemonkit.admin { listen = \"127.0.0.1:0\"" + adminConfig + " }\n");
        launcher = home.start();
        metrics = new DaemonkitMetrics(launcher, null, null);
        admin = AdminServer.start(launcher, metrics, null, launcher.settings().admin(), shutdowns::incrementAndGet);
        return admin.address();
    }

    private record Answer(int status, String body) {}

    /** One raw HTTP/1.1 request (so Host and Origin are what the test says), Connection: close. */
    private static Answer send(InetSocketAddress at, String method, String path, String... headers) throws IOException {
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            s.setSoTimeout(5_000);
            StringBuilder request = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
            boolean host = false;
            for (String h : headers) {
                host |= h.regionMatches(true, 0, "Host:", 0, 5);
                request.append(h).append("\r\n");
            }
            if (!host) {
                request.append("Host: ")
                        .append(at.getAddress().getHostAddress())
                        .append(':')
                        .append(at.getPort())
                        .append("\r\n");
            }
            request.append("Content-Length: 0\r\nConnection: close\r\n\r\n");
            s.getOutputStream().write(request.toString().getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            try {
                s.getInputStream().transferTo(all);
            } catch (IOException reset) {
                // refused connections may be reset: what was read so far (nothing) says so
            }
            String response = all.toString(StandardCharsets.UTF_8);
            if (response.isEmpty()) {
                return new Answer(0, "(closed without an answer)");
            }
            int status = Integer.parseInt(response.substring(9, 12));
            int body = response.indexOf("\r\n\r\n");
            return new Answer(status, body < 0 ? "" : response.substring(body + 4));
        }
    }

    private String hostPort(String name) {
        return "Host: " + name + ":" + admin.address().getPort();
    }

    private List<String> warnings() {
        return List.copyOf(logged.list).stream()
                .filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    // ---- F3: trickling connections and the connection cap -------------------------------------------

    /** One GET /health/live on a keep-alive connection; returns the status. */
    private static int keepAliveProbe(Socket s) throws IOException {
        s.getOutputStream()
                .write(("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            head.append((char) in.readUnsignedByte());
        }
        java.util.regex.Matcher length =
                java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
        in.readNBytes(length.find() ? Integer.parseInt(length.group(1)) : 0);
        return Integer.parseInt(head.substring(9, 12));
    }

    @Test
    void attackerKeepingEveryPlaceBusyWithQuickRequestsCannotHaveAProbeFromElsewhereEvicted() throws Exception {
        // Found in review: connections that make a quick request now and then are "waiting since" just now, so a
        // probe, idle for the milliseconds between its connect and its request, was the longest waiting and the
        // attacker's next connect evicted it. The victim now comes from the address holding the most connections.
        InetSocketAddress at = start(", max-connections = 4");
        List<Socket> busy = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Socket s = new Socket(at.getAddress(), at.getPort());
                s.setSoTimeout(5_000);
                busy.add(s);
                assertThat(keepAliveProbe(s)).isEqualTo(200);
            }
            await().until(() -> admin.connections().open() == 4);
            try (Socket probe =
                    new Socket(at.getAddress(), at.getPort(), java.net.InetAddress.getByName("127.0.0.2"), 0)) {
                probe.setSoTimeout(5_000);
                await().until(() -> admin.connections().evicted() == 1); // one of the attacker's gave its place
                for (Socket s : busy) {
                    if (!s.isClosed()) {
                        try {
                            keepAliveProbe(s); // busy again: waiting since now, later than the probe's connect
                        } catch (IOException evicted) {
                            s.close();
                        }
                    }
                }
                try (Socket more = new Socket(at.getAddress(), at.getPort())) {
                    await().until(() -> admin.connections().evicted() == 2);
                    assertThat(keepAliveProbe(probe))
                            .as("the probe kept its place")
                            .isEqualTo(200);
                }
            }
        } finally {
            for (Socket s : busy) {
                s.close();
            }
        }
    }

    /**
     * The attacker of the review: more connections than the cap, each sending part of a request header
     * and one more byte every 50 ms, reopened as soon as the server closes them. The request never
     * completes, so no token is needed. Each of its connections is "in a request", never idle.
     */
    private static final class Tricklers implements AutoCloseable {
        private final InetSocketAddress at;
        private final Socket[] sockets;
        private final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong bytesSent = new AtomicLong();
        final AtomicInteger reopened = new AtomicInteger();
        private final Thread thread;

        Tricklers(InetSocketAddress at, int connections) {
            this.at = at;
            this.sockets = new Socket[connections];
            this.thread = new Thread(this::run, "trickler");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            // Bounded: at most 60 s of trickling, whatever the test does.
            for (int round = 0; round < 1_200 && !stop.get(); round++) {
                for (int i = 0; i < sockets.length; i++) {
                    try {
                        if (sockets[i] == null) {
                            sockets[i] = new Socket(at.getAddress(), at.getPort());
                            sockets[i]
                                    .getOutputStream()
                                    .write("GET /health HTTP/1.1\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
                        }
                        OutputStream out = sockets[i].getOutputStream();
                        out.write('x');
                        out.flush();
                        bytesSent.incrementAndGet();
                    } catch (IOException closedByServer) {
                        closeQuietly(sockets[i]);
                        sockets[i] = null; // reopened in the next round
                        reopened.incrementAndGet();
                    }
                }
                try {
                    Thread.sleep(50); // the attacker's pace, not a wait for the server
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(5_000);
            for (Socket s : sockets) {
                closeQuietly(s);
            }
        }

        private static void closeQuietly(Socket s) {
            try {
                if (s != null) {
                    s.close();
                }
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    @Test
    void attackerTricklingConnectionsBeyondTheCapDoNotLockOutLivenessProbes() throws Exception {
        InetSocketAddress at = start(", max-connections = 4");
        try (Tricklers attacker = new Tricklers(at, 6)) {
            // Attacker: more trickling connections than the cap hold all of it, each inside a request.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> admin.connections().open() == 4 && attacker.bytesSent.get() >= 24);

            // User: every probe gets its answer, each taking the place of a trickling connection.
            for (int probe = 0; probe < 10; probe++) {
                assertThat(send(at, "GET", "/health/live"))
                        .as("probe %d", probe)
                        .isEqualTo(new Answer(200, "ok\n"));
            }
            // (A probe may also find the place of a trickler the attacker has not reopened yet.)
            assertThat(admin.connections().evicted()).isPositive();
            assertThat(attacker.reopened)
                    .as("the attacker's connections were the ones closed")
                    .hasPositiveValue();
            assertThat(admin.connections().open()).isLessThanOrEqualTo(4 + 1);
        }
        // Operator: the log says what happens and names the key that exists.
        assertThat(warnings())
                .anySatisfy(w -> assertThat(w)
                        .startsWith("'admin' is full (4 connections): closed the one waiting longest")
                        .contains("raise daemonkit.admin.max-connections"))
                .noneSatisfy(w -> assertThat(w).contains("daemons.admin"));
    }

    @Test
    void attackerTricklingHeadersIsClosedAtTheDeadlineAndTheLogNamesTheDaemonkitAdminKey() throws Exception {
        InetSocketAddress at = start(", request-timeout = 1 s");
        try (Socket slow = new Socket(at.getAddress(), at.getPort())) {
            // Attacker: part of a request, never finished.
            slow.getOutputStream().write("GET /health HTTP/1.1\r\nX-Slow: 1".getBytes(StandardCharsets.US_ASCII));
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> admin.connections().deadlineClosed() == 1);
            // (counted just before its line is logged)
            await().atMost(Duration.ofSeconds(5)).until(() -> !warnings().isEmpty());
        }
        // Operator: the line names daemonkit.admin.request-timeout, the key there is, twice.
        assertThat(warnings())
                .anySatisfy(w -> assertThat(w)
                        .contains("closed at daemonkit.admin.request-timeout (1000 ms)")
                        .contains("Raise daemonkit.admin.request-timeout if clients are this slow"))
                .noneSatisfy(w -> assertThat(w).contains("daemons.admin"));
        // User: a prompt request is served.
        assertThat(send(at, "GET", "/health/live")).isEqualTo(new Answer(200, "ok\n"));
    }

    // ---- F4: web pages (CSRF, DNS rebinding) ----------------------------------------------------------

    @Test
    void attackerCrossOriginPostIsRefusedWith403AndTheDaemonKeepsRunning() throws Exception {
        InetSocketAddress at = start("");
        String evil = "Origin: https://evil.example";
        String simple = "Content-Type: text/plain";

        // Attacker: a web page's "simple" POSTs (no preflight) to stop a daemon, reload, shut down.
        Answer stop = send(at, "POST", "/daemons/line-echo/stop", evil, simple);
        assertThat(stop.status()).isEqualTo(403);
        assertThat(stop.body())
                .contains("Origin: https://evil.example")
                .contains("Use bin/daemonkit or curl, which send no Origin header");
        assertThat(send(at, "POST", "/shutdown", evil, simple).status()).isEqualTo(403);
        assertThat(send(at, "POST", "/reload", evil, simple).status()).isEqualTo(403);
        assertThat(send(at, "POST", "/daemons/line-echo/stop", "Origin: null", simple)
                        .status())
                .as("a sandboxed page's opaque origin")
                .isEqualTo(403);
        // Nor may it read anything but the probes (read-only, and answered to anyone who connects).
        assertThat(send(at, "GET", "/daemons", evil).status()).isEqualTo(403);
        assertThat(send(at, "GET", "/health/live", evil).status()).isEqualTo(200);
        assertThat(launcher.daemons().status("line-echo").state()).isEqualTo(DaemonState.RUNNING);
        assertThat(shutdowns).hasValue(0);
        assertThat(launcher.stopping()).isFalse();

        // User: the endpoint's own origin (a page it served, if it ever does) and curl (no Origin) are served.
        String own = "Origin: http://127.0.0.1:" + at.getPort();
        assertThat(send(at, "GET", "/health", own).status()).isEqualTo(200);
        Answer curl = send(at, "POST", "/daemons/line-echo/stop");
        assertThat(curl.status()).isEqualTo(200);
        assertThat(curl.body()).contains("\"state\":\"STOPPED\"");
        assertThat(send(at, "POST", "/daemons/line-echo/start").status()).isEqualTo(200);
    }

    @Test
    void attackerDnsRebindingHostIsRefusedWithoutATokenWhileAddressesLocalhostAndAllowedNamesAreServed()
            throws Exception {
        InetSocketAddress at = start(", allowed-hosts = [\"Daemonkit-Box\"]");

        // Attacker: evil.example now resolves to 127.0.0.1; its page's requests are same-origin to itself.
        Answer rebound = send(
                at,
                "POST",
                "/daemons/line-echo/stop",
                hostPort("evil.example"),
                "Origin: http://evil.example:" + at.getPort());
        assertThat(rebound.status()).isEqualTo(403);
        assertThat(rebound.body())
                .contains("Host: evil.example:" + at.getPort())
                .contains("daemonkit.admin.allowed-hosts")
                .contains("daemonkit.admin.token");
        assertThat(send(at, "GET", "/health", hostPort("evil.example")).status())
                .isEqualTo(403);
        assertThat(send(at, "GET", "/daemons", hostPort("127.0.0.1.evil.example"))
                        .status())
                .isEqualTo(403);
        assertThat(launcher.daemons().status("line-echo").state()).isEqualTo(DaemonState.RUNNING);

        // User: the CLI's IP address, localhost, IPv6 loopback, a configured name (any case, with its
        // trailing dot), and an HTTP/1.0 client without Host.
        assertThat(send(at, "GET", "/health", hostPort("127.0.0.1")).status()).isEqualTo(200);
        assertThat(send(at, "GET", "/health", hostPort("localhost")).status()).isEqualTo(200);
        assertThat(send(at, "GET", "/health", hostPort("[::1]")).status()).isEqualTo(200);
        assertThat(send(at, "GET", "/health", hostPort("daemonkit-box.")).status())
                .isEqualTo(200);
        assertThat(send(at, "GET", "/health/live", "Host: localhost").status()).isEqualTo(200);
        // The probes answer whatever Host (read-only, and no token either): a container health check names
        // its host, and refusing it would have the container restarted.
        assertThat(send(at, "GET", "/health/live", hostPort("daemonkit")).status())
                .isEqualTo(200);
        assertThat(send(at, "GET", "/health/ready", hostPort("evil.example")).status())
                .isEqualTo(200);
    }

    @Test
    void attackerEscapeSequencesInARefusedPathCannotRewriteTheLogAndALongPathIsCut() throws Exception {
        // ESC[1A ESC[2K: cursor up, erase the line (on the console, in tail -f): then a forged line of its own.
        String forged = "/health\u001b[1A\u001b[2K2026-12-01\u000800:00:00.000\u0007INFO\u009b31m\u007fFORGED";
        InetSocketAddress at = start("");
        Logger guardLog = (Logger) LoggerFactory.getLogger(BrowserGuard.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        guardLog.addAppender(lines);
        try {
            // Bytes on the wire as the attacker sends them (ISO-8859-1: 0x9b is the one-byte CSI).
            assertThat(sendRaw(at, "GET " + forged + " HTTP/1.1\r\nHost: evil.example\r\n\r\n"))
                    .startsWith("HTTP/1.1 403");
            String line = lines.list.get(0).getFormattedMessage();
            assertThat(line)
                    .contains(
                            "GET /health\\x1b[1A\\x1b[2K2026-12-01\\x0800:00:00.000\\x07INFO\\x9b31m\\x7fFORGED from ")
                    .doesNotContainPattern("[\\x00-\\x1f\\x7f-\\x9f]");
        } finally {
            guardLog.detachAppender(lines);
        }
    }

    @Test
    void attackerEscapeSequencesInAPathRefusedForTheTokenAreEscapedAndALongPathIsCut() throws Exception {
        InetSocketAddress at = start(", token = \"s3cret\"");
        Logger handlerLog = (Logger) LoggerFactory.getLogger(AdminHandler.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        handlerLog.addAppender(lines);
        try {
            String path = "/daemons\u001b]0;owned\u0007" + "A".repeat(3_000);
            assertThat(sendRaw(at, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
                    .startsWith("HTTP/1.1 401");
            String line = lines.list.get(0).getFormattedMessage();
            assertThat(line)
                    .contains("GET /daemons\\x1b]0;owned\\x07AAA")
                    .contains("... (3018 characters) from ")
                    .doesNotContainPattern("[\\x00-\\x1f\\x7f-\\x9f]")
                    .hasSizeLessThan(AdminHandler.LOGGED_PATH_MAX + 200);
        } finally {
            handlerLog.detachAppender(lines);
        }
    }

    /** A request exactly as given, in ISO-8859-1 (any byte); the response's first line and the rest. */
    private static String sendRaw(InetSocketAddress at, String request) throws IOException {
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            byte[] head = s.getInputStream().readNBytes(12);
            return new String(head, StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void attackerSendingManyRequestsWithoutTheTokenGetsA401EachButTheLogFewLines() throws Exception {
        InetSocketAddress at = start(", token = \"s3cret\"");
        Logger handlerLog = (Logger) LoggerFactory.getLogger(AdminHandler.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        handlerLog.addAppender(lines);
        try {
            for (int i = 0; i < 50; i++) {
                assertThat(send(at, "GET", "/daemons").status()).isEqualTo(401);
            }
            assertThat(lines.list.stream().filter(e -> e.getFormattedMessage().contains("missing or wrong token")))
                    .as("one line, then at most one per 10 s")
                    .hasSizeBetween(1, 2);
        } finally {
            handlerLog.detachAppender(lines);
        }
    }

    @Test
    void withATokenAServiceNameAndPodAddressAreServedButAttackerCrossOriginRequestsStillRefused() throws Exception {
        InetSocketAddress at = start(", token = \"s3cret\"");
        String bearer = "Authorization: Bearer s3cret";

        // User: Prometheus scraping a Service's DNS name with the token; kubelet probing the pod's address.
        assertThat(send(at, "GET", "/metrics", hostPort("daemonkit.prod.svc.cluster.local"), bearer)
                        .status())
                .isEqualTo(200);
        assertThat(send(at, "GET", "/health/live", "Host: 10.1.2.3:7070")).isEqualTo(new Answer(200, "ok\n"));

        // Attacker: a rebound name reaches only the probes (no token); a cross-origin POST, even one that
        // somehow carries the token, is refused.
        assertThat(send(at, "GET", "/daemons", hostPort("evil.example")).status())
                .isEqualTo(401);
        assertThat(send(at, "POST", "/shutdown", "Origin: https://evil.example", bearer)
                        .status())
                .isEqualTo(403);
        assertThat(shutdowns).hasValue(0);
    }

    @Test
    void hostNamesAreReadWithoutPortsBracketsCaseOrTrailingDot() {
        assertThat(BrowserGuard.hostName("Example.COM.:7070")).isEqualTo("example.com");
        assertThat(BrowserGuard.hostName("[::1]:7070")).isEqualTo("::1");
        assertThat(BrowserGuard.hostName("::1")).isEqualTo("::1");
        assertThat(BrowserGuard.hostName("10.0.0.1")).isEqualTo("10.0.0.1");
    }
}
