package dev.daemonkit.timers.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.timers.TimerWheelSettings;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import org.junit.jupiter.api.Test;

/**
 * The event loops' fast path: one-shot timers scheduled on the wheel's thread wait in the turn's
 * list until the turn ends ({@link Wheel#flushDeferred}), driven here by a host whose "turn" ends
 * when the test runs the queued tasks, and a hand-moved clock.
 */
class DeferredLinksTest {

    private static final long MS = 1_000_000;

    private long now = 987_654_321;
    private final Queue<Runnable> queued = new ArrayDeque<>();
    private final Wheel wheel = new Wheel(TimerWheelSettings.defaults(), () -> now, new Wheel.Host() {
        @Override
        public boolean inHostThread() {
            return true;
        }

        @Override
        public void execute(Runnable task) {
            queued.add(task);
        }

        @Override
        public void wakeAt(long deadlineNanos) {}

        @Override
        public boolean defersLinks() {
            return true;
        }
    });
    private final TimerOwner owner = new TimerOwner(wheel, null, "echo", null);
    private final List<String> ran = new ArrayList<>();

    private TimerNode schedule(long delayNanos, String name) {
        return wheel.schedule(owner, delayNanos, () -> ran.add(name), 0, false);
    }

    /** The loop's turn ends: what the wheel queued (its flush) runs. */
    private void endTurn() {
        Runnable r;
        while ((r = queued.poll()) != null) {
            r.run();
        }
    }

    private void advanceAndExpire(long nanos) {
        for (long step = 0; step < nanos; step += 100_000) {
            now += 100_000;
            wheel.expire(now);
        }
    }

    @Test
    void aTimerScheduledInATurnCountsItsDelayFromTheTurnsEndAndIsNeverEarly() {
        long scheduledAt = now;
        long[] firedAt = {-1};
        wheel.schedule(owner, 5 * MS, () -> firedAt[0] = now, 0, false);
        assertThat(wheel.pending()).isEqualTo(1);
        assertThat(wheel.occupiedSlots())
                .as("not in a slot before the turn ends")
                .isZero();
        now += 3 * MS; // the rest of the turn
        long flushedAt = now;
        endTurn();
        advanceAndExpire(10 * MS);
        assertThat(firedAt[0])
                .isGreaterThanOrEqualTo(scheduledAt + 5 * MS)
                .isGreaterThanOrEqualTo(flushedAt + 5 * MS)
                .isLessThanOrEqualTo(flushedAt + 5 * MS + MS + 100_000);
    }

    @Test
    void aTimerCancelledInTheTurnItWasScheduledInNeverFiresNorReachesASlot() {
        TimerNode t = schedule(5 * MS, "cancelled");
        assertThat(t.cancel()).isTrue();
        assertThat(t.cancel()).as("idempotent").isFalse();
        assertThat(wheel.pending()).isZero();
        endTurn();
        assertThat(wheel.linked()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
        advanceAndExpire(10 * MS);
        assertThat(ran).isEmpty();
    }

    @Test
    void aFloodOfTimersCancelledInTheirTurnLeavesNothingLinkedNorReferenced() {
        for (int i = 0; i < 100_000; i++) {
            schedule(30_000 * MS, "flood").cancel();
        }
        assertThat(queued).as("one flush per turn, not one per timer").hasSize(1);
        endTurn();
        assertThat(wheel.linked()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
    }

    @Test
    void cancelOfAFiredTimerReturnsFalseAndChangesNothing() {
        TimerNode fired = schedule(2 * MS, "fired");
        TimerNode later = schedule(4 * MS, "later");
        endTurn();
        advanceAndExpire(3 * MS);
        assertThat(ran).containsExactly("fired");
        assertThat(fired.cancel()).isFalse();
        assertThat(fired.isPending()).isFalse();
        assertThat(wheel.pending()).isEqualTo(1);
        advanceAndExpire(3 * MS);
        assertThat(ran).containsExactly("fired", "later");
        assertThat(later.cancel()).isFalse();
    }

    @Test
    void timersOfOneTickKeepTheirScheduleOrderAcrossTheTurnsListAndImmediateLinks() {
        TimerNode b = schedule(60_000 * MS, "b"); // to be moved next to a
        endTurn();
        schedule(5 * MS, "a"); // waits in the turn's list
        wheel.reschedule(b, now + 5 * MS); // links at once: the list is flushed first
        schedule(5 * MS, "c");
        endTurn();
        advanceAndExpire(7 * MS);
        assertThat(ran).containsExactly("a", "b", "c");
    }

    @Test
    void rescheduleOfATimerStillInTheTurnMovesItAcrossLevelsAndBack() {
        TimerNode t = schedule(5 * MS, "moved");
        assertThat(wheel.reschedule(t, now + 70_000 * MS)).isTrue(); // two levels up
        endTurn();
        advanceAndExpire(10 * MS);
        assertThat(ran).isEmpty();
        assertThat(wheel.reschedule(t, now + 2 * MS)).isTrue(); // back to level 0
        advanceAndExpire(4 * MS);
        assertThat(ran).containsExactly("moved");
        assertThat(wheel.pending()).isZero();
    }

    @Test
    void theTimersOfAnOwnerClosedBeforeTheTurnEndsNeverFireAndAreDropped() {
        schedule(1 * MS, "x");
        schedule(2 * MS, "y");
        wheel.close(owner);
        assertThat(wheel.pending()).isZero();
        endTurn();
        assertThat(wheel.linked())
                .as("dropped by the flush, not kept until a sweep")
                .isZero();
        advanceAndExpire(5 * MS);
        assertThat(ran).isEmpty();
    }

    @Test
    void aTaskSchedulingManyTimersLinksThemEverySixtyFourSoNoneWaitsForTheTurnsEnd() {
        for (int i = 0; i < Wheel.DEFER_LIMIT - 1; i++) {
            schedule(5 * MS, "batch");
        }
        assertThat(wheel.occupiedSlots()).isZero();
        schedule(5 * MS, "batch");
        assertThat(wheel.occupiedSlots())
                .as("linked without waiting for the turn's end")
                .isEqualTo(1);
        assertThat(wheel.pending()).isEqualTo(Wheel.DEFER_LIMIT);
        now += 6 * MS;
        wheel.expire(now);
        assertThat(ran).hasSize(Wheel.DEFER_LIMIT);
    }

    @Test
    void anExpireFlushesTheTurnFirstSoNoTimerIsLeftBehind() {
        schedule(0, "due");
        now += 2 * MS;
        wheel.expire(now); // e.g. the loop's armed task ran before the queued flush
        now += MS;
        wheel.expire(now);
        assertThat(ran).containsExactly("due");
    }
}
