package dev.daemonkit.internal.timers;

import dev.daemonkit.api.Timeout;
import dev.daemonkit.api.Timers;
import dev.daemonkit.internal.transport.LogScope;
import dev.daemonkit.timers.TimerScope;
import dev.daemonkit.timers.internal.TimerNode;
import dev.daemonkit.timers.internal.TimerNodeFactory;
import dev.daemonkit.timers.internal.TimerOwner;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.Objects;

/**
 * The plugin API's {@link Timers} over one {@link TimerScope} of the wheel (a daemon's, or one
 * connection's). Every task runs with the owner's logging context, so its log lines land in the
 * daemon's log with the connection's id and peer.
 *
 * <p>Why it costs one object per timer: the scope runs every task in the context (a
 * {@link dev.daemonkit.timers.TaskRunner}), instead of a wrapper per task; and the wheels are made
 * with {@link #NODES}, so a one-shot timer's node is itself the API's {@link Timeout}. Only
 * repeating timers, timers scheduled from outside the loops and those more than 12 days away get a
 * wrapper handle.
 */
public final class ScopedTimers implements Timers, AutoCloseable {

    /** Give this to {@code EventLoopTimerWheels.create}: one-shot timers are then API handles too. */
    public static final TimerNodeFactory NODES = ApiTimeout::new;

    private final TimerScope scope;

    private ScopedTimers(TimerScope scope) {
        this.scope = scope;
    }

    /** A daemon's timers ({@code DaemonContext.timers()}): a child of its scope, run in its logging context. */
    public static ScopedTimers ofDaemon(TimerScope daemon, LogScope context) {
        return new ScopedTimers(daemon.child(context.daemon(), context));
    }

    /**
     * One connection's timers ({@code DaemonContext.timers(channel)}): a child of the daemon's scope
     * on the connection's loop, run in the connection's logging context (its front handler).
     */
    public static ScopedTimers ofConnection(TimerScope daemon, EventExecutor loop, LogScope context) {
        // Owned by the daemon's name: no string more per connection, which matters with 19,000 of them.
        return new ScopedTimers(daemon.childOn(loop, context.daemon(), context));
    }

    public TimerScope scope() {
        return scope;
    }

    /** Cancels every timer of this owner (a connection's, when it closes). Idempotent. */
    @Override
    public void close() {
        scope.close();
    }

    @Override
    public Timeout schedule(Duration delay, Runnable task) {
        return api(scope.schedule(delay, Objects.requireNonNull(task, "task")));
    }

    @Override
    public Timeout scheduleAtFixedRate(Duration initialDelay, Duration period, Runnable task) {
        return api(scope.scheduleAtFixedRate(initialDelay, period, Objects.requireNonNull(task, "task")));
    }

    @Override
    public Timeout scheduleWithFixedDelay(Duration initialDelay, Duration delay, Runnable task) {
        return api(scope.scheduleWithFixedDelay(initialDelay, delay, Objects.requireNonNull(task, "task")));
    }

    @Override
    public int pending() {
        return scope.pending();
    }

    private static Timeout api(dev.daemonkit.timers.Timeout timeout) {
        // An exact class test: cheaper than an interface instanceof on the common path.
        return timeout.getClass() == ApiTimeout.class ? (ApiTimeout) timeout : new Handle(timeout);
    }

    /** A one-shot node of the wheel that is also the API's handle: its methods are the node's. */
    static final class ApiTimeout extends TimerNode implements Timeout {
        ApiTimeout(TimerOwner owner, Runnable task) {
            super(owner, task);
        }
    }

    /** The API's handle over the wheel's, for the nodes the wheel makes itself. */
    private record Handle(dev.daemonkit.timers.Timeout timeout) implements Timeout {
        @Override
        public boolean cancel() {
            return timeout.cancel();
        }

        @Override
        public boolean reschedule(Duration delay) {
            return timeout.reschedule(delay);
        }

        @Override
        public boolean isPending() {
            return timeout.isPending();
        }
    }
}
