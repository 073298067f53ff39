package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code daemonkit.timers.loop-slack}: the event loop threads' timer slack, what a user gets on Linux and what a
 * machine that does not let it be set (no procfs, a sandbox) gets.
 */
class LoopTimerSlackTest {
    private static final Path PROC = Path.of("/proc");

    @TempDir
    Path notProc;

    private static void assumeLinuxWithThreadSelf() {
        assumeTrue(Files.isSymbolicLink(PROC.resolve("thread-self")), "no /proc/thread-self here (not Linux 3.17+)");
    }

    private static long slackOn(EventLoopGroup loops) throws Exception {
        return loops.next().submit(() -> LoopTimerSlack.ofThisThread(PROC)).get(10, TimeUnit.SECONDS);
    }

    @Test
    void theSharedLoopsAndADaemonsOwnLoopsRunWithTheConfiguredSlack() throws Exception {
        assumeLinuxWithThreadSelf();
        try (Transport t = Transport.create("auto", 1, false, 0, Duration.ofNanos(2_000))) {
            assertThat(slackOn(t.workers())).isEqualTo(2_000);
            EventLoopGroup own = t.newDaemonLoops("slack", 1);
            try {
                assertThat(slackOn(own)).isEqualTo(2_000);
            } finally {
                own.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
        }
    }

    @Test
    void zeroLeavesTheThreadsTheSlackTheyInherit() throws Exception {
        assumeLinuxWithThreadSelf();
        ThreadFactory made = Thread::new;
        assertThat(new LoopTimerSlack(Duration.ZERO).threads(made)).isSameAs(made);
        long inherited = LoopTimerSlack.ofThisThread(PROC);
        try (Transport t = Transport.create("auto", 1, false, 0, Duration.ZERO)) {
            assertThat(slackOn(t.workers())).isEqualTo(inherited);
        }
    }

    @Test
    void faultASlackThatCannotBeSetWarnsOnceAndTheLoopThreadsStillRunTheirTasks() throws Exception {
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(LoopTimerSlack.class);
        logged.start();
        logger.addAppender(logged);
        try {
            // A folder without procfs in it: what a thread sees where /proc is not mounted or not Linux's.
            LoopTimerSlack slack = new LoopTimerSlack(Duration.ofNanos(1_000), notProc);
            ThreadFactory threads = slack.threads(Thread::new);
            AtomicLong ran = new AtomicLong();
            for (int i = 0; i < 3; i++) {
                CountDownLatch done = new CountDownLatch(1);
                threads.newThread(() -> {
                            ran.incrementAndGet();
                            done.countDown();
                        })
                        .start();
                assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(ran).hasValue(3);
            assertThat(logged.list).hasSize(1);
            assertThat(logged.list.get(0).getFormattedMessage())
                    .contains("daemonkit.timers.loop-slack = 1.0 us")
                    .contains(notProc.resolve("thread-self").toString())
                    .contains("set daemonkit.timers.loop-slack = 0");
        } finally {
            logger.detachAppender(logged);
        }
    }
}
