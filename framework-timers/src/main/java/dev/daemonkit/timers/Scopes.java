package dev.daemonkit.timers;

import dev.daemonkit.timers.internal.Wheel;
import java.time.Duration;

/** Argument checks shared by the {@link Timers} implementations. */
final class Scopes {

    private Scopes() {}

    static long period(Duration period) {
        long nanos = Wheel.nanos(period);
        if (nanos <= 0) {
            throw new IllegalArgumentException("timer period " + period + " must be positive");
        }
        return nanos;
    }
}
