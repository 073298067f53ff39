package dev.daemonkit.internal.timers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.api.Timeout;
import dev.daemonkit.internal.transport.LogScope;
import dev.daemonkit.logging.LogContext;
import dev.daemonkit.timers.EventLoopTimerWheels;
import dev.daemonkit.timers.TimerScope;
import dev.daemonkit.timers.TimerWheelSettings;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** The plugin API's timers as the launcher wires them: context per scope, the node as the handle. */
class ScopedTimersTest {

    private static final DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
    private final EventLoop loop = group.next();
    private final EventLoopTimerWheels wheels =
            EventLoopTimerWheels.create(group, TimerWheelSettings.defaults(), ScopedTimers.NODES);
    private final TimerScope daemonScope = wheels.newScope("echo");

    @AfterEach
    void closeWheels() {
        wheels.close();
    }

    @AfterAll
    static void stopLoops() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private <T> T onLoop(Callable<T> call) throws Exception {
        return loop.submit(call).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aDaemonsTimerRunsInItsLoggingContextAndIsItsOwnHandle() throws Exception {
        ScopedTimers timers = ScopedTimers.ofDaemon(daemonScope, LogScope.of("echo"));
        BlockingQueue<String> seen = new ArrayBlockingQueue<>(1);
        Timeout t = onLoop(() -> timers.schedule(Duration.ofMillis(1), () -> seen.add(MDC.get(LogContext.DAEMON))));
        assertThat(t).as("one object per timer: the node").isInstanceOf(ScopedTimers.ApiTimeout.class);
        assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo("echo");
        assertThat(t.isPending()).isFalse();
        assertThat(t.cancel()).as("cancel of a fired timer").isFalse();
        assertThat(onLoop(() -> MDC.get(LogContext.DAEMON)))
                .as("the context is left on the loop only while the task runs")
                .isNull();
    }

    @Test
    void aConnectionsTimerRunsInTheConnectionsContextAndCountsInTheDaemons() throws Exception {
        ScopedTimers timers =
                ScopedTimers.ofConnection(daemonScope, loop, LogScope.of("echo", "c-17", "127.0.0.1:40000"));
        BlockingQueue<String> seen = new ArrayBlockingQueue<>(1);
        CountDownLatch release = new CountDownLatch(1);
        onLoop(() -> timers.schedule(Duration.ofMillis(1), () -> {
            LogContext.fill(); // what the logging system does before it builds a line
            seen.add(MDC.get(LogContext.CONNECTION) + " " + MDC.get(LogContext.PEER));
            release.countDown();
        }));
        assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo("c-17 127.0.0.1:40000");
        Timeout pendingOne = onLoop(() -> timers.schedule(Duration.ofMinutes(5), () -> {}));
        assertThat(onLoop(daemonScope::pending)).isEqualTo(1);
        timers.close();
        assertThat(onLoop(daemonScope::pending)).isZero();
        assertThat(pendingOne.isPending()).isFalse();
    }

    @Test
    void repeatingTimersAndTimersFromOtherThreadsGetAHandleThatBehavesTheSame() throws Exception {
        ScopedTimers timers = ScopedTimers.ofDaemon(daemonScope, LogScope.of("echo"));
        CountDownLatch ticks = new CountDownLatch(3);
        Timeout repeating = onLoop(() -> timers.scheduleAtFixedRate(Duration.ZERO, Duration.ofMillis(1), () -> {
            if (MDC.get(LogContext.DAEMON).equals("echo")) {
                ticks.countDown();
            }
        }));
        assertThat(ticks.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(repeating.cancel()).isTrue();
        assertThat(repeating.cancel()).isFalse();

        Timeout fromOutside = timers.schedule(Duration.ofMinutes(5), () -> {});
        assertThat(fromOutside).isNotInstanceOf(ScopedTimers.ApiTimeout.class);
        assertThat(fromOutside.isPending()).isTrue();
        assertThat(fromOutside.cancel()).isTrue();
        assertThat(fromOutside.isPending()).isFalse();
    }

    @Test
    void aTaskThatThrowsLeavesNoContextBehindAndTheNextTimerStillRuns() throws Exception {
        ScopedTimers timers = ScopedTimers.ofDaemon(daemonScope, LogScope.of("echo"));
        CountDownLatch next = new CountDownLatch(1);
        onLoop(() -> {
            timers.schedule(Duration.ofMillis(1), () -> {
                throw new IllegalStateException("a plugin's bug");
            });
            return timers.schedule(Duration.ofMillis(2), next::countDown);
        });
        assertThat(next.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(onLoop(() -> MDC.get(LogContext.DAEMON))).isNull();
    }
}
