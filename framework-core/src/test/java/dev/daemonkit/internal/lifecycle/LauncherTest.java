package dev.daemonkit.internal.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.plugins.PluginFailure;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.PluginJar;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import dev.daemonkit.testplugins.ThrowsInConfigurePlugin;
import dev.daemonkit.testplugins.ThrowsInConstructorPlugin;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class LauncherTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    @Test
    void twoInstancesOfOnePluginServeWithTheirOwnConfig() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("""
                daemons.line-echo.prefix = "a:"
                daemons.echo-b { plugin = line-echo, prefix = "b:" }
                """);
        var launcher = home.start();
        assertThat(launcher.daemon("line-echo").state()).isEqualTo(DaemonState.RUNNING);
        assertThat(launcher.daemon("echo-b").state()).isEqualTo(DaemonState.RUNNING);
        try (var a = new LineClient(home.address("line-echo"));
                var b = new LineClient(home.address("echo-b"))) {
            assertThat(a.request("hello")).isEqualTo("a:hello");
            assertThat(b.request("hello")).isEqualTo("b:hello");
            assertThat(a.request("again")).isEqualTo("a:again");
        }
    }

    @Test
    void brokenPluginsBesideAGoodOneDoNotStopIt() throws Exception {
        Jars.lineEcho(home.plugins());
        Files.writeString(home.plugins().resolve("not-a-jar.jar"), "this is not a zip file");
        PluginJar.at(home.plugins().resolve("missing-class.jar"))
                .withProviderName("dev.daemonkit.testplugins.NoSuchPlugin")
                .build();
        PluginJar.at(home.plugins().resolve("bad-constructor.jar"))
                .withPlugin(ThrowsInConstructorPlugin.class)
                .build();
        PluginJar.at(home.plugins().resolve("bad-configure.jar"))
                .withPlugin(ThrowsInConfigurePlugin.class)
                .withResource("reference.conf", "daemons.throws-in-configure.listen = \"127.0.0.1:0\"\n")
                .build();
        PluginJar.at(home.plugins().resolve("no-services.jar"))
                .withResource("readme.txt", "nothing")
                .build();
        Jars.libraryUser(home.plugins(), "a", "1.0");
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            home.config("daemons.lib-a.listen = \"127.0.0.1:" + taken.getLocalPort() + "\"\n");
            var launcher = home.start();

            try (var client = new LineClient(home.address("line-echo"))) {
                assertThat(client.request("still here")).isEqualTo("still here");
            }
            assertThat(launcher.pluginFailures())
                    .extracting(f -> f.source().getFileName().toString())
                    .containsExactlyInAnyOrder(
                            "not-a-jar.jar", "missing-class.jar", "bad-constructor.jar", "no-services.jar");
            assertThat(reason(launcher.pluginFailures(), "not-a-jar.jar")).contains("not a readable jar");
            assertThat(reason(launcher.pluginFailures(), "missing-class.jar")).contains("NoSuchPlugin");
            assertThat(reason(launcher.pluginFailures(), "bad-constructor.jar")).contains("constructor refuses to run");
            assertThat(reason(launcher.pluginFailures(), "no-services.jar")).contains("no DaemonPlugin found");

            var configureFails = launcher.daemon("throws-in-configure");
            assertThat(configureFails.state()).isEqualTo(DaemonState.FAILED);
            assertThat(configureFails.failure())
                    .contains("configure threw")
                    .contains("configure refuses to run")
                    .contains("ThrowsInConfigurePlugin.java");
            var portTaken = launcher.daemon("lib-a");
            assertThat(portTaken.state()).isEqualTo(DaemonState.FAILED);
            assertThat(portTaken.failure())
                    .contains("127.0.0.1:" + taken.getLocalPort())
                    .contains("daemons.lib-a.listen")
                    .contains("is in use");
        }
    }

    private static String reason(List<PluginFailure> failures, String file) {
        return failures.stream()
                .filter(f -> f.source().getFileName().toString().equals(file))
                .findFirst()
                .orElseThrow()
                .reason();
    }

    @Test
    void configErrorStopsTheLaunchBeforeAnyPortIsBound() throws Exception {
        Jars.lineEcho(home.plugins());
        int free = TestHome.freePort();
        home.config("""
                daemons.line-echo.listen = "127.0.0.1:%d"
                daemons.echo-b { plugin = line-echo, listen = "127.0.0.1:99999" }
                """.formatted(free));
        assertThatThrownBy(home::start)
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.echo-b.listen")
                .hasMessageContaining("out of range");
        // The valid daemon's port was never bound: we can bind it ourselves.
        try (ServerSocket again = new ServerSocket(free, 50, InetAddress.getLoopbackAddress())) {
            assertThat(again.isBound()).isTrue();
        }
    }

    @Test
    void aLauncherWhoseEveryDaemonFindsItsPortTakenRefusesToStartAndSaysAnotherLauncherIsProbablyRunning()
            throws Exception {
        Jars.lineEcho(home.plugins());
        try (ServerSocket a = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                ServerSocket b = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            home.config("""
                    daemons.line-echo.listen = "127.0.0.1:%d"
                    daemons.echo-b { plugin = line-echo, listen = "127.0.0.1:%d" }
                    """.formatted(a.getLocalPort(), b.getLocalPort()));
            assertThatThrownBy(home::start)
                    .isInstanceOf(Launcher.NothingBound.class)
                    .hasMessageContaining("no daemon could bind its address")
                    .hasMessageContaining(
                            "daemon 'line-echo': 127.0.0.1:" + a.getLocalPort() + " (daemons.line-echo.listen")
                    .hasMessageContaining("daemon 'echo-b': 127.0.0.1:" + b.getLocalPort() + " (daemons.echo-b.listen")
                    .hasMessageContaining("Another launcher is probably running");
        }
    }

    @Test
    void twoListenersOnOneAddressIsAConfigError() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("""
                daemons.line-echo.listen = "127.0.0.1:17999"
                daemons.echo-b { plugin = line-echo, listen = "127.0.0.1:17999" }
                """);
        assertThatThrownBy(home::start)
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("two listeners on tcp 127.0.0.1:17999");
    }

    @Test
    void eachPluginSeesItsOwnVersionOfABundledLibrary() throws Exception {
        Jars.libraryUser(home.plugins(), "a", "1.0");
        Jars.libraryUser(home.plugins(), "b", "2.0");
        home.start();
        try (var a = new LineClient(home.address("lib-a"));
                var b = new LineClient(home.address("lib-b"))) {
            assertThat(a.readLine()).isEqualTo("1.0");
            assertThat(b.readLine()).isEqualTo("2.0");
        }
    }

    @Test
    void anExceptionInAHandlerClosesOnlyThatConnection() throws Exception {
        Jars.lineEcho(home.plugins());
        home.start();
        try (var good = new LineClient(home.address("line-echo"));
                var bad = new LineClient(home.address("line-echo"))) {
            assertThat(good.request("one")).isEqualTo("one");
            bad.send("boom\n");
            assertThat(bad.isClosedByServer()).isTrue();
            assertThat(good.request("two")).isEqualTo("two");
        }
    }

    @Test
    void connectionsBeyondTheLimitAreRefusedAndCounted() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("daemons.line-echo.max-connections = 1\n");
        var launcher = home.start();
        try (var first = new LineClient(home.address("line-echo"))) {
            assertThat(first.request("in")).isEqualTo("in");
            try (var second = new LineClient(home.address("line-echo"))) {
                assertThat(second.isClosedByServer()).isTrue();
            }
            assertThat(first.request("still in")).isEqualTo("still in");
        }
        assertThat(launcher.daemon("line-echo").connections().rejected()).isEqualTo(1);
    }

    @Test
    void idleConnectionsAreClosed() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("daemons.line-echo.idle-timeout = 300 ms\n");
        home.start();
        try (var client = new LineClient(home.address("line-echo"))) {
            assertThat(client.request("hi")).isEqualTo("hi");
            long t0 = System.nanoTime();
            assertThat(client.isClosedByServer()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
        }
    }

    @Test
    void stoppingLetsARequestInFlightFinishAndLongSessionsSayGoodbye() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("daemons.bye { plugin = line-echo, say-goodbye = true }\n");
        var launcher = home.start();
        try (var plain = new LineClient(home.address("line-echo"));
                var session = new LineClient(home.address("bye"))) {
            assertThat(plain.request("warm")).isEqualTo("warm");
            assertThat(session.request("warm")).isEqualTo("warm");
            plain.send("later\n"); // answered 100 ms later by a timer: still in flight when the stop begins
            await().until(() -> launcher.daemon("line-echo").connections().open() == 1);
            CompletableFuture<Void> stop = CompletableFuture.runAsync(launcher::stop);
            assertThat(session.readLine()).isEqualTo("BYE");
            assertThat(session.isClosedByServer()).isTrue();
            assertThat(plain.readLine()).isEqualTo("later");
            assertThat(plain.isClosedByServer()).isTrue();
            stop.get();
            assertThat(launcher.daemon("line-echo").state()).isEqualTo(DaemonState.STOPPED);
        }
        // The listener is closed: nothing accepts on the address any more.
        InetSocketAddress gone = launcher.daemon("line-echo").listeners().get(0).address();
        assertThat(launcher.daemon("line-echo").listeners().get(0).boundAddress())
                .isNull();
        assertThat(gone).isNotNull();
    }

    @Test
    void theDaemonGetsItsConfigLoggerTimersLoopsAndOwnBindingsInjected() throws Exception {
        Jars.injected(home.plugins());
        home.start();
        await().untilAsserted(() -> {
            try (var client = new LineClient(home.address("injected"))) {
                assertThat(client.readLine())
                        .isEqualTo("config=bird log=true loops=true context=true"
                                + " motto=motto of injected events=[started, timer]");
            }
        });
    }

    @Test
    void theNioTransportServesToo() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("daemonkit.transport.native = nio\n");
        var launcher = home.start();
        assertThat(launcher.transport().kind()).isEqualTo("nio");
        try (var client = new LineClient(home.address("line-echo"))) {
            assertThat(client.request("over nio")).isEqualTo("over nio");
        }
    }

    @Test
    void theIoUringTransportServesWhenAskedFor() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.netty.channel.uring.IoUring.isAvailable());
        Jars.lineEcho(home.plugins());
        home.config("daemonkit.transport.native = io_uring\n");
        var launcher = home.start();
        assertThat(launcher.transport().kind()).isEqualTo("io_uring");
        try (var client = new LineClient(home.address("line-echo"))) {
            assertThat(client.request("over io_uring")).isEqualTo("over io_uring");
        }
    }

    @Test
    void closingAConnectionCancelsItsTimers() throws Exception {
        Jars.lineEcho(home.plugins());
        var launcher = home.start();
        var daemon = launcher.daemon("line-echo");
        assertThat(daemon.timersPending()).isZero();
        try (var client = new LineClient(home.address("line-echo"))) {
            assertThat(client.request("hold")).isEqualTo("holding");
            // The connection's idle timer and the hour-long timer it asked for.
            await().until(() -> daemon.timersPending() == 2);
        }
        await().until(() -> daemon.timersPending() == 0);
    }

    @Test
    void everyLineFromAConnectionCarriesItsDaemonConnectionAndPeer() throws Exception {
        var logged = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        var logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("daemon.line-echo");
        logged.start();
        logger.addAppender(logged);
        try {
            Jars.lineEcho(home.plugins());
            home.start();
            try (var a = new LineClient(home.address("line-echo"));
                    var b = new LineClient(home.address("line-echo"))) {
                assertThat(a.request("log")).isEqualTo("logged");
                assertThat(b.request("log")).isEqualTo("logged");
                String peerA = "127.0.0.1:" + a.localPort();
                String peerB = "127.0.0.1:" + b.localPort();
                await().until(() -> logged.list.stream()
                                .filter(e -> e.getFormattedMessage().startsWith("timer"))
                                .count()
                        == 2);
                for (String what : new String[] {"read log", "timer log", "read complete"}) {
                    var events = logged.list.stream()
                            .filter(e -> e.getFormattedMessage().equals(what))
                            .toList();
                    assertThat(events).as(what).hasSizeGreaterThanOrEqualTo(2);
                    assertThat(events)
                            .allSatisfy(e -> assertThat(e.getMDCPropertyMap())
                                    .containsEntry("daemon", "line-echo")
                                    .containsKey("conn")
                                    .containsKey("peer"));
                    assertThat(events)
                            .extracting(e -> e.getMDCPropertyMap().get("peer"))
                            .contains(peerA, peerB);
                }
            }
        } finally {
            logger.detachAppender(logged);
        }
    }
}
