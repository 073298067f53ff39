package dev.daemonkit.timers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Holds {@link HierarchicalTimerWheel} against a priority queue under random schedule, cancel,
 * reschedule and clock moves. The model is the wheel's specification: a timer fires at the first
 * {@code expire()} whose tick has reached its deadline rounded up to the tick grid (and never in a
 * tick already expired), timers of one expire fire in deadline-tick order, and within a tick in the
 * order they were scheduled; never before their deadline.
 */
class WheelAgainstPriorityQueueProperties {

    sealed interface Step permits Schedule, Cancel, Reschedule, Advance {}

    record Schedule(long delayNanos, long periodNanos) implements Step {}

    record Cancel(int which) implements Step {}

    record Reschedule(int which, long delayNanos) implements Step {}

    record Advance(long nanos) implements Step {}

    /** What the model knows of one timer. */
    static final class Model {
        final int id;
        final long periodNanos;
        long dueNanos;
        long fireTick;
        long seq;
        boolean pending = true;
        /** Linked more than the span (2^30 ticks) ahead: parked at the span's edge, it may fire after timers scheduled later for the same tick. */
        boolean far;

        Model(int id, long periodNanos) {
            this.id = id;
            this.periodNanos = periodNanos;
        }
    }

    @Property(tries = 1000)
    void wheelFiresExactlyWhatTheReferenceModelFires(
            @ForAll("ticks") long tickNanos,
            @ForAll("wheelSizes") int wheelSize,
            @ForAll @LongRange(min = 0, max = 1L << 33) long startTick,
            @ForAll @LongRange(min = -1_000_000_000_000L, max = 1_000_000_000_000L) long clockStart,
            @ForAll("steps") List<Step> steps) {
        ManualClock clock = new ManualClock(clockStart);
        HierarchicalTimerWheel wheel =
                new HierarchicalTimerWheel(new TimerWheelSettings(Duration.ofNanos(tickNanos), wheelSize), clock);
        long origin = clockStart - tickNanos;
        // Start anywhere in the tick space, including near 2^32 where the top level wraps.
        clock.advance(startTick * tickNanos);
        wheel.expire();
        long lastTick = Math.floorDiv(clock.getAsLong() - origin, tickNanos);

        List<Timeout> handles = new ArrayList<>();
        List<Model> models = new ArrayList<>();
        Map<Integer, Model> byId = new HashMap<>();
        PriorityQueue<Model> queue = new PriorityQueue<>(
                Comparator.comparingLong((Model m) -> m.fireTick).thenComparingLong(m -> m.seq));
        List<long[]> fired = new ArrayList<>(); // {id, clock at run}
        long[] seq = {0};

        for (Step step : steps) {
            long now = clock.getAsLong();
            if (step instanceof Schedule s) {
                int id = models.size();
                Model m = new Model(id, s.periodNanos());
                m.dueNanos = now + s.delayNanos();
                m.fireTick = Math.max(ceilTick(m.dueNanos, origin, tickNanos), lastTick + 1);
                m.far = m.fireTick - lastTick > SPAN;
                m.seq = seq[0]++;
                Runnable task = () -> fired.add(new long[] {id, clock.getAsLong()});
                handles.add(
                        s.periodNanos() == 0
                                ? wheel.schedule(Duration.ofNanos(s.delayNanos()), task)
                                : wheel.scheduleAtFixedRate(
                                        Duration.ofNanos(s.delayNanos()), Duration.ofNanos(s.periodNanos()), task));
                models.add(m);
                byId.put(id, m);
                queue.add(m);
            } else if (step instanceof Cancel c && !models.isEmpty()) {
                Model m = models.get(c.which() % models.size());
                assertThat(handles.get(m.id).cancel()).isEqualTo(m.pending);
                if (m.pending) {
                    m.pending = false;
                    queue.remove(m);
                }
            } else if (step instanceof Reschedule r && !models.isEmpty()) {
                Model m = models.get(r.which() % models.size());
                assertThat(handles.get(m.id).reschedule(Duration.ofNanos(r.delayNanos())))
                        .isEqualTo(m.pending);
                if (m.pending) {
                    queue.remove(m);
                    m.dueNanos = now + r.delayNanos();
                    m.fireTick = Math.max(ceilTick(m.dueNanos, origin, tickNanos), lastTick + 1);
                    m.far = m.fireTick - lastTick > SPAN;
                    m.seq = seq[0]++;
                    queue.add(m);
                }
            } else if (step instanceof Advance a) {
                clock.advance(a.nanos());
                now = clock.getAsLong();
                long target = Math.floorDiv(now - origin, tickNanos);
                List<Integer> expected = new ArrayList<>();
                List<Long> expectedTicks = new ArrayList<>();
                List<Boolean> expectedFar = new ArrayList<>();
                while (!queue.isEmpty() && queue.peek().fireTick <= target) {
                    Model m = queue.poll();
                    expected.add(m.id);
                    expectedTicks.add(m.fireTick);
                    expectedFar.add(m.far);
                    if (m.periodNanos == 0) {
                        m.pending = false;
                    } else {
                        // Fixed rate: the next deadline counts from this one, and lands in a later tick.
                        m.dueNanos += m.periodNanos;
                        if (m.dueNanos <= now) {
                            m.dueNanos += ((now - m.dueNanos) / m.periodNanos + 1) * m.periodNanos;
                        }
                        long firedTick = m.fireTick;
                        m.fireTick = Math.max(ceilTick(m.dueNanos, origin, tickNanos), firedTick + 1);
                        m.far = m.fireTick - firedTick > SPAN;
                        m.seq = seq[0]++;
                        queue.add(m);
                    }
                }
                if (target > lastTick) {
                    lastTick = target;
                }
                fired.clear();
                wheel.expire();
                List<Integer> actual = new ArrayList<>();
                for (long[] f : fired) {
                    actual.add((int) f[0]);
                }
                assertThat(actual).as("fired at tick %d", target).containsExactlyInAnyOrderElementsOf(expected);
                // Tick by tick, in schedule order; a tick holding a far timer only as a set.
                for (int i = 0; i < expected.size(); ) {
                    int j = i;
                    boolean anyFar = false;
                    while (j < expected.size() && expectedTicks.get(j).equals(expectedTicks.get(i))) {
                        anyFar |= expectedFar.get(j);
                        j++;
                    }
                    if (anyFar) {
                        assertThat(actual.subList(i, j)).containsExactlyInAnyOrderElementsOf(expected.subList(i, j));
                    } else {
                        assertThat(actual.subList(i, j))
                                .as("order within tick %d", expectedTicks.get(i))
                                .isEqualTo(expected.subList(i, j));
                    }
                    i = j;
                }
                // Repeating timers re-link as they fire, so their next turns follow the actual order.
                for (int id : actual) {
                    Model m = byId.get(id);
                    if (m.periodNanos != 0 && queue.remove(m)) {
                        m.seq = seq[0]++;
                        queue.add(m);
                    }
                }
            }
            assertThat(wheel.pending()).isEqualTo(queue.size());
        }
        for (Model m : models) {
            assertThat(handles.get(m.id).isPending()).isEqualTo(m.pending);
        }
    }

