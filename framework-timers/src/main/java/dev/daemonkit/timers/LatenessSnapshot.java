package dev.daemonkit.timers;

/**
 * How late recent expiries ran: the time from the tick a timer was due to the moment its task
 * started. Deadlines are first rounded up to the wheel's tick, so a timer's lateness against the
 * deadline it asked for is at most one tick more than this.
 *
 * @param count    expiries recorded in the window
 * @param p50Nanos median lateness, 0 when {@code count} is 0
 * @param p99Nanos 99th percentile
 * @param maxNanos largest lateness seen
 */
public record LatenessSnapshot(long count, long p50Nanos, long p99Nanos, long maxNanos) {

    /** No expiries recorded. */
    public static final LatenessSnapshot EMPTY = new LatenessSnapshot(0, 0, 0, 0);
}
