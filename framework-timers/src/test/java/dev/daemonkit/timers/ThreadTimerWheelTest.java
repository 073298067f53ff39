package dev.daemonkit.timers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ThreadTimerWheelTest {

    @Test
    void tasksRunOnTheWheelsOwnThreadNeverEarly() throws Exception {
        try (ThreadTimerWheel wheel = new ThreadTimerWheel("timers-test", TimerWheelSettings.defaults())) {
            AtomicReference<String> thread = new AtomicReference<>();
            long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3);
            AtomicReference<Long> firedAt = new AtomicReference<>();
            wheel.schedule(Duration.ofMillis(3), () -> {
                thread.set(Thread.currentThread().getName());
                firedAt.set(System.nanoTime());
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> firedAt.get() != null);
            assertThat(thread.get()).isEqualTo("timers-test");
            assertThat(firedAt.get()).isGreaterThanOrEqualTo(due);
        }
    }

    @Test
    void aCancelledTimerNeverFiresAndRepeatingOnesKeepGoing() throws Exception {
        try (ThreadTimerWheel wheel = new ThreadTimerWheel("timers-test", TimerWheelSettings.defaults())) {
            AtomicInteger cancelledRuns = new AtomicInteger();
            Timeout t = wheel.schedule(Duration.ofMillis(5), cancelledRuns::incrementAndGet);
            assertThat(t.cancel()).isTrue();
            CountDownLatch ticks = new CountDownLatch(5);
            Timeout rate = wheel.scheduleAtFixedRate(Duration.ofMillis(1), Duration.ofMillis(2), ticks::countDown);
            assertThat(ticks.await(5, TimeUnit.SECONDS)).isTrue(); // 10 ms have passed: past the cancelled deadline
            assertThat(rate.cancel()).isTrue();
            assertThat(cancelledRuns.get()).isZero();
            await().atMost(Duration.ofSeconds(5)).until(() -> wheel.pending() == 0);
            assertThat(wheel.lateness().count()).isGreaterThanOrEqualTo(5);
        }
    }

    @Test
    void closeStopsTheThread() {
        ThreadTimerWheel wheel = new ThreadTimerWheel("timers-closing", TimerWheelSettings.defaults());
        wheel.schedule(Duration.ofHours(1), () -> {});
        wheel.close();
        wheel.close();
        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().equals("timers-closing"));
    }

    @Test
    void closeReleasesThePendingTasks() {
        ThreadTimerWheel wheel = new ThreadTimerWheel("timers-releasing", TimerWheelSettings.defaults());
        Object payload = new Object();
        WeakReference<Object> ref = new WeakReference<>(payload);
        Runnable task = payload::hashCode; // the task holds the payload
        wheel.schedule(Duration.ofHours(1), task);
        payload = null;
        task = null;
        wheel.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return ref.get() == null;
        });
        assertThat(wheel.pending()).isZero();
    }
}
