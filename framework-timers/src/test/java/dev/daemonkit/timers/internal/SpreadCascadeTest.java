package dev.daemonkit.timers.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.timers.TimerWheelSettings;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The next turn's level-1 slot is moved into level 0 a bounded number of timers per tick during the
 * turn before it ({@link Wheel#preCascade}), not all in the tick where its turn starts. Default
 * wheel: 1 ms tick, 256 slots, so tick 1 starts at construction, the next turn is ticks 256-511,
 * and at most 512 timers move per tick. Driven by a hand-moved clock, one tick per expire.
 */
class SpreadCascadeTest {

    private static final long MS = 1_000_000;

    private long now = 555_000_000;
    /** 256 slots per level: the slot sizes and counts below are worked out for it. */
    private final Wheel wheel =
            new Wheel(TimerWheelSettings.defaults().withWheelSize(256), () -> now, new InlineHost());

    private final TimerOwner owner = new TimerOwner(wheel, null, "cache", null);
    private final long start = now;
    private final List<String> ran = new ArrayList<>();
    private final List<Long> ranAtTick = new ArrayList<>();

    /** Schedules a timer whose deadline is exactly the start of {@code tick}. */
    private TimerNode at(long tick, String name) {
        long delay = start + (tick - 1) * MS - now;
        return wheel.schedule(
                owner,
                delay,
                () -> {
                    ran.add(name);
                    ranAtTick.add((now - start) / MS + 1);
                    assertThat(now).as("%s never early", name).isGreaterThanOrEqualTo(start + (tick - 1) * MS);
                },
                0,
                false);
    }

    /** Moves the clock to the start of {@code tick} and expires. */
    private void expireTo(long tick) {
        now = start + (tick - 1) * MS;
        wheel.expire(now);
    }

    private void tickByTickTo(long tick) {
        for (long t = (now - start) / MS + 2; t <= tick; t++) {
            expireTo(t);
        }
    }

    @Test
    void aFullSlotMovesDownOverTheTicksBeforeItsTurnNotInTheTickItStarts() {
        int n = 20_000; // more than 512 a tick can move: spread over 40 ticks
        for (int i = 0; i < n; i++) {
            at(300 + i % 200, "t" + i);
        }
        assertThat(wheel.linkedForNextTurn()).isZero();
        expireTo(1);
        assertThat(wheel.linkedForNextTurn()).isEqualTo(Wheel.PRE_CASCADE_PER_TICK);
        expireTo(2);
        assertThat(wheel.linkedForNextTurn()).isEqualTo(2 * Wheel.PRE_CASCADE_PER_TICK);
        tickByTickTo(255);
        assertThat(wheel.linkedForNextTurn())
                .as("all moved before the turn starts")
                .isEqualTo(n);
        assertThat(ran).isEmpty();

        tickByTickTo(600);
        assertThat(ran).hasSize(n);
        for (int i = 0; i < n; i++) {
            long tick = 300 + i % 200;
            int firstOfTick = (int) (tick - 300);
            // Deadline order, and within a tick the order of scheduling: t(k), t(k+200), t(k+400)...
            int position = (firstOfTick) * (n / 200) + i / 200;
            assertThat(ran.get(position)).isEqualTo("t" + i);
            assertThat(ranAtTick.get(position)).isEqualTo(tick);
        }
        assertThat(wheel.pending()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
    }

    @Test
    void aTimerScheduledIntoTheSlotBeingMovedFiresAfterThoseScheduledBeforeItForTheSameTick() {
        for (int i = 0; i < 2_000; i++) {
            at(400, "early" + i);
        }
        expireTo(1); // 512 of them moved
        assertThat(wheel.linkedForNextTurn()).isEqualTo(Wheel.PRE_CASCADE_PER_TICK);
        at(400, "late");
        at(399, "before");
        tickByTickTo(400);
        assertThat(ran).hasSize(2_002);
        assertThat(ran.get(0)).isEqualTo("before");
        for (int i = 0; i < 2_000; i++) {
            assertThat(ran.get(1 + i)).isEqualTo("early" + i);
        }
        assertThat(ran.get(2_001)).isEqualTo("late");
    }

    @Test
    void cancelAndRescheduleAcrossLevelsWhileASlotIsHalfMovedFireExactlyOnceAtTheirNewTicks() {
        List<TimerNode> nodes = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            nodes.add(at(300, "n" + i));
        }
        expireTo(1); // n0..n511 moved, n512.. still one level up
        TimerNode movedCancelled = nodes.get(10);
        TimerNode unmovedCancelled = nodes.get(900);
        assertThat(movedCancelled.cancel()).isTrue();
        assertThat(unmovedCancelled.cancel()).isTrue();
        // moved -> this turn (level 0), moved -> two turns ahead (level 1), moved -> days ahead (level 3),
        // not moved -> the moved region, a later tick of the next turn
        assertThat(wheel.reschedule(nodes.get(20), start + 99 * MS)).isTrue();
        assertThat(wheel.reschedule(nodes.get(30), start + 599 * MS)).isTrue();
        assertThat(wheel.reschedule(nodes.get(40), start + 3L * 86_400_000 * MS))
                .isTrue();
        assertThat(wheel.reschedule(nodes.get(950), start + 309 * MS)).isTrue();

        tickByTickTo(700);
        assertThat(ran).doesNotContain("n10", "n900", "n40").hasSize(1_000 - 3);
        assertThat(ran.get(0)).isEqualTo("n20");
        assertThat(ranAtTick.get(0)).isEqualTo(100);
        assertThat(ran.get(ran.size() - 1)).isEqualTo("n30");
        assertThat(ranAtTick.get(ran.size() - 1)).isEqualTo(600);
        assertThat(ran.get(ran.size() - 2)).isEqualTo("n950");
        assertThat(ranAtTick.get(ran.size() - 2)).isEqualTo(310);
        assertThat(movedCancelled.isPending()).isFalse();
        assertThat(wheel.pending()).isEqualTo(1); // n40, days away
        nodes.get(40).cancel();
        assertThat(wheel.pending()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
    }

    @Test
    void aTimerParkedBeyondTheSpanKeepsItsRealDeadlineWhenItsSlotIsMovedAheadOfTime() {
        long us = 1_000;
        Wheel fine =
                new Wheel(new TimerWheelSettings(java.time.Duration.ofNanos(us), 256), () -> now, new InlineHost());
        TimerOwner o = new TimerOwner(fine, null, "presence", null);
        long origin = now - us; // tick 1 starts now
        now = origin + 1_100 * us;
        fine.expire(
                now); // base 1100: the parked tick, 1100 + 2^30, lies in turn 4 of its level-1 turn, not on a boundary
        long[] firedAt = {-1};
        TimerNode node = fine.schedule(o, MS, () -> firedAt[0] = now, 0, false);
        long realDue = now + (Wheel.SPAN_TICKS + Wheel.SPAN_TICKS / 2) * us;
        assertThat(fine.reschedule(node, realDue)).isTrue(); // a plain node beyond the span: parked at base + 2^30
        long parkedTick = 1_100 + Wheel.SPAN_TICKS;

        now = origin + (parkedTick - 600) * us;
        fine.expire(now);
        for (long t = parkedTick - 599; t <= parkedTick + 3; t++) {
            now = origin + t * us;
            fine.expire(now);
            if (t == ((parkedTick >>> 8) << 8) - 1) { // the last tick of the turn before the parked tick's
                assertThat(fine.linkedForNextTurn())
                        .as("moved ahead of its turn")
                        .isEqualTo(1);
            }
        }
        assertThat(firedAt[0]).as("not at the parked tick").isEqualTo(-1);
        assertThat(node.isPending()).isTrue();

        now = realDue - us;
        fine.expire(now);
        assertThat(firedAt[0]).isEqualTo(-1);
        now = realDue;
        fine.expire(now);
        assertThat(firedAt[0]).isEqualTo(realDue);
        assertThat(fine.pending()).isZero();
        assertThat(fine.occupiedSlots()).isZero();
    }

    @Test
    void aMillionTimersDueInOneTickFireOnceEachInScheduleOrderThoughTheSlotCannotBeSpreadInTime() {
        int n = 1_000_000; // 255 ticks move 130,560 ahead; the rest cascades when the turn starts
        int[] next = {0};
        int[] outOfOrder = {0};
        for (int i = 0; i < n; i++) {
            int id = i;
            wheel.schedule(
                    owner,
                    start + 299 * MS - now,
                    () -> {
                        if (id != next[0]) {
                            outOfOrder[0]++;
                        }
                        next[0]++;
                    },
                    0,
                    false);
        }
        tickByTickTo(255);
        assertThat(wheel.linkedForNextTurn()).isEqualTo(255 * Wheel.PRE_CASCADE_PER_TICK);
        tickByTickTo(299);
        assertThat(next[0]).isZero();
        tickByTickTo(300);
        assertThat(next[0]).isEqualTo(n);
        assertThat(outOfOrder[0]).isZero();
        assertThat(wheel.pending()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
    }

    @Test
    void aTaskThatThrowsOrSchedulesIntoTheNextTurnWhileItsSlotIsSpreadLosesNothing() {
        for (int i = 0; i < 3_000; i++) {
            at(260 + i % 10, "bulk" + i);
        }
        at(5, "sameTick");
        wheel.schedule(
                owner,
                start + 5 * MS - now,
                () -> {
                    ran.add("scheduler");
                    ranAtTick.add((now - start) / MS + 1);
                    for (int i = 0; i < 600; i++) {
                        at(260, "fromTask" + i);
                    }
                    throw new IllegalStateException("a task that throws after scheduling");
                },
                0,
                false);
        tickByTickTo(300);
        assertThat(ran).contains("scheduler").hasSize(1 + 1 + 3_000 + 600);
        int firstFromTask = ran.indexOf("fromTask0");
        // Tick 260: the 300 bulk timers of that tick, then the ones the task scheduled, in order.
        assertThat(ran.subList(firstFromTask - 300, firstFromTask)).allMatch(s -> s.startsWith("bulk"));
        for (int i = 0; i < 600; i++) {
            assertThat(ran.get(firstFromTask + i)).isEqualTo("fromTask" + i);
            assertThat(ranAtTick.get(firstFromTask + i)).isEqualTo(260);
        }
        assertThat(wheel.pending()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
    }
}
