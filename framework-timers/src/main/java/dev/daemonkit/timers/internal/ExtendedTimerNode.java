package dev.daemonkit.timers.internal;

/**
 * A timer that needs its exact deadline kept: a repeating one (fixed rate counts from the previous
 * deadline, not from the tick it ran in) or a one-shot beyond the wheel's span of 2^30 ticks, which
 * is parked at the span's edge and re-linked until its real deadline is within reach.
 */
final class ExtendedTimerNode extends TimerNode {

    /** Exact deadline of the next run, in the wheel clock's nanoseconds. */
    long dueNanos;
    /** 0 for a one-shot timer. */
    final long periodNanos;

    final boolean fixedRate;

    ExtendedTimerNode(TimerOwner owner, Runnable task, long dueNanos, long periodNanos, boolean fixedRate) {
        super(owner, task);
        this.dueNanos = dueNanos;
        this.periodNanos = periodNanos;
        this.fixedRate = fixedRate;
    }

    @Override
    boolean isExtended() {
        return true;
    }

    boolean repeats() {
        return periodNanos != 0;
    }
}
