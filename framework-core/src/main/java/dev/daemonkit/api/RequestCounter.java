package dev.daemonkit.api;

/**
 * Counts the requests a daemon served, for {@code daemonkit_requests_total}. It only goes up: the
 * framework owns the total. Cheap from any thread at once (a {@code LongAdder} underneath).
 */
public interface RequestCounter {

    /** One more request served. */
    void increment();

    /** {@code requests} more served (a batch); {@code requests} must not be negative. */
    void add(long requests);

    /** Requests counted since the daemon started. */
    long count();
}
