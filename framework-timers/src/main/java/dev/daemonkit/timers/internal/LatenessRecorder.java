package dev.daemonkit.timers.internal;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * Lateness of expiries on one wheel, written by the wheel's thread without locks or allocation and
 * drained from any thread. One per daemon scope per event loop: connection scopes record into their
 * daemon's, since a histogram per connection would cost more than the connection's timers.
 */
public final class LatenessRecorder {

    // Microsecond resolution up to a minute keeps a histogram near 20 KB; later is recorded as a minute.
    static final long LOWEST_NANOS = 1_000;
    static final long HIGHEST_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final int DIGITS = 2;

    private volatile SingleWriterRecorder recorder;
    private Histogram recycled;

    /** Wheel thread only. The recorder is created on first use, so loops a scope never uses cost nothing. */
    void record(long latenessNanos) {
        SingleWriterRecorder r = recorder;
        if (r == null) {
            r = new SingleWriterRecorder(LOWEST_NANOS, HIGHEST_NANOS, DIGITS);
            recorder = r;
        }
        r.recordValue(Math.min(Math.max(latenessNanos, 0), HIGHEST_NANOS));
    }

    /** Adds what was recorded since the last drain to {@code into}. Callers serialize drains of one recorder. */
    public void drainInto(Histogram into) {
        SingleWriterRecorder r = recorder;
        if (r == null) {
            return;
        }
        recycled = r.getIntervalHistogram(recycled);
        into.add(recycled);
    }

    /** A histogram that {@link #drainInto} can add to. */
    public static Histogram newHistogram() {
        return new Histogram(LOWEST_NANOS, HIGHEST_NANOS, DIGITS);
    }
}
