package dev.daemonkit.internal.timers;

import dev.daemonkit.api.Timeout;
import dev.daemonkit.api.Timers;
import dev.daemonkit.internal.transport.LoopActivity;
import dev.daemonkit.logging.LogContext;
import dev.daemonkit.timers.TimerScope;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.MDC;

/**
 * The plugin API's {@link Timers} over one {@link TimerScope} of the wheel (a daemon's, or one
 * connection's). Every task runs with the owner's logging context, so its log lines land in the
 * daemon's log with the connection's id and peer.
 */
public final class ScopedTimers implements Timers, AutoCloseable {
    private final TimerScope scope;
    private final String daemon;
    private final String connection;
    private final String peer;

    public ScopedTimers(TimerScope scope, String daemon, String connection, String peer) {
        this.scope = scope;
        this.daemon = daemon;
        this.connection = connection;
        this.peer = peer;
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
        Objects.requireNonNull(task, "task");
        return () -> {
            LoopActivity.forget(daemon);
            MDC.put(LogContext.DAEMON, daemon);
            if (connection != null) {
                MDC.put(LogContext.CONNECTION, connection);
                MDC.put(LogContext.PEER, peer);
            }
            try {
                task.run();
            } finally {
                MDC.remove(LogContext.DAEMON);
                MDC.remove(LogContext.CONNECTION);
                MDC.remove(LogContext.PEER);
            }
        };
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
