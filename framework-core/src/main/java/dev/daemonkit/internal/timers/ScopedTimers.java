package dev.daemonkit.internal.timers;

import dev.daemonkit.api.Timeout;
import dev.daemonkit.api.Timers;
import dev.daemonkit.internal.transport.LogScope;
import dev.daemonkit.timers.TimerScope;
import java.time.Duration;
import java.util.Objects;

/**
 * The plugin API's {@link Timers} over one {@link TimerScope} of the wheel (a daemon's, or one
 * connection's). Every task runs with the owner's logging context, so its log lines land in the
 * daemon's log with the connection's id and peer.
 */
public final class ScopedTimers implements Timers, AutoCloseable {
    private final TimerScope scope;
    private final LogScope context;

    /** @param context the logging context of every task: the daemon's, or the connection's own front handler */
    public ScopedTimers(TimerScope scope, LogScope context) {
        this.scope = scope;
        this.context = context;
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
        return new Handle(scope.schedule(delay, withContext(task)));
    }

    @Override
    public Timeout scheduleAtFixedRate(Duration initialDelay, Duration period, Runnable task) {
        return new Handle(scope.scheduleAtFixedRate(initialDelay, period, withContext(task)));
    }

    @Override
    public Timeout scheduleWithFixedDelay(Duration initialDelay, Duration delay, Runnable task) {
        return new Handle(scope.scheduleWithFixedDelay(initialDelay, delay, withContext(task)));
    }

    @Override
    public int pending() {
        return scope.pending();
    }

    private Runnable withContext(Runnable task) {
        return context.wrap(Objects.requireNonNull(task, "task"));
    }

    /** The API's handle over the wheel's. */
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
