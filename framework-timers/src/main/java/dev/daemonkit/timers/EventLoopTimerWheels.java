package dev.daemonkit.timers;

import dev.daemonkit.timers.internal.TimerNodeFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A timer wheel on every event loop of a group, each advanced by its own loop (no extra thread),
 * and the {@link TimerScope}s that hand them out. Create one per group, at start, and close it
 * after the daemons that use it stopped and before the group shuts down.
 *
 * <p>Thread-safe.
 */
public final class EventLoopTimerWheels implements AutoCloseable {

    /** Up to this many loops, the caller's loop is found by comparing threads; beyond, by a thread-local. */
    private static final int SCAN_LIMIT = 4;

    private final LoopWheel[] loops;
    private final FastThreadLocal<LoopWheel> current;
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final Set<TimerScope> scopes = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private EventLoopTimerWheels(LoopWheel[] loops) {
        this.loops = loops;
        LoopWheel none = new LoopWheel(null, -1, null, null);
        // An event loop's thread never changes, so the loop a thread drives is looked up once per thread.
        this.current = new FastThreadLocal<>() {
            @Override
            protected LoopWheel initialValue() {
                for (LoopWheel lw : loops) {
                    if (lw.loop.inEventLoop()) {
                        return lw;
                    }
                }
                return none;
            }
        };
    }

    /** One wheel per event loop of {@code loops}, shaped by {@code settings}. */
    public static EventLoopTimerWheels create(EventExecutorGroup loops, TimerWheelSettings settings) {
        return create(loops, settings, TimerNodeFactory.PLAIN);
    }

    /**
     * As {@link #create(EventExecutorGroup, TimerWheelSettings)}, with the wheels' one-shot timers
     * made by {@code nodes}: a framework's own handle type, so that it need not wrap each timer.
     */
    public static EventLoopTimerWheels create(
            EventExecutorGroup loops, TimerWheelSettings settings, TimerNodeFactory nodes) {
        Objects.requireNonNull(loops, "loops");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(nodes, "nodes");
        List<LoopWheel> wheels = new ArrayList<>();
        for (EventExecutor loop : loops) {
            wheels.add(new LoopWheel(loop, wheels.size(), settings, nodes));
        }
        if (wheels.isEmpty()) {
            throw new IllegalArgumentException(
                    "event executor group " + loops + " has no event loops to put timer wheels on");
        }
        return new EventLoopTimerWheels(wheels.toArray(new LoopWheel[0]));
    }

    /**
     * A scope for one owner, e.g. a daemon: its timers go to the wheel of the loop that schedules
     * them, or round robin over the group from other threads. After {@link #close()}, the scope is
     * closed from birth.
     */
    public TimerScope newScope(String owner) {
        Objects.requireNonNull(owner, "owner");
        TimerScope scope = new TimerScope(this, owner, null, null, null);
        scopes.add(scope);
        if (closed) {
            scope.close();
        }
        return scope;
    }

    /** Closes every scope (cancelling all their timers) and stops the loops' drivers. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (TimerScope scope : scopes) {
            scope.close();
        }
        for (LoopWheel lw : loops) {
            if (lw.inHostThread()) {
                lw.disarm();
            } else {
                lw.execute(lw::disarm);
            }
        }
    }

    /**
     * Unlinks from every wheel the timers of closed scopes and drops their tasks, on each wheel's loop. A closed
     * scope's timers never fire, but stay linked, task and all, until their slot comes or enough of them are dead to
     * pay for a sweep; so a plugin version retired by a hot deploy would stay loaded until its longest timer's slot
     * came (a stats timer: a minute). Completes when every loop has swept (at once for a loop that is shut down).
     */
    public CompletableFuture<Void> sweepClosed() {
        List<CompletableFuture<Void>> swept = new ArrayList<>();
        for (LoopWheel lw : loops) {
            if (lw.wheel == null || lw.loop.isShuttingDown()) {
                continue;
            }
            CompletableFuture<Void> done = new CompletableFuture<>();
            try {
                lw.loop.execute(() -> {
                    try {
                        lw.wheel.sweep();
                    } finally {
                        done.complete(null);
                    }
                });
            } catch (RejectedExecutionException shutDown) {
                done.complete(null);
            }
            swept.add(done);
        }
        return CompletableFuture.allOf(swept.toArray(CompletableFuture[]::new));
    }

    /** Number of event loops, each with its wheel. */
    public int loopCount() {
        return loops.length;
    }

    /** Live timers on all wheels; recent, not exact, when read off the loops. */
    public int pending() {
        int n = 0;
        for (TimerScope s : scopes) {
            n += s.pending();
        }
        return n;
    }

    /** The wheel of the loop the caller runs on, or null when the caller is not one of this group's loops. */
    LoopWheel current() {
        if (loops.length <= SCAN_LIMIT) {
            // A thread comparison per loop is cheaper than the thread-local lookup for a few loops.
            for (LoopWheel lw : loops) {
                if (lw.loop.inEventLoop()) {
                    return lw;
                }
            }
            return null;
        }
        LoopWheel lw = current.get();
        return lw.index < 0 ? null : lw;
    }

    LoopWheel next() {
        return loops[Math.floorMod(roundRobin.getAndIncrement(), loops.length)];
    }

    LoopWheel wheel(int index) {
        return loops[index];
    }

    /** The wheel of {@code loop}. */
    LoopWheel wheelOf(EventExecutor loop) {
        for (LoopWheel lw : loops) {
            if (lw.loop == loop) {
                return lw;
            }
        }
        throw new IllegalArgumentException(
                "event loop " + loop + " is not in the group these timer wheels were made for;" + " pass one of its "
                        + loops.length + " loops (e.g. channel.eventLoop() of a channel on that group)");
    }

    void removed(TimerScope scope) {
        scopes.remove(scope);
    }
}
