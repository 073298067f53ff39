package dev.daemonkit.timers;

import dev.daemonkit.timers.internal.LatenessRecorder;
import dev.daemonkit.timers.internal.LatenessWindow;
import dev.daemonkit.timers.internal.TimerNode;
import dev.daemonkit.timers.internal.TimerOwner;
import dev.daemonkit.timers.internal.Wheel;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The timers of one owner: a daemon ({@link EventLoopTimerWheels#newScope}), or a connection or
 * other part of it ({@link #childOn}). Closing the scope cancels them all, children included.
 *
 * <p>Threads: every method is thread-safe. Scheduling on one of the scope's event loops links the
 * timer into that loop's wheel directly, with no lock and no hand-off; from any other thread the
 * timer is handed to a loop of the scope (round robin for a daemon scope, the one loop of a child).
 * Tasks run on the loop that holds the timer.
 *
 * <p>On each loop the scope has a {@link TimerOwner} that its timers point at; a child's owner
 * counts into its parent's on the same loop, so {@link #pending()} of a daemon includes its
 * connections without visiting them.
 */
public final class TimerScope implements Timers, AutoCloseable {

    private final EventLoopTimerWheels wheels;
    private final String owner;
    private final TimerScope parent;
    private final TimerScope root;
    private final LoopWheel pinned;
    private final TaskRunner runner;
    private final AtomicReferenceArray<TimerOwner> parts;
    /**
     * The same owners read without a volatile load on the schedule path: an owner is set once and
     * never replaced, and its final fields make a racy read safe; null means "ask {@link #parts}".
     */
    private final TimerOwner[] partCache;

    private final LatenessRecorder[] recorders;
    private final LatenessWindow window;
    /** Made on the first child: most scopes (a connection's) never have one, and an empty set costs ~80 B. */
    private volatile Set<TimerScope> children;

    private volatile boolean closed;

    TimerScope(EventLoopTimerWheels wheels, String owner, TimerScope parent, LoopWheel pinned, TaskRunner runner) {
        this.wheels = wheels;
        this.runner = runner;
        this.owner = owner;
        this.parent = parent;
        this.root = parent == null ? this : parent.root;
        this.pinned = pinned;
        this.parts = new AtomicReferenceArray<>(wheels.loopCount());
        this.partCache = new TimerOwner[wheels.loopCount()];
        if (parent == null) {
            recorders = new LatenessRecorder[wheels.loopCount()];
            for (int i = 0; i < recorders.length; i++) {
                recorders[i] = new LatenessRecorder();
            }
            window = new LatenessWindow();
        } else {
            recorders = null;
            window = null;
        }
    }

    /** Who owns these timers, as named in logs. */
    public String owner() {
        return owner;
    }

    /**
     * A child scope whose timers all live on {@code loop} (e.g. a connection's: pass
     * {@code channel.eventLoop()}), counted in this scope's pending timers and lateness, and closed
     * when this scope closes. Close it when the connection closes.
     *
     * @throws IllegalArgumentException if {@code loop} is not one of the group's loops
     */
    public TimerScope childOn(EventExecutor loop, String owner) {
        return childOn(loop, owner, runner);
    }

    /**
     * As {@link #childOn(EventExecutor, String)}, with the child's tasks run by {@code runner} (e.g.
     * in the connection's logging context); null runs them as they are.
     */
    public TimerScope childOn(EventExecutor loop, String owner, TaskRunner runner) {
        Objects.requireNonNull(owner, "owner");
        return adopt(new TimerScope(wheels, owner, this, wheels.wheelOf(Objects.requireNonNull(loop, "loop")), runner));
    }

    /**
     * A child scope on all the loops, like this one (round robin from other threads), whose tasks
     * run by {@code runner}: e.g. a daemon's own timers in its logging context, beside the
     * framework's timers of the same daemon in this scope. Counted in this scope's figures and
     * closed with it.
     */
    public TimerScope child(String owner, TaskRunner runner) {
        Objects.requireNonNull(owner, "owner");
        return adopt(new TimerScope(wheels, owner, this, pinned, runner));
    }

    private TimerScope adopt(TimerScope child) {
        childSet().add(child);
        if (closed) {
            child.close();
        }
        return child;
    }

    @Override
    public Timeout schedule(Duration delay, Runnable task) {
        return submit(Wheel.nanos(delay), task, 0, false);
    }

    @Override
    public Timeout scheduleAtFixedRate(Duration initialDelay, Duration period, Runnable task) {
        return submit(Wheel.nanos(initialDelay), task, Scopes.period(period), true);
    }

    @Override
    public Timeout scheduleWithFixedDelay(Duration initialDelay, Duration delay, Runnable task) {
        return submit(Wheel.nanos(initialDelay), task, Scopes.period(delay), false);
    }

    private Timeout submit(long delayNanos, Runnable task, long periodNanos, boolean fixedRate) {
        Objects.requireNonNull(task, "task");
        LoopWheel here;
        LoopWheel target;
        if (pinned != null) {
            // A connection's: one comparison of threads instead of the thread-local lookup.
            target = pinned;
            here = pinned.inHostThread() ? pinned : null;
        } else {
            here = wheels.current();
            target = here != null ? here : wheels.next();
        }
        TimerOwner part = part(target.index);
        if (here == target) {
            return target.wheel.schedule(part, delayNanos, task, periodNanos, fixedRate);
        }
        TimerNode node =
                Wheel.newNode(part, task, System.nanoTime() + Wheel.clampDelay(delayNanos), periodNanos, fixedRate);
        if (!part.isClosed()) {
            target.execute(() -> target.wheel.linkHandedOver(node));
        }
        return node;
    }

    /** This scope's owner on loop {@code index}, made on first use; a closed owner once the scope is closed. */
    private TimerOwner part(int index) {
        TimerOwner p = partCache[index];
        if (p != null) {
            return p;
        }
        p = parts.get(index);
        if (p != null) {
            partCache[index] = p;
            return p;
        }
        LoopWheel lw = wheels.wheel(index);
        TimerOwner made = new TimerOwner(
                lw.wheel, parent == null ? null : parent.part(index), owner, root.recorders[index], runner);
        // close() swaps closed owners into empty places: either it sees ours, or we see its.
        return parts.compareAndSet(index, null, made) ? made : parts.get(index);
    }

    /**
     * Cancels every timer of this scope and of its children; they never fire after this returns
     * (on a loop) or once each loop has run the hand-over (from other threads). Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        // Children first: a wheel closes an owner after its descendants, whose counts it includes.
        Set<TimerScope> kids = children;
        if (kids != null) {
            for (TimerScope child : kids) {
                child.close();
            }
        }
        for (int i = 0; i < parts.length(); i++) {
            LoopWheel lw = wheels.wheel(i);
            if (parts.compareAndSet(i, null, TimerOwner.closedOn(lw.wheel, owner))) {
                continue;
            }
            TimerOwner p = parts.get(i);
            if (lw.inHostThread()) {
                lw.wheel.close(p);
            } else {
                lw.execute(() -> lw.wheel.close(p));
            }
        }
        if (parent != null) {
            parent.childSet().remove(this);
        } else {
            wheels.removed(this);
        }
    }

    /** Whether {@link #close()} was called, on this scope or an ancestor. */
    public boolean isClosed() {
        return closed;
    }

    /** Live timers of this scope and its children; exact on a loop for that loop's share, recent otherwise. */
    @Override
    public int pending() {
        int n = 0;
        for (int i = 0; i < parts.length(); i++) {
            TimerOwner p = parts.get(i);
            if (p != null) {
                n += p.pending();
            }
        }
        return n;
    }

    /**
     * Lateness of this scope's expiries, its children's included, over the last 30 to 60 seconds. A
     * child scope reports the figures of the daemon scope it belongs to: connections share their
     * daemon's histograms, as one per connection would cost more than its timers.
     */
    public LatenessSnapshot lateness() {
        if (root != this) {
            return root.lateness();
        }
        return window.snapshot(List.of(recorders));
    }

    /** Child scopes not yet closed. */
    public int childCount() {
        Set<TimerScope> kids = children;
        return kids == null ? 0 : kids.size();
    }

    private Set<TimerScope> childSet() {
        Set<TimerScope> kids = children;
        if (kids == null) {
            synchronized (this) {
                kids = children;
                if (kids == null) {
                    kids = ConcurrentHashMap.newKeySet();
                    children = kids;
                }
            }
        }
        return kids;
    }

    @Override
    public String toString() {
        List<String> path = new ArrayList<>();
        for (TimerScope s = this; s != null; s = s.parent) {
            path.add(0, s.owner);
        }
        return "TimerScope" + path + (closed ? "(closed)" : "");
    }
}
