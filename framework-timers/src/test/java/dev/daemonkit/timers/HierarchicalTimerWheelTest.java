package dev.daemonkit.timers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

class HierarchicalTimerWheelTest {

    private static final long MS = 1_000_000;

    private final ManualClock clock = new ManualClock(123_456_789);
    private final HierarchicalTimerWheel wheel = new HierarchicalTimerWheel(TimerWheelSettings.defaults(), clock);
    private final List<String> ran = new ArrayList<>();

    @Test
    void timersFireInDeadlineOrderAndWithinATickInScheduleOrder() {
        wheel.schedule(Duration.ofMillis(300), () -> ran.add("c"));
        wheel.schedule(Duration.ofMillis(5), () -> ran.add("a1"));
        wheel.schedule(Duration.ofNanos(5 * MS - 10), () -> ran.add("a2")); // same tick as a1
        wheel.schedule(Duration.ofSeconds(70), () -> ran.add("d")); // two levels up
        wheel.schedule(Duration.ofMillis(7), () -> ran.add("b"));

        clock.advance(TimeUnit.SECONDS.toNanos(71));
        wheel.expire();

        assertThat(ran).containsExactly("a1", "a2", "b", "c", "d");
    }

    @Test
    void aTimerNeverFiresBeforeItsDeadlineAndAtMostOneTickAfter() {
        long due = clock.getAsLong() + 2_500_000; // 2.5 ms, mid-tick
        long[] firedAt = {-1};
        wheel.schedule(Duration.ofNanos(2_500_000), () -> firedAt[0] = clock.getAsLong());
        for (int i = 0; i < 5_000 && firedAt[0] < 0; i++) {
            clock.advance(1_000);
            wheel.expire();
        }
        assertThat(firedAt[0]).isGreaterThanOrEqualTo(due).isLessThanOrEqualTo(due + MS);
    }

    @Test
    void aThrowingTaskIsLoggedWithItsOwnerAndTheOthersStillRun() {
        HierarchicalTimerWheel named = new HierarchicalTimerWheel(TimerWheelSettings.defaults(), clock, "echo-b");
        named.schedule(Duration.ofMillis(1), () -> ran.add("before"));
        named.schedule(Duration.ofMillis(1), () -> {
            throw new IllegalStateException("boom");
        });
        named.scheduleAtFixedRate(Duration.ofMillis(1), Duration.ofMillis(1), () -> {
            ran.add("tick");
            throw new IllegalStateException("again");
        });
        named.schedule(Duration.ofMillis(1), () -> ran.add("after"));
        try (LogCapture log = new LogCapture()) {
            clock.advance(2 * MS);
            named.expire();
            clock.advance(MS);
            named.expire();
            assertThat(log.messages())
                    .anySatisfy(m -> assertThat(m).contains("echo-b").contains("boom"));
        }
        assertThat(ran).containsExactly("before", "tick", "after", "tick");
        assertThat(named.pending()).isEqualTo(1);
    }

