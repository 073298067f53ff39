package dev.daemonkit.timers.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.timers.TimerWheelSettings;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Timers scheduled from another thread ({@link Wheel#newHandedOverNode}, as {@code ThreadTimerWheel}
 * does): a plain node carrying its deadline tick until the wheel thread links it, or an extended one
 * for delays too long for the tick's low 32 bits. A hand-moved clock and a host on the test's thread.
 */
class HandedOverNodesTest {

    private static final long MS = 1_000_000;

    private long now = 4_321_000_017L;
    private final Wheel wheel = new Wheel(TimerWheelSettings.defaults(), () -> now, new InlineHost());
    private final TimerOwner owner = new TimerOwner(wheel, null, "handed", null);
    private final List<Long> firedAt = new ArrayList<>();

    private TimerNode handOver(long delayNanos) {
        return wheel.newHandedOverNode(owner, () -> firedAt.add(now), now + delayNanos, delayNanos);
    }

    private void advanceAndExpire(long nanos) {
        for (long step = 0; step < nanos; step += 100_000) {
            now += 100_000;
            wheel.expire(now);
        }
    }

    @Test
    void aHandedOverTimerIsAPlainNodeThatFiresWithinATickOfItsDeadlineNeverEarly() {
        long due = now + 5 * MS;
        TimerNode node = handOver(5 * MS);
        assertThat(node.isExtended())
                .as("32 bytes, like a timer scheduled on the wheel's thread")
                .isFalse();
        assertThat(wheel.pending())
                .as("not counted before the wheel thread links it")
                .isZero();
        wheel.linkHandedOver(node);
        assertThat(wheel.pending()).isEqualTo(1);
        advanceAndExpire(10 * MS);
        assertThat(firedAt).hasSize(1);
        assertThat(firedAt.get(0)).isGreaterThanOrEqualTo(due).isLessThanOrEqualTo(due + MS + 100_000);
        assertThat(wheel.pending()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
    }

    @Test
    void aHandedOverTimerLinkedAfterItsDeadlinePassedFiresAtTheNextTick_whenTheWheelThreadIsLate() {
        TimerNode node = handOver(MS);
        advanceAndExpire(20 * MS); // the wheel thread was busy: its deadline tick is behind the wheel now
        assertThat(firedAt).isEmpty();
        long linkedAt = now;
        wheel.linkHandedOver(node);
        assertThat(firedAt).as("linking never runs a task").isEmpty();
        assertThat(wheel.nextWakeNanos()).isGreaterThan(linkedAt).isLessThanOrEqualTo(linkedAt + MS);
        advanceAndExpire(MS + 100_000);
        assertThat(firedAt).hasSize(1);
        assertThat(firedAt.get(0)).isLessThanOrEqualTo(linkedAt + MS + 100_000);
        assertThat(wheel.pending()).isZero();
    }

    @Test
    void aHandedOverTimerCancelledBeforeItIsLinkedNeverFiresNorCounts_whenTheCancelWinsTheRace() {
        TimerNode node = handOver(2 * MS);
        assertThat(node.cancel()).isTrue();
        wheel.linkHandedOver(node);
        advanceAndExpire(5 * MS);
        assertThat(firedAt).isEmpty();
        assertThat(wheel.pending()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
        assertThat(node.cancel()).as("idempotent").isFalse();
    }

    @Test
    void aHandedOverTimerTooFarForItsTickToFitKeepsItsExactDeadline_whenTheDelayIsHalfTheSpanOrMore() {
        long delay = (Wheel.SPAN_TICKS >> 1) * MS; // 6.2 days at 1 ms
        TimerNode far = handOver(delay);
        TimerNode near = handOver((Wheel.SPAN_TICKS >> 1) * MS - MS);
        assertThat(far.isExtended()).isTrue();
        assertThat(near.isExtended()).isFalse();
        wheel.linkHandedOver(far);
        wheel.linkHandedOver(near);
        assertThat(wheel.pending()).isEqualTo(2);
        assertThat(wheel.nextWakeNanos()).isGreaterThan(now);
        assertThat(far.cancel()).isTrue();
        assertThat(near.cancel()).isTrue();
        assertThat(wheel.pending()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
    }

    @Test
    void handedOverTimersOfOneTickRunInTheOrderTheyWereLinked() {
        List<String> ran = new ArrayList<>();
        TimerNode a = wheel.newHandedOverNode(owner, () -> ran.add("a"), now + 3 * MS, 3 * MS);
        TimerNode b = wheel.newHandedOverNode(owner, () -> ran.add("b"), now + 3 * MS, 3 * MS);
        wheel.linkHandedOver(a);
        wheel.linkHandedOver(b);
        advanceAndExpire(5 * MS);
        assertThat(ran).containsExactly("a", "b");
    }
}