    /**
     * The same model, on small wheels (2 to 16 slots: 4 to 32 timers moved ahead per tick) filled
     * densely and advanced a tick or two at a time, so that most turns start with their level-1 slot
     * half moved into level 0: schedules, cancels and reschedules land in the slot being moved, in
     * the part already moved, and across levels.
     */
    @Property(tries = 300)
    void aCascadeSpreadOverTheTurnBeforeItFiresExactlyWhatTheReferenceModelFires(
            @ForAll("smallWheelSizes") int wheelSize,
            @ForAll @LongRange(min = 0, max = 1L << 33) long startTick,
            @ForAll("denseSteps") List<Step> steps) {
        wheelFiresExactlyWhatTheReferenceModelFires(1_000L, wheelSize, startTick, 7_000_000L, steps);
    }

    @Provide
    Arbitrary<Integer> smallWheelSizes() {
        return Arbitraries.of(2, 4, 8, 16);
    }

    @Provide
    Arbitrary<List<Step>> denseSteps() {
        // Up to 3 turns of a 16-slot level 1 ahead (768 ticks of 1 us): most timers one level up.
        Arbitrary<Long> delay = Arbitraries.longs().between(0, 768_000);
        Arbitrary<Step> step = Arbitraries.frequencyOf(
                Tuple.of(10, delay.map(d -> new Schedule(d, 0))),
                Tuple.of(1, Arbitraries.longs().between(1, 40_000).map(p -> new Schedule(p, p))),
                Tuple.of(2, Arbitraries.integers().between(0, 1000).map(Cancel::new)),
                Tuple.of(
                        2,
                        Combinators.combine(Arbitraries.integers().between(0, 1000), delay)
                                .as(Reschedule::new)),
                Tuple.of(6, Arbitraries.longs().between(0, 2_500).map(Advance::new)),
                Tuple.of(1, Arbitraries.longs().between(0, 300_000).map(Advance::new)));
        return step.list().ofMinSize(50).ofMaxSize(400);
    }

