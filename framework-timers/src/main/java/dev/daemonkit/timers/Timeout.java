package dev.daemonkit.timers;

import java.time.Duration;

/**
 * A handle to one scheduled task.
 *
 * <p>All methods may be called from any thread. On the thread that drives the timer's wheel they
 * act at once; from any other thread the change is handed to that thread, but the answer is exact:
 * {@link #cancel()} decides atomically, so a timer that one call cancelled never fires afterwards.
 */
public interface Timeout {

    /**
     * Cancels the timer. Idempotent and O(1): a second call, or a call after a one-shot timer fired,
     * returns {@code false}. On the wheel's own thread the timer is unlinked at once, so the wheel
     * keeps no reference to it or its task.
     *
     * @return {@code true} if this call cancelled the timer
     */
    boolean cancel();

    /**
     * Moves the next deadline to now + {@code delay} without allocating (the heartbeat pattern: push
     * an idle timeout back on every message). A repeating timer keeps its period after that deadline.
     *
     * @return {@code false} if the timer already fired (one-shot) or was cancelled
     */
    boolean reschedule(Duration delay);

    /** Whether the timer will still fire: not cancelled, not closed with its scope, and not yet fired (one-shot). */
    boolean isPending();
}
