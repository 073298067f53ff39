package dev.daemonkit.timers.internal;

import dev.daemonkit.timers.TaskRunner;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Who a timer belongs to on one wheel: a scope's share of one event loop, or the single owner of a
 * standalone wheel. Every node points at its owner, so closing an owner is O(1): its timers become
 * dead at once (never fire) and are unlinked lazily, see {@link Wheel#close(TimerOwner)}.
 *
 * <p>Thread: {@link #pending()} and {@link #isClosed()} may be read from any thread; everything
 * else happens on the wheel's thread.
 */
public class TimerOwner {

    private static final VarHandle PENDING;

    static {
        try {
            PENDING = MethodHandles.lookup().findVarHandle(TimerOwner.class, "pending", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Wheel wheel;
    final TimerOwner parent;
    final LatenessRecorder lateness;
    /** Runs this owner's tasks, or null: they run as they are. */
    final TaskRunner runner;

    private final String name;
    volatile boolean closed;
    // Live timers of this owner and of its descendants on this wheel. Written only by the wheel's
    // thread (opaque stores are plain moves on x86), read from anywhere for introspection.
    @SuppressWarnings("unused")
    private int pending;

    /**
     * @param parent   the enclosing owner on the same wheel, whose count includes this one's; or null
     * @param lateness where expiries are recorded (shared by an owner and its descendants); or null
     */
    public TimerOwner(Wheel wheel, TimerOwner parent, String name, LatenessRecorder lateness) {
        this(wheel, parent, name, lateness, null);
    }

    /** @param runner runs each of this owner's tasks (e.g. in its logging context); or null */
    public TimerOwner(Wheel wheel, TimerOwner parent, String name, LatenessRecorder lateness, TaskRunner runner) {
        if (parent != null && parent.wheel != wheel) {
            throw new IllegalArgumentException("parent owner '" + parent.name + "' is on another wheel");
        }
        this.wheel = wheel;
        this.parent = parent;
        this.name = name;
        this.lateness = lateness;
        this.runner = runner;
    }

    /**
     * An owner that is closed from birth: what a closed scope hands out, so a timer scheduled on it
     * after close is never linked and never fires.
     */
    public static TimerOwner closedOn(Wheel wheel, String name) {
        TimerOwner o = new TimerOwner(wheel, null, name, null);
        o.closed = true;
        return o;
    }

    public final String name() {
        return name;
    }

    public final Wheel wheel() {
        return wheel;
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Live timers of this owner and its descendants on this wheel. */
    public final int pending() {
        return (int) PENDING.getOpaque(this);
    }

    final void addPending(int delta) {
        for (TimerOwner o = this; o != null; o = o.parent) {
            PENDING.setOpaque(o, (int) PENDING.get(o) + delta);
        }
    }
}
