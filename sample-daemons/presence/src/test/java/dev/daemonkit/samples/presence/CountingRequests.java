package dev.daemonkit.samples.presence;

import dev.daemonkit.api.RequestCounter;
import java.util.concurrent.atomic.LongAdder;

/** The daemon's request counter, as the framework gives it, for tests that build a {@link Presence} by hand. */
final class CountingRequests implements RequestCounter {
    private final LongAdder count = new LongAdder();

    @Override
    public void increment() {
        count.increment();
    }

    @Override
    public void add(long requests) {
        count.add(requests);
    }

    @Override
    public long count() {
        return count.sum();
    }
}
