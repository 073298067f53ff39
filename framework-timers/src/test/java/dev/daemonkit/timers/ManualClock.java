package dev.daemonkit.timers;

import java.util.function.LongSupplier;

/** A clock that moves only when the test moves it. */
final class ManualClock implements LongSupplier {

    private long nanos;

    ManualClock(long startNanos) {
        this.nanos = startNanos;
    }

    @Override
    public long getAsLong() {
        return nanos;
    }

    void advance(long deltaNanos) {
        nanos += deltaNanos;
    }

    void set(long nowNanos) {
        nanos = nowNanos;
    }
}
