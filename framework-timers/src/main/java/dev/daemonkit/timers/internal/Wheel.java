package dev.daemonkit.timers.internal;

import dev.daemonkit.timers.TaskRunner;
import dev.daemonkit.timers.TimerWheelSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A hierarchical timing wheel (Varghese and Lauck, 1987): {@code levels} wheels of
 * {@code wheelSize} slots, each level's slot spanning a whole turn of the level below. A timer goes
 * to the level of the highest digit (base wheelSize) in which its deadline tick differs from the
 * wheel's current tick, so schedule, cancel and reschedule are O(1) whatever the delay; when the
 * current tick enters a higher-level slot, that slot's timers cascade down, each at most
 * {@code levels - 1} times in its life.
 *
 * <p>An occupancy bit per slot lets {@link #expire} jump straight to the next tick that has work
 * (a level-0 slot to fire, or a higher slot to cascade), and lets the driver sleep until then
 * instead of ticking: an idle wheel costs nothing.
 *
 * <p>Not thread-safe: every method runs on the host's thread, except that {@link TimerNode}
 * hands its calls over through {@link Host#execute}.
 */
public final class Wheel {

    private static final Logger log = LoggerFactory.getLogger(Wheel.class);

    /**
     * Furthest a node is linked ahead of the current tick. Below half of 2^32, so the low 32 bits
     * kept in a node always identify its tick; and below the top level's turn minus one slot, so a
     * top-level slot never holds two turns at once. Further deadlines park at this distance.
     */
    static final long SPAN_TICKS = 1L << 30;

    /** Longer delays (146 years) are treated as this, so deadlines never overflow a long. */
    static final long MAX_DELAY_NANOS = 1L << 62;

    /** Where a wheel runs. */
    public interface Host {

        /** Whether the caller is the wheel's thread. */
        boolean inHostThread();

        /** Runs {@code task} on the wheel's thread, after tasks handed over before it. */
        void execute(Runnable task);

        /**
         * The earliest tick with work moved to {@code deadlineNanos} (wheel clock), or to
         * {@link Long#MAX_VALUE}: nothing is linked. The host calls {@link #expire} at or after that
         * time. Called on the wheel's thread.
         */
        void wakeAt(long deadlineNanos);

        /**
         * Whether one-shot timers scheduled on the wheel's thread may wait in a list until the
         * current turn of the host's thread ends (see {@link Wheel#flushDeferred}): true for an
         * event loop, which then runs the flush that {@link #execute} queues after the task or
         * event that scheduled them.
         */
        default boolean defersLinks() {
            return false;
        }
    }

    final Host host;
    final LongSupplier clock;
    private final TimerNodeFactory nodes;
    private final long tickNanos;
    private final int tickShift; // >= 0 when the tick is a power of two nanoseconds
    private final long tickMagic; // otherwise floor((2^64 - 1) / tickNanos), for division by multiplication
    private final long originNanos; // start of tick 0
    /** Delays from this up get an extended node when handed over (see {@link #newHandedOverNode}). */
    private final long handOverPlainLimitNanos;

    private final int bits;
    private final int mask;
    /**
     * Level 0 has two turns of slots (2 * wheelSize), indexed by the tick's low bits + 1: the
     * current turn's, and the next turn's, which {@link #preCascade} fills ahead of time from the
     * level-1 slot of that turn, a bounded number of timers per tick, instead of moving the whole
     * slot in the one tick where the turn starts (25,000 timers there took 1.7-2.0 ms of one tick).
     */
    private final int level0Mask;
    /** Timers moved ahead of time per tick the wheel advances, see {@link #preCascade}. */
    private final int preCascadePerTick;

    private final int levels;
    private final byte[] levelOfBit; // level of a deadline whose highest bit differing from base is i
    private final SlotHead[] heads;
    private final long[] occupied;
    /**
     * One-shot timers scheduled on the wheel's thread in the current turn, not yet in a slot: their
     * {@code deadline} holds the delay (see {@link #encodeDelay}) until {@link #flushDeferred} reads
     * the clock once for all of them. Its occupancy bit lies past the slots' and is never searched.
     */
    private final SlotHead deferred;

    private final boolean defers;
    private final Runnable flush = this::flushDeferred;
    private boolean flushQueued;
    /** Timers put in the turn's list since its last flush, cancelled ones included. */
    private int deferredSinceFlush;

    /**
     * A task that schedules many timers (a batch, a broadcast) links them every this many, so that
     * none waits for the end of a long turn: its delay counts from at most 63 schedules later.
     */
    static final int DEFER_LIMIT = 64;

    /**
     * Timers moved from the next turn's level-1 slot into level 0 per tick advanced (at most 2 *
     * wheelSize, and for at most {@link #PRE_CASCADE_TICKS} ticks per expire): ~40 us of cold
     * nodes per tick here, so a slot of up to 130,000 timers (256 slots) is moved before its turn
     * starts when the wheel is woken every tick, and the timers of a tick wait at most that long.
     */
    static final int PRE_CASCADE_PER_TICK = 512;

    /** An expire that advanced many ticks at once moves at most this many ticks' worth ahead of time. */
    static final int PRE_CASCADE_TICKS = 4;

    /** Last tick processed; while tick t is processed, t. Deadlines link relative to it. */
    private long base;
    /** The tick the host was last asked to wake at. */
    private long wakeTick = Long.MAX_VALUE;

    private int pending;
    private int deadLinked;
    private boolean processing;
    /**
     * Deadlines of plain nodes rescheduled beyond the span: a plain node has no room for them, and
     * replacing it would break the caller's handle. Rare (a reschedule of more than 2^30 ticks,
     * 12 days at 1 ms), so a map made on first use, checked by a null test on the common paths.
     */
    private Map<TimerNode, Long> parkedPlain;

    public Wheel(TimerWheelSettings settings, LongSupplier clock, Host host) {
        this(settings, clock, host, TimerNodeFactory.PLAIN);
    }

    /** @param nodes makes the plain one-shot nodes (the common case), see {@link TimerNodeFactory} */
    public Wheel(TimerWheelSettings settings, LongSupplier clock, Host host, TimerNodeFactory nodes) {
        this.host = host;
        this.nodes = nodes;
        this.clock = clock;
        this.tickNanos = settings.tickNanos();
        this.tickShift = Long.bitCount(tickNanos) == 1 ? Long.numberOfTrailingZeros(tickNanos) : -1;
        this.tickMagic = tickShift >= 0 ? 0 : Long.divideUnsigned(-1L, tickNanos);
        this.bits = Integer.numberOfTrailingZeros(settings.wheelSize());
        this.mask = settings.wheelSize() - 1;
        this.level0Mask = 2 * settings.wheelSize() - 1;
        this.preCascadePerTick = Math.min(PRE_CASCADE_PER_TICK, 2 * settings.wheelSize());
        this.levels = (32 + bits - 1) / bits;
        this.levelOfBit = new byte[64];
        for (int i = 0; i < 64; i++) {
            levelOfBit[i] = (byte) Math.min(i / bits, levels - 1);
        }
        int slots = (levels + 1) << bits; // level 0 has two turns of slots
        this.heads = new SlotHead[slots];
        for (int i = 0; i < slots; i++) {
            heads[i] = new SlotHead(i);
        }
        this.deferred = new SlotHead(slots);
        this.occupied = new long[(slots + 1 + 63) >>> 6];
        this.defers = host.defersLinks();
        // Tick 0 counts as processed, and tick 1 starts now: a deadline of "now" fires on the first expire.
        this.originNanos = clock.getAsLong() - tickNanos;
        long plainTicks = SPAN_TICKS >> 1;
        this.handOverPlainLimitNanos =
                plainTicks > Long.MAX_VALUE / tickNanos ? Long.MAX_VALUE : plainTicks * tickNanos;
    }

    // ---- scheduling (wheel thread) ----

    /** Schedules on the wheel's thread. {@code periodNanos} is 0 for a one-shot timer. */
    public TimerNode schedule(TimerOwner owner, long delayNanos, Runnable task, long periodNanos, boolean fixedRate) {
        if (owner.closed) {
            return new TimerNode(owner, null);
        }
        if (defers && periodNanos == 0) {
            int encoded = encodeDelay(clampDelay(delayNanos));
            if (encoded >= 0) {
                return defer(nodes.newTimer(owner, task), encoded);
            }
        }
        long due = clock.getAsLong() + clampDelay(delayNanos);
        long tick = ceilTick(due);
        long min = base + 1;
        if (tick < min) {
            tick = min;
        }
        TimerNode node;
        if (periodNanos != 0 || tick - base > SPAN_TICKS) {
            node = new ExtendedTimerNode(owner, task, due, periodNanos, fixedRate);
            tick = Math.min(tick, base + SPAN_TICKS);
        } else {
            node = nodes.newTimer(owner, task);
        }
        attach(node, tick);
        return node;
    }

    /** A node for a timer scheduled from another thread; link it on the wheel's thread with {@link #linkHandedOver}. */
    public static TimerNode newNode(
            TimerOwner owner, Runnable task, long dueNanos, long periodNanos, boolean fixedRate) {
        // Extended even for a one-shot: the deadline must travel with the node to the wheel's thread.
        return new ExtendedTimerNode(owner, task, dueNanos, periodNanos, fixedRate);
    }

    /**
     * Any thread: a node for a one-shot timer scheduled from outside the wheel's thread, due at
     * {@code dueNanos} (wheel clock), {@code delayNanos} (clamped, see {@link #clampDelay}) after the
     * caller read the clock; link it on the wheel's thread with {@link #linkHandedOver}. A plain
     * node (32 bytes, the fast path when fired) carrying its deadline tick, computed here from the
     * wheel's fixed origin and tick; an extended one for a delay too long for the tick's low 32 bits
     * to identify it when the wheel thread links it.
     */
    public TimerNode newHandedOverNode(TimerOwner owner, Runnable task, long dueNanos, long delayNanos) {
        if (delayNanos >= handOverPlainLimitNanos) {
            return new ExtendedTimerNode(owner, task, dueNanos, 0, false);
        }
        TimerNode node = new TimerNode(owner, task); // the wheel's own type, as the factory's contract says
        node.deadline = (int) ceilTick(dueNanos);
        return node;
    }

    /** Wheel thread: links a node made by {@link #newNode} or {@link #newHandedOverNode}, unless it was cancelled or rescheduled meanwhile. */
    public void linkHandedOver(TimerNode node) {
        if (node.task == null || node.isLinked() || node.owner.closed) {
            return;
        }
        if (node instanceof ExtendedTimerNode e) {
            linkAt(e, e.dueNanos);
            return;
        }
        // A plain node's deadline is the low 32 bits of its tick, set at most 2^29 ticks ahead when
        // it was made, so it lies within 2^31 ticks of the current one unless this thread stalled
        // for 2^30 ticks (12 days at 1 ms) with the node in its queue. A tick already past fires next.
        long tick = base + (node.deadline - (int) base);
        attach(node, Math.max(tick, base + 1));
    }

    /** Wheel thread: moves a pending node to {@code dueNanos}. */
    boolean reschedule(TimerNode node, long dueNanos) {
        if (node.task == null || node.owner.closed) {
            return false;
        }
        if (node instanceof ExtendedTimerNode e) {
            e.dueNanos = dueNanos;
        }
        if (node.isLinked()) {
            detach(node);
        } else if (!(node instanceof ExtendedTimerNode)) {
            return false; // cannot happen: a plain node is linked for as long as its task is set
        }
        linkAt(node, dueNanos);
        return true;
    }

    /** Wheel thread: the node's task was swapped to null by {@link TimerNode#cancel()}; unlink it if linked. */
    void unlinkCancelled(TimerNode node) {
        if (node.isLinked()) {
            detach(node);
        }
    }

    private void linkAt(TimerNode node, long dueNanos) {
        if (deferred.next != deferred) {
            linkDeferred();
        }
        long tick = Math.max(ceilTick(dueNanos), base + 1);
        if (tick - base > SPAN_TICKS) {
            tick = base + SPAN_TICKS;
            if (!(node instanceof ExtendedTimerNode)) {
                if (parkedPlain == null) {
                    parkedPlain = new HashMap<>();
                }
                parkedPlain.put(node, dueNanos);
            }
        }
        attach(node, tick);
    }

    // ---- timers scheduled in the current turn (event loops only) ----

    /**
     * Fast path of a one-shot timer scheduled on the wheel's thread: appended to the turn's list,
     * without reading the clock (~25 ns here, as much as the rest of a schedule and cancel). The
     * delay then counts from the flush at the end of the turn, never from before the call, so the
     * timer is never early; a timer cancelled in the same turn (a request's timeout) never reads the
     * clock nor touches a slot.
     */
    private TimerNode defer(TimerNode node, int encodedDelay) {
        node.deadline = encodedDelay;
        SlotHead head = deferred;
        TimerNode tail = head.prev;
        node.prev = tail;
        node.next = head;
        tail.next = node;
        head.prev = node;
        pending++;
        node.owner.addPending(1);
        if (++deferredSinceFlush >= DEFER_LIMIT) {
            linkDeferred();
        } else if (!flushQueued) {
            flushQueued = true;
            host.execute(flush);
        }
        return node;
    }

    /**
     * Wheel thread: links the timers of the turn's list into their slots, their delays counted from
     * now (one clock read for all). Runs when the host's turn ends, and before anything else links a
     * node, so that timers of one tick keep the order in which they were scheduled.
     */
    public void flushDeferred() {
        flushQueued = false;
        linkDeferred();
    }

    /** The flush without forgetting the queued one: one flush task per turn, however many links. */
    private void linkDeferred() {
        deferredSinceFlush = 0;
        SlotHead head = deferred;
        TimerNode n = head.next;
        if (n == head) {
            return;
        }
        head.prev.next = null;
        head.next = head;
        head.prev = head;
        occupied[head.index() >>> 6] &= ~(1L << head.index());
        long now = clock.getAsLong();
        long min = base + 1;
        long first = Long.MAX_VALUE;
        while (n != null) {
            TimerNode following = n.next;
            if (n.owner.closed) {
                n.next = null;
                n.prev = null;
                TimerNode.TASK.set(n, (Runnable) null);
                deadLinked--;
            } else {
                long tick = Math.max(ceilTick(now + decodeDelay(n.deadline)), min);
                link(n, tick);
                first = Math.min(first, tick);
            }
            n = following;
        }
        if (first < wakeTick && !processing) {
            wakeTick = first;
            host.wakeAt(tickStartNanos(first));
        }
    }

    /**
     * A delay in the 32 bits a node has: two bits of unit and a value rounded up to it (so never
     * early): nanoseconds below 0.5 s, 1.024 us units below 9 minutes, 131 us below 19 hours; -1
     * beyond, where the timer takes the clock at once.
     */
    static int encodeDelay(long delayNanos) {
        if (delayNanos < 1L << 29) {
            return (int) (delayNanos << 2);
        }
        long us = (delayNanos + (1L << 10) - 1) >>> 10;
        if (us < 1L << 29) {
            return (int) ((us << 2) | 1);
        }
        long coarse = (delayNanos + (1L << 17) - 1) >>> 17;
        if (coarse < 1L << 29) {
            return (int) ((coarse << 2) | 2);
        }
        return -1;
    }

    static long decodeDelay(int encoded) {
        long value = encoded >>> 2;
        return switch (encoded & 3) {
            case 0 -> value;
            case 1 -> value << 10;
            default -> value << 17;
        };
    }

    /** Links a live node and counts it. */
    private void attach(TimerNode node, long tick) {
        if (deferred.next != deferred) {
            linkDeferred(); // keeps the order of scheduling within a tick
        }
        link(node, tick);
        pending++;
        node.owner.addPending(1);
        if (tick < wakeTick && !processing) {
            wakeTick = tick;
            host.wakeAt(tickStartNanos(tick));
        }
    }

    /** Unlinks a node and uncounts it, as live or as dead. */
    private void detach(TimerNode node) {
        unlink(node);
        if (node.owner.closed) {
            deadLinked--;
        } else {
            pending--;
            node.owner.addPending(-1);
        }
    }

    private void link(TimerNode node, long tick) {
        node.deadline = (int) tick;
        long x = tick ^ base;
        int level = x == 0 ? 0 : levelOfBit[63 - Long.numberOfLeadingZeros(x)];
        int index = level == 0 ? (int) tick & level0Mask : slotIndex(level, tick);
        append(node, index);
    }

    /** Index of the level-{@code level} slot (level 1 and up) that holds {@code tick}. */
    private int slotIndex(int level, long tick) {
        return ((level + 1) << bits) | ((int) (tick >>> (bits * level)) & mask);
    }

    private void append(TimerNode node, int index) {
        SlotHead head = heads[index];
        TimerNode tail = head.prev;
        node.prev = tail;
        node.next = head;
        tail.next = node;
        head.prev = node;
        if (tail == head) {
            occupied[index >>> 6] |= 1L << index;
        }
    }

    private void unlink(TimerNode node) {
        if (parkedPlain != null) {
            parkedPlain.remove(node);
        }
        TimerNode p = node.prev;
        TimerNode n = node.next;
        p.next = n;
        n.prev = p;
        node.next = null;
        node.prev = null;
        if (p == n) {
            int index = ((SlotHead) p).index();
            occupied[index >>> 6] &= ~(1L << index);
        }
    }

    // ---- expiry (wheel thread) ----

    /**
     * Fires every timer whose deadline tick has started by {@code nowNanos}, in deadline order and,
     * within a tick, in the order they were scheduled; then tells the host when to come back.
     *
     * @return the number of tasks run
     */
    public int expire(long nowNanos) {
        linkDeferred();
        long target = floorTick(nowNanos);
        long from = base;
        int fired = 0;
        processing = true;
        try {
            while (base < target) {
                long t = nextWorkTick(base + 1);
                if (t > target) {
                    base = target;
                    break;
                }
                base = t;
                cascade(t);
                fired += fire(t);
            }
            if (base != from) {
                // After the due timers ran, so that moving the next turn's never delays them.
                preCascade(preCascadePerTick * (int) Math.min(base - from, PRE_CASCADE_TICKS));
            }
        } finally {
            processing = false;
            recordLateness();
        }
        long next = nextWorkTick(base + 1);
        wakeTick = next;
        host.wakeAt(next == Long.MAX_VALUE ? Long.MAX_VALUE : tickStartNanos(next));
        return fired;
    }

    /** Clock time of the next tick with work (a timer to fire or a slot to cascade), or {@link Long#MAX_VALUE}. */
    public long nextWakeNanos() {
        long next = nextWorkTick(base + 1);
        return next == Long.MAX_VALUE ? Long.MAX_VALUE : tickStartNanos(next);
    }

    private void cascade(long t) {
        for (int level = levels - 1; level >= 1; level--) {
            if ((t & ((1L << (bits * level)) - 1)) != 0) {
                continue;
            }
            int index = slotIndex(level, t);
            SlotHead head = heads[index];
            if (head.next == head) {
                continue;
            }
            TimerNode n = head.next;
            head.prev.next = null;
            head.next = head;
            head.prev = head;
            occupied[index >>> 6] &= ~(1L << index);
            while (n != null) {
                TimerNode following = n.next;
                if (n.owner.closed) {
                    dropCut(n);
                } else {
                    // Every linked deadline lies in [t, t + 2^30], so the int difference is exact.
                    link(n, t + (n.deadline - (int) t));
                }
                n = following;
            }
        }
    }

    private int fire(long t) {
        SlotHead head = heads[(int) t & level0Mask];
        if (head.next == head) {
            return 0;
        }
        long now = clock.getAsLong();
        long tickLateness = now - tickStartNanos(t);
        int fired = 0;
        TimerNode n;
        while ((n = head.next) != head) {
            Long parkedDue = parkedPlain == null ? null : parkedPlain.get(n);
            detach(n);
            Runnable task = n.task;
            if (task == null || n.owner.closed) {
                TimerNode.TASK.set(n, (Runnable) null);
                continue;
            }
            if (parkedDue != null && ceilTick(parkedDue) > t) {
                linkAt(n, parkedDue); // parked at the span's edge: not due yet
                continue;
            }
            if (n instanceof ExtendedTimerNode e) {
                if (ceilTick(e.dueNanos) > t) {
                    linkAt(e, e.dueNanos); // beyond the span when scheduled: not due yet
                    continue;
                }
                record(n.owner, e.repeats() ? tickLateness : now - e.dueNanos);
                if (e.repeats()) {
                    fired++;
                    fireRepeating(e, task);
                    continue;
                }
            } else {
                record(n.owner, tickLateness);
            }
            if (!TimerNode.TASK.compareAndSet(n, task, (Runnable) null)) {
                continue; // cancelled from another thread a moment ago
            }
            fired++;
            run(n.owner, task);
        }
        return fired;
    }

    private void fireRepeating(ExtendedTimerNode e, Runnable task) {
        if (e.fixedRate) {
            // Runs missed by far (a suspended machine, a stalled loop) are skipped, not run back to
            // back: a daemon's once-a-minute task should not run a hundred times after a pause.
            long now = clock.getAsLong();
            long next = saturatedAdd(e.dueNanos, e.periodNanos);
            if (next <= now) {
                next = saturatedAdd(next, ((now - next) / e.periodNanos + 1) * e.periodNanos);
            }
            e.dueNanos = next;
            // Linked before the run, so the task may cancel or reschedule itself.
            linkAt(e, e.dueNanos);
            run(e.owner, task);
        } else {
            run(e.owner, task);
            if (e.task != null && !e.isLinked() && !e.owner.closed) {
                e.dueNanos = saturatedAdd(clock.getAsLong(), e.periodNanos);
                linkAt(e, e.dueNanos);
            }
        }
    }

    /** Lateness waits here and is recorded a batch at a time (see {@link LatenessRecorder#recordAll}). */
    private final long[] latenessBatch = new long[64];

    private LatenessRecorder latenessOf;
    private int latenessCount;

    private void record(TimerOwner owner, long latenessNanos) {
        LatenessRecorder r = owner.lateness;
        if (r == null) {
            return;
        }
        if (r != latenessOf || latenessCount == latenessBatch.length) {
            recordLateness();
            latenessOf = r;
        }
        latenessBatch[latenessCount++] = latenessNanos;
    }

    private void recordLateness() {
        if (latenessCount > 0) {
            latenessOf.recordAll(latenessBatch, latenessCount);
            latenessCount = 0;
        }
    }

    private static void run(TimerOwner owner, Runnable task) {
        try {
            TaskRunner runner = owner.runner;
            if (runner == null) {
                task.run();
            } else {
                runner.run(task);
            }
        } catch (Throwable e) {
            // The wheel must outlive any one task: it also runs every other daemon's timers on this loop.
            log.warn("timer task of '{}' threw; the wheel and the other timers go on", owner.name(), e);
        }
    }

    /**
     * A node of a closed scope met while a slot's chain is moved (cascade, spread cascade): already cut
     * from the slot, so only its own links, task and parked deadline go.
     */
    private void dropCut(TimerNode n) {
        n.next = null;
        n.prev = null;
        TimerNode.TASK.set(n, (Runnable) null);
        deadLinked--;
        if (parkedPlain != null) {
            parkedPlain.remove(n);
        }
    }

    /**
     * Moves up to {@code budget} timers of the next level-0 turn from their level-1 slot into level
     * 0's other half, ahead of the tick where that turn starts, in the slot's order (so timers of a
     * tick keep the order they were scheduled in: whatever is left, and whatever is scheduled into
     * the slot meanwhile, is appended after them by {@link #cascade} when the turn starts).
     *
     * <p>That slot holds exactly the next turn's timers: a level-1 slot holds the ticks of one
     * level-0 turn within the current level-2 slot, and when the next turn starts a new level-2 slot
     * its level-1 slot is the current turn's, already emptied, so nothing moves (that turn's timers
     * are still one level up, and cascade when it starts). With two levels, level 1 is the top and
     * its slot 0 holds the next turn of the whole wheel, which is again the next level-0 turn.
     */
    private void preCascade(int budget) {
        long turn = (base >>> bits) + 1; // the next level-0 turn
        int index = slotIndex(1, turn << bits);
        SlotHead head = heads[index];
        TimerNode n = head.next;
        if (n == head) {
            return;
        }
        // Cut from the slot's front once, instead of unlinking each timer (and writing its cold
        // successor); as in cascade(), a parked plain node keeps its real deadline in parkedPlain.
        for (int moved = 0; moved < budget && n != head; moved++) {
            TimerNode following = n.next;
            if (n.owner.closed) {
                dropCut(n);
            } else {
                // Every linked deadline lies within 2^30 ticks after base, so the int difference is exact.
                append(n, (int) (base + (n.deadline - (int) base)) & level0Mask);
            }
            n = following;
        }
        head.next = n;
        n.prev = head;
        if (n == head) {
            occupied[index >>> 6] &= ~(1L << index);
        }
    }

    /** First tick >= from (= base + 1) that has work: a level-0 slot to fire, or a higher slot to cascade. */
    private long nextWorkTick(long from) {
        // Level 0 holds ticks from base + 1 to the end of the next turn (2 * wheelSize slots, so
        // fewer than 2 * wheelSize ticks): the first set bit, circularly from from's slot, is the
        // earliest of them.
        int at = (int) from & level0Mask;
        long level0 = Long.MAX_VALUE;
        int s = nextSetBit(at, level0Mask + 1);
        if (s >= 0) {
            level0 = from + (s - at);
        } else if ((s = nextSetBit(0, at)) >= 0) {
            level0 = from + (level0Mask + 1 - at + s);
        }
        long turnEnd = (((from - 1) >>> bits) + 1) << bits; // end of base's turn
        if (level0 < turnEnd) {
            return level0; // in the current turn: before any higher slot's start
        }
        for (int level = 1; level < levels; level++) {
            int shift = bits * level;
            int digit = (int) (from >>> shift) & mask;
            // A higher slot cascades when its turn starts: include the current digit only on that boundary.
            int start = (from & ((1L << shift) - 1)) == 0 ? digit : digit + 1;
            int first = (level + 1) << bits;
            s = nextSetBit(first + start, first + mask + 1);
            int turnShift = shift + bits;
            if (s >= 0) {
                return Math.min(level0, ((from >>> turnShift) << turnShift) | ((long) (s - first) << shift));
            }
            if (level == levels - 1) {
                // Top level: slots below the current digit belong to the next turn.
                s = nextSetBit(first, first + Math.min(start, mask + 1));
                if (s >= 0) {
                    return Math.min(level0, (((from >>> turnShift) + 1) << turnShift) | ((long) (s - first) << shift));
                }
            }
        }
        return level0;
    }

    private int nextSetBit(int from, int to) {
        if (from >= to) {
            return -1;
        }
        int w = from >>> 6;
        long word = occupied[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                int bit = (w << 6) + Long.numberOfTrailingZeros(word);
                return bit < to ? bit : -1;
            }
            if (++w << 6 >= to) {
                return -1;
            }
            word = occupied[w];
        }
    }

    // ---- owners ----

    /**
     * Wheel thread: closes an owner (its descendants must be closed first). Its timers never fire
     * from now on. They stay linked until their slot is reached or a sweep unlinks them: a sweep
     * runs when dead nodes outnumber half the live ones (so it costs O(1) amortized per dead
     * node), or when nothing live is left, so memory held by closed scopes stays bounded.
     */
    public void close(TimerOwner owner) {
        if (owner.closed) {
            return;
        }
        int n = owner.pending();
        owner.addPending(-n); // and from its ancestors, which stay open
        owner.closed = true;
        pending -= n;
        deadLinked += n;
        if (deadLinked > 0 && (pending == 0 || deadLinked > 64 + pending / 2)) {
            sweep();
        }
    }

    /** Unlinks every node of a closed owner and drops its task. */
    public void sweep() {
        for (int index = nextSetBit(0, heads.length); index >= 0; index = nextSetBit(index + 1, heads.length)) {
            SlotHead head = heads[index];
            TimerNode n = head.next;
            while (n != head) {
                TimerNode following = n.next;
                if (n.owner.closed) {
                    unlink(n);
                    TimerNode.TASK.set(n, (Runnable) null);
                    deadLinked--;
                }
                n = following;
            }
        }
        if (!processing) {
            long next = nextWorkTick(base + 1);
            if (next == Long.MAX_VALUE && wakeTick != Long.MAX_VALUE) {
                wakeTick = Long.MAX_VALUE;
                host.wakeAt(Long.MAX_VALUE);
            }
        }
    }

    // ---- introspection ----

    /** Live timers linked in this wheel. */
    public int pending() {
        return pending;
    }

    /** Nodes linked, live or of closed owners. */
    public int linked() {
        return pending + deadLinked;
    }

    /** Slots holding at least one node, over all levels: 0 means the wheel holds nothing. */
    public int occupiedSlots() {
        int n = 0;
        for (long w : occupied) {
            n += Long.bitCount(w);
        }
        return n;
    }

    /** Timers already moved into level 0 for the next turn (see {@link #preCascade}); walks them, for tests. */
    int linkedForNextTurn() {
        int first = (int) ((base >>> bits) + 1) << bits & level0Mask;
        int n = 0;
        for (int i = first; i <= first + mask; i++) {
            for (TimerNode x = heads[i].next; x != heads[i]; x = x.next) {
                n++;
            }
        }
        return n;
    }

    public long tickNanos() {
        return tickNanos;
    }

    public int levels() {
        return levels;
    }

    // ---- time ----

    private long floorTick(long nanos) {
        long x = nanos - originNanos;
        return x <= 0 ? 0 : divTick(x);
    }

    /** The first tick whose start is at or after {@code nanos}: firing then is never early. */
    long ceilTick(long nanos) {
        long x = nanos - originNanos;
        return x <= 0 ? 0 : divTick(x - 1) + 1;
    }

    long tickStartNanos(long tick) {
        return originNanos + tick * tickNanos;
    }

    private long divTick(long x) {
        if (tickShift >= 0) {
            return x >>> tickShift;
        }
        // A 64-bit division costs ~40 cycles; a high multiply by the reciprocal is off by at most one.
        long q = Math.multiplyHigh(x, tickMagic);
        if (x - q * tickNanos >= tickNanos) {
            q++;
        }
        return q;
    }

    /** A duration in nanoseconds, saturated instead of overflowing (a delay of a thousand years is "never"). */
    public static long nanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return d.isNegative() ? 0 : MAX_DELAY_NANOS;
        }
    }

    /** Delays below zero mean now; above {@link #MAX_DELAY_NANOS}, that. */
    public static long clampDelay(long delayNanos) {
        return Math.min(Math.max(0, delayNanos), MAX_DELAY_NANOS);
    }

    /** The wheel's clock. */
    public long nowNanos() {
        return clock.getAsLong();
    }

    static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}
