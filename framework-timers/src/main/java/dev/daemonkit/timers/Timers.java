package dev.daemonkit.timers;

import java.time.Duration;

/**
 * Schedules tasks on a timer wheel. Tasks never run before their deadline; they run on the wheel's
 * thread (an event loop, or a {@link ThreadTimerWheel}'s own thread), so they must not block.
 * An exception thrown by a task is logged and does not stop the wheel or the timer's period.
 */
public interface Timers {

    /** Runs {@code task} once, {@code delay} from now. */
    Timeout schedule(Duration delay, Runnable task);

    /**
     * Runs {@code task} after {@code initialDelay}, then every {@code period} measured from the
     * previous deadline (a late run does not shift the ones after it). Runs missed entirely, e.g.
     * while the machine was suspended, are skipped rather than run back to back.
     */
    Timeout scheduleAtFixedRate(Duration initialDelay, Duration period, Runnable task);

    /** Runs {@code task} after {@code initialDelay}, then {@code delay} after each run ends. */
    Timeout scheduleWithFixedDelay(Duration initialDelay, Duration delay, Runnable task);

    /** Timers pending in this view (a scope counts its children). Exact on the wheel's thread, recent elsewhere. */
    int pending();
}
