package dev.daemonkit.api;

import java.time.Duration;

/**
 * Timers on the daemon's event loops (a hierarchical timer wheel per loop). Scheduling from a handler
 * runs on that handler's own loop with no lock; other threads may schedule too. Tasks never run early,
 * run with the daemon's logging context, and an exception in one is logged and harms nothing else.
 * Every timer belongs to its daemon (or connection): stopping the daemon, or closing the connection,
 * cancels it.
 */
public interface Timers {

    /** Runs {@code task} once, after {@code delay}. */
    Timeout schedule(Duration delay, Runnable task);

    /** Runs {@code task} every {@code period}, the first time after {@code initialDelay}. */
    Timeout scheduleAtFixedRate(Duration initialDelay, Duration period, Runnable task);

    /** Runs {@code task} after {@code initialDelay}, then again {@code delay} after each run ends. */
    Timeout scheduleWithFixedDelay(Duration initialDelay, Duration delay, Runnable task);

    /** Convenience: {@code scheduleAtFixedRate(period, period, task)}. */
    default Timeout every(Duration period, Runnable task) {
        return scheduleAtFixedRate(period, period, task);
    }

    /** How many timers of this owner are pending now. */
    int pending();
}
