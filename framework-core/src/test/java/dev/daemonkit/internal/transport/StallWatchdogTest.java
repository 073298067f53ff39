package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

class StallWatchdogTest {
    private static final Pattern RUNNING_AGAIN =
            Pattern.compile("(?s).*running again after being blocked for about (\\d+) ms.*");

    @RegisterExtension
    final TestHome home = new TestHome();

    /** Appended to by the watchdog's and the loops' threads while the test thread reads: a list safe for that. */
    final ListAppender<ILoggingEvent> logged = new ListAppender<>() {
        {
            list = new java.util.concurrent.CopyOnWriteArrayList<>();
        }
    };

    final Logger logger = (Logger) LoggerFactory.getLogger(StallWatchdog.class);

    @BeforeEach
    void setUp() throws Exception {
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void tearDown() {
        logger.detachAppender(logged);
    }

    @Test
    void aHandlerThatBlocksItsEventLoopIsReportedOnceWithDaemonAndStack() throws Exception {
        blockedLoopIsReported("");
    }

    @Test
    void aHandlerThatBlocksAnIoUringEventLoopIsReportedToo() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.netty.channel.uring.IoUring.isAvailable());
        blockedLoopIsReported("daemonkit.transport.native = io_uring\n");
        assertThat(home.launcher().transport().kind()).isEqualTo("io_uring");
    }

    @Test
    void faultALoopBlockedBeforeTheWatchdogsFirstProbeReachedItIsReportedWithItsStack() throws Exception {
        // What a CI run met: the watchdog's first round came while the handler already blocked the loop, so
        // no probe had ever run there to tell the watchdog which thread it was.
        var group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        var blocking = new java.util.concurrent.CountDownLatch(1);
        var release = new java.util.concurrent.CountDownLatch(1);
        try {
            group.next().execute(() -> {
                blocking.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(blocking.await(10, java.util.concurrent.TimeUnit.SECONDS))
                    .isTrue();
            try (var watchdog = new StallWatchdog(group, Duration.ofMillis(100))) {
                await().atMost(Duration.ofSeconds(10)).until(() -> watchdog.stalls() >= 1);
                // The stall is counted just before its line is logged: wait for the line too (a CI run read
                // the list in between).
                await().atMost(Duration.ofSeconds(10))
                        .untilAsserted(() -> assertThat(logged.list)
                                .map(ILoggingEvent::getFormattedMessage)
                                .anySatisfy(m -> assertThat(m)
                                        .contains("has been blocked")
                                        .contains("CountDownLatch.await")));
                release.countDown();
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> logged.list.stream()
                                .anyMatch(e -> RUNNING_AGAIN
                                        .matcher(e.getFormattedMessage())
                                        .matches()));
            }
        } finally {
            release.countDown();
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS)
                    .syncUninterruptibly();
        }
    }

    private void blockedLoopIsReported(String transport) throws Exception {
        Jars.versioned(home.plugins(), "v1");
        // The block is long against the watchdog's pace (a round every threshold / 4): a watchdog thread descheduled
        // for a few hundred ms on a busy machine still sees it.
        home.config(transport + "daemons.ver.block-ms = 1200\n");
        var launcher = home.start();
        try (var watchdog = new StallWatchdog(launcher.transport().workers(), Duration.ofMillis(150));
                var client = new LineClient(home.address("ver"))) {
            // Warm up first: Netty's first buffer allocation registers JFR events, a stall of its own.
            assertThat(client.request("warm")).isEqualTo("v1:warm");
            assertThat(client.request("block")).isEqualTo("v1:block");
            // The stall is timed from when the watchdog queued its probe, so it reads somewhat less than the block;
            // at least the threshold is all a watchdog that fell behind can promise.
            try {
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> logged.list.stream()
                                .map(e -> RUNNING_AGAIN.matcher(e.getFormattedMessage()))
                                .anyMatch(m -> m.matches() && Long.parseLong(m.group(1)) >= 150));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                // Say what the watchdog saw: a CI run failed here on io_uring only, and not on this machine.
                throw new AssertionError(
                        "no 'running again' line within 10 s; stalls counted " + watchdog.stalls()
                                + ", stalled now " + watchdog.stalledNow() + ", lines logged: "
                                + logged.list.stream()
                                        .map(l -> l.getThreadName() + ": "
                                                + l.getFormattedMessage()
                                                        .lines()
                                                        .findFirst()
                                                        .orElse(""))
                                        .toList(),
                        e);
            }
            // One report for our deliberate block (other, real stalls such as Netty's one-time JFR setup may be
            // reported too).
            var reports = logged.list.stream()
                    .filter(e -> e.getFormattedMessage().contains("has been blocked")
                            && e.getFormattedMessage().contains("Thread.sleep"))
                    .toList();
            assertThat(reports).hasSize(1);
            assertThat(reports.get(0).getFormattedMessage())
                    .contains("daemon 'ver'")
                    .contains("code of plugin file ver is on the stack")
                    .contains("VersionedEchoPlugin")
                    .contains("Thread.sleep");
            assertThat(watchdog.stalls()).isGreaterThanOrEqualTo(1);
        }
    }
}