    @Test
    void cancelIsIdempotentAndACancelledTimerNeverFires() {
        Timeout t = wheel.schedule(Duration.ofMillis(3), () -> ran.add("x"));
        assertThat(t.cancel()).isTrue();
        assertThat(t.cancel()).isFalse();
        assertThat(t.isPending()).isFalse();
        assertThat(t.reschedule(Duration.ofMillis(1))).isFalse();
        assertThat(wheel.pending()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
        clock.advance(10 * MS);
        wheel.expire();
        assertThat(ran).isEmpty();
    }

    @Test
    void rescheduleIsTheHeartbeatPatternAndFailsOnceFired() {
        Timeout idle = wheel.schedule(Duration.ofMillis(10), () -> ran.add("idle"));
        for (int i = 0; i < 50; i++) {
            clock.advance(5 * MS);
            wheel.expire();
            assertThat(idle.reschedule(Duration.ofMillis(10))).isTrue();
        }
        assertThat(ran).isEmpty();
        clock.advance(11 * MS);
        wheel.expire();
        assertThat(ran).containsExactly("idle");
        assertThat(idle.reschedule(Duration.ofMillis(10))).isFalse();
        assertThat(idle.isPending()).isFalse();
    }

    @Test
    void fixedDelayCountsFromTheEndOfEachRunAndATaskMayCancelItself() {
        Timeout[] self = new Timeout[1];
        self[0] = wheel.scheduleWithFixedDelay(Duration.ofMillis(2), Duration.ofMillis(3), () -> {
            ran.add("run@" + (clock.getAsLong() - 123_456_789) / MS);
            if (ran.size() == 3) {
                self[0].cancel();
            }
        });
        for (int i = 0; i < 20; i++) {
            clock.advance(MS);
            wheel.expire();
        }
        assertThat(ran).containsExactly("run@2", "run@5", "run@8");
        assertThat(wheel.pending()).isZero();
    }

    @Test
    void delaysOfDaysAndBeyondTheSpanFireOnTime() {
        long[] firedAt = {-1};
        long start = clock.getAsLong();
        wheel.schedule(Duration.ofDays(40), () -> firedAt[0] = clock.getAsLong()); // beyond 2^30 ms
        Timeout pushed = wheel.schedule(Duration.ofMillis(1), () -> ran.add("pushed"));
        pushed.reschedule(Duration.ofDays(30));
        for (int day = 1; day <= 41; day++) {
            clock.set(start + TimeUnit.DAYS.toNanos(day));
            wheel.expire();
            if (day < 30) {
                assertThat(ran).isEmpty();
            }
            if (day < 40) {
                assertThat(firedAt[0]).isEqualTo(-1);
            }
        }
        assertThat(ran).containsExactly("pushed");
        assertThat(firedAt[0]).isEqualTo(start + TimeUnit.DAYS.toNanos(40));
        assertThat(wheel.pending()).isZero();
    }

    @Test
    void aMillionScheduleAndCancelCyclesRetainNothing() {
        List<WeakReference<Runnable>> cancelledTasks = new ArrayList<>();
        Timeout keep = wheel.schedule(Duration.ofHours(1), () -> ran.add("kept"));
        for (int i = 0; i < 1_000_000; i++) {
            Runnable task = () -> ran.add("never");
            Timeout t = wheel.schedule(Duration.ofMillis(1 + (i % 100_000)), task);
            t.cancel();
            if (i % 100_000 == 0) {
                cancelledTasks.add(new WeakReference<>(task));
            }
            if (i % 1000 == 0) {
                clock.advance(MS / 3);
                wheel.expire();
            }
        }
        assertThat(wheel.pending()).isEqualTo(1);
        assertThat(wheel.occupiedSlots()).isEqualTo(1); // only the kept timer's slot
        assertThat(keep.isPending()).isTrue();
        // The wheel holds no cancelled node, so nothing keeps their tasks reachable.
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return cancelledTasks.stream().allMatch(r -> r.get() == null);
        });
        assertThat(ran).isEmpty();
    }

    @Test
    void atTheDefaultSizeATimerWithinASecondIsNeverCascadedSoItsWheelWakesOnlyAtItsDeadline() {
        assertThat(wakesUntilFired(TimerWheelSettings.defaults(), 999)).isEqualTo(1);
        // Fault the default would bring back: at 256 slots the same timer sits a level up and the wheel
        // wakes before its deadline to move it down (a cascade: the CPU that made expiry dearer than Agrona's).
        assertThat(wakesUntilFired(TimerWheelSettings.defaults().withWheelSize(256), 999))
                .isGreaterThan(1);
    }

    /** Follows the wheel's own next-work time until a timer {@code millis} away has fired; counts the wakes. */
    private static int wakesUntilFired(TimerWheelSettings settings, long millis) {
        ManualClock time = new ManualClock(987_654_321);
        HierarchicalTimerWheel w = new HierarchicalTimerWheel(settings, time);
        boolean[] fired = {false};
        w.schedule(Duration.ofMillis(millis), () -> fired[0] = true);
        int wakes = 0;
        while (!fired[0] && wakes < 100) {
            long next = w.nextDeadlineNanos();
            assertThat(next).isNotEqualTo(Long.MAX_VALUE);
            time.advance(Math.max(0, next - time.getAsLong()));
            w.expire();
            wakes++;
        }
        assertThat(fired[0]).isTrue();
        return wakes;
    }

    @Test
    void badSettingsAreRefusedWithTheValueAndTheRule() {
        assertThatThrownBy(() -> new TimerWheelSettings(Duration.ofMillis(1), 100))
                .hasMessageContaining("100")
                .hasMessageContaining("power of two");
        assertThatThrownBy(() -> new TimerWheelSettings(Duration.ofNanos(10), 256))
                .hasMessageContaining("PT0.00000001S")
                .hasMessageContaining("1 microsecond");
        assertThatThrownBy(() -> wheel.scheduleAtFixedRate(Duration.ZERO, Duration.ZERO, () -> {}))
                .hasMessageContaining("must be positive");
    }

    @Test
    void nextDeadlineIsTheNextTickWithWorkOrNothing() {
        assertThat(wheel.nextDeadlineNanos()).isEqualTo(Long.MAX_VALUE);
        long now = clock.getAsLong();
        Timeout t = wheel.schedule(Duration.ofMillis(3), () -> {});
        assertThat(wheel.nextDeadlineNanos()).isBetween(now + 3 * MS, now + 4 * MS);
        t.cancel();
        assertThat(wheel.nextDeadlineNanos()).isEqualTo(Long.MAX_VALUE);
    }
}
