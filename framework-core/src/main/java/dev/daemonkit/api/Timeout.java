package dev.daemonkit.api;

import java.time.Duration;

/** A handle to one scheduled task of {@link Timers}. Safe to use from any thread. */
public interface Timeout {

    /** Cancels the task: it never runs afterwards. Idempotent. Returns true if this call cancelled it. */
    boolean cancel();

    /**
     * Moves the deadline to now + {@code delay} without allocating (the heartbeat pattern: push it
     * back on every message). Returns false if the task already ran (one-shot) or was cancelled.
     */
    boolean reschedule(Duration delay);

    /** True while the task is scheduled: not yet run (one-shot) and not cancelled. */
    boolean isPending();
}