    @Property(tries = 200)
    void noTimerEverFiresBeforeItsDeadline(
            @ForAll("ticks") long tickNanos,
            @ForAll @IntRange(min = 0, max = 200) int count,
            @ForAll @LongRange(min = 0, max = 5_000_000_000L) long maxDelay,
            @ForAll @LongRange(min = 1, max = 3_000_000) long step) {
        ManualClock clock = new ManualClock(42);
        HierarchicalTimerWheel wheel =
                new HierarchicalTimerWheel(new TimerWheelSettings(Duration.ofNanos(tickNanos), 64), clock);
        Random random = new Random(count * 31L + step);
        long[] early = {0};
        long[] firedCount = {0};
        for (int i = 0; i < count; i++) {
            long due = clock.getAsLong() + (long) (random.nextDouble() * maxDelay);
            wheel.schedule(Duration.ofNanos(due - clock.getAsLong()), () -> {
                firedCount[0]++;
                if (clock.getAsLong() < due) {
                    early[0]++;
                }
            });
            clock.advance(random.nextInt((int) step) + 1);
            wheel.expire();
        }
        long horizon = clock.getAsLong() + maxDelay + 2 * tickNanos;
        long stride = Math.max(step, maxDelay / 500 + 1);
        while (clock.getAsLong() < horizon) {
            clock.advance(stride);
            wheel.expire();
        }
        assertThat(early[0]).isZero();
        assertThat(firedCount[0]).isEqualTo(count);
        assertThat(wheel.pending()).isZero();
        assertThat(wheel.occupiedSlots()).isZero();
    }

    private static final long SPAN = 1L << 30;

    static long ceilTick(long nanos, long origin, long tickNanos) {
        long x = nanos - origin;
        return x <= 0 ? 0 : Math.floorDiv(x - 1, tickNanos) + 1;
    }

    @Provide
    Arbitrary<Long> ticks() {
        return Arbitraries.of(1_000L, 1_024L, 1_000_000L, 999_999L);
    }

    @Provide
    Arbitrary<Integer> wheelSizes() {
        return Arbitraries.of(2, 4, 8, 64, 256, 1024);
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Long> tick = Arbitraries.of(1_000L);
        Arbitrary<Long> delay = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.longs().between(0, 5_000)),
                Tuple.of(5, Arbitraries.longs().between(0, 3_000_000)),
                Tuple.of(2, Arbitraries.longs().between(0, 5_000_000_000L)),
                // Beyond the span of 2^30 ticks at the smallest tick: parked and re-linked.
                Tuple.of(1, Arbitraries.longs().between(1L << 40, 1L << 44)));
        Arbitrary<Long> period = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.just(0L)),
                Tuple.of(1, Arbitraries.longs().between(1, 3_000_000)));
        Arbitrary<Long> advance = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.longs().between(0, 3_000)),
                Tuple.of(4, Arbitraries.longs().between(0, 2_000_000)),
                Tuple.of(1, Arbitraries.longs().between(0, 6_000_000_000L)),
                Tuple.of(1, Arbitraries.longs().between(1L << 40, 1L << 45)));
        Arbitrary<Step> step = Arbitraries.frequencyOf(
                Tuple.of(4, Combinators.combine(delay, period).as(Schedule::new)),
                Tuple.of(
                        2,
                        Combinators.combine(Arbitraries.integers().between(0, 1000), tick)
                                .as((w, t) -> new Cancel(w))),
                Tuple.of(
                        2,
                        Combinators.combine(Arbitraries.integers().between(0, 1000), delay)
                                .as(Reschedule::new)),
                Tuple.of(4, advance.map(Advance::new)));
        return step.list().ofMinSize(1).ofMaxSize(120);
    }
}
