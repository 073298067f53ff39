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

    /** The wheel's thread, found by its name: to wait until it sleeps. */
    private static Thread threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(name))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void aTimerScheduledFromAnotherThreadWhileTheWheelSleepsUntilAFarOneWakesItAndFiresOnTime() throws Exception {
        try (ThreadTimerWheel wheel = new ThreadTimerWheel("timers-far-sleep", TimerWheelSettings.defaults())) {
            AtomicInteger farRuns = new AtomicInteger();
            wheel.schedule(Duration.ofHours(1), farRuns::incrementAndGet);
            Thread thread = threadNamed("timers-far-sleep");
            // Linked, and the thread parked until the hour is up.
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> wheel.pending() == 1 && thread.getState() == Thread.State.TIMED_WAITING);
            long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2);
            CountDownLatch fired = new CountDownLatch(1);
            AtomicReference<Long> firedAt = new AtomicReference<>();
            wheel.schedule(Duration.ofMillis(2), () -> {
                firedAt.set(System.nanoTime());
                fired.countDown();
            });
            // Without the wake-up on an earlier insert it would wait for the hour.
            assertThat(fired.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(firedAt.get()).isGreaterThanOrEqualTo(due);
            assertThat(farRuns.get()).isZero();
            assertThat(wheel.pending()).isEqualTo(1);
        }
    }

    @Test
    void aTimerHandedOverWhileTheWheelThreadIsStuckInATaskFiresOnceItIsFreeAndACancelledOneNever_whenATaskBlocks()
            throws Exception {
        try (ThreadTimerWheel wheel = new ThreadTimerWheel("timers-stuck", TimerWheelSettings.defaults())) {
            CountDownLatch inTask = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            wheel.schedule(Duration.ZERO, () -> {
                inTask.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(inTask.await(5, TimeUnit.SECONDS)).isTrue();
            // Both wait in the hand-over queue: the wheel's thread is inside the task.
            long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1);
            AtomicReference<Long> firedAt = new AtomicReference<>();
            CountDownLatch fired = new CountDownLatch(1);
            wheel.schedule(Duration.ofMillis(1), () -> {
                firedAt.set(System.nanoTime());
                fired.countDown();
            });
            AtomicInteger cancelledRuns = new AtomicInteger();
            Timeout cancelled = wheel.schedule(Duration.ofMillis(1), cancelledRuns::incrementAndGet);
            assertThat(cancelled.cancel()).isTrue();
            // Its deadline passes while the thread is stuck: linked late, it must still fire, and not early.
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> System.nanoTime() - due > TimeUnit.MILLISECONDS.toNanos(5));
            release.countDown();
            assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(firedAt.get()).isGreaterThanOrEqualTo(due);
            CountDownLatch marker = new CountDownLatch(1);
            wheel.schedule(Duration.ofMillis(3), marker::countDown); // runs after the cancelled one's deadline
            assertThat(marker.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(cancelledRuns.get()).isZero();
            assertThat(wheel.pending()).isZero();
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
