package dev.daemonkit.timers.internal;

import dev.daemonkit.timers.Timeout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;

/**
 * One timer, linked into one slot of its wheel: also the {@link Timeout} handed to the caller, so
 * scheduling allocates exactly this object.
 *
 * <p>Kept to 32 bytes (12-byte header and five 4-byte fields with compressed oops), which is why
 * the deadline is an {@code int} count of ticks: the wheel only ever compares deadlines within
 * 2^30 ticks of its current tick, so the low 32 bits of the tick are enough (see {@link Wheel}).
 * Timers further away, and repeating ones, use the larger {@link ExtendedTimerNode}.
 *
 * <p>The task reference is the timer's state: non-null while it may still fire. Cancelling and
 * firing a one-shot timer both swap it to null atomically, so exactly one of them wins even when
 * {@link #cancel()} runs on another thread; the swap also drops the reference to the task at once.
 */
public class TimerNode implements Timeout {

    /**
     * Its calls pass {@code (Runnable) null}, never a bare {@code null}: a call site whose types do
     * not match the field's exactly goes through a generic adapter (a Class.cast per call, ~5% of
     * the wheel thread's time when firing).
     */
    static final VarHandle TASK;

    static {
        try {
            TASK = MethodHandles.lookup().findVarHandle(TimerNode.class, "task", Runnable.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Low 32 bits of the deadline tick; only meaningful while linked. */
    int deadline;

    volatile Runnable task;
    /** Neighbours in the slot's circular list; both null when not linked. */
    TimerNode next;

    TimerNode prev;
    final TimerOwner owner;

    /** For {@link TimerNodeFactory}: a subclass adds no field, so that the node stays 32 bytes. */
    protected TimerNode(TimerOwner owner, Runnable task) {
        this.owner = owner;
        TASK.set(this, task);
    }

    /** Whether the timer repeats or lies beyond the wheel's span, and so needs more than the tick. */
    boolean isExtended() {
        return false;
    }

    final boolean isLinked() {
        return next != null;
    }

    @Override
    public final boolean cancel() {
        Runnable t = task;
        if (t == null || owner.closed || !TASK.compareAndSet(this, t, (Runnable) null)) {
            return false;
        }
        Wheel wheel = owner.wheel;
        if (wheel.host.inHostThread()) {
            wheel.unlinkCancelled(this);
        } else {
            wheel.host.execute(() -> wheel.unlinkCancelled(this));
        }
        return true;
    }

    @Override
    public final boolean reschedule(Duration delay) {
        long delayNanos = Wheel.clampDelay(Wheel.nanos(delay));
        if (task == null || owner.closed) {
            return false;
        }
        Wheel wheel = owner.wheel;
        if (wheel.host.inHostThread()) {
            return wheel.reschedule(this, wheel.clock.getAsLong() + delayNanos);
        }
        long due = wheel.clock.getAsLong() + delayNanos;
        wheel.host.execute(() -> wheel.reschedule(this, due));
        return true;
    }

    @Override
    public final boolean isPending() {
        return task != null && !owner.closed;
    }

    @Override
    public String toString() {
        return "Timeout[" + (owner == null ? "slot" : owner.name()) + (isPending() ? ", pending]" : ", done]");
    }
}
