package dev.daemonkit.timers.internal;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.WriterReaderPhaser;

/**
 * Lateness of expiries on one wheel, written by the wheel's thread without locks or allocation and
 * drained from any thread. One per daemon scope per event loop: connection scopes record into their
 * daemon's, since a histogram per connection would cost more than the connection's timers.
 *
 * <p>The wheel records a batch at a time ({@link #recordAll}): the writer's side of the phaser is
 * two atomic increments, which per timer cost more than the histogram itself.
 */
public final class LatenessRecorder {

    // Microsecond resolution up to a minute keeps a histogram near 20 KB; later is recorded as a minute.
    static final long LOWEST_NANOS = 1_000;
    static final long HIGHEST_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final int DIGITS = 2;

    private final WriterReaderPhaser phaser = new WriterReaderPhaser();
    /** Written to by the wheel's thread; made on first use, so loops a scope never uses cost nothing. */
    private volatile Histogram active;
    /** The other histogram, swapped in by a drain; reader side only. */
    private Histogram spare;

    /** Wheel thread only: records {@code values[0..count)}. */
    void recordAll(long[] values, int count) {
        long token = phaser.writerCriticalSectionEnter();
        try {
            Histogram h = active;
            if (h == null) {
                h = newHistogram();
                active = h;
            }
            for (int i = 0; i < count; i++) {
                h.recordValue(Math.min(Math.max(values[i], 0), HIGHEST_NANOS));
            }
        } finally {
            phaser.writerCriticalSectionExit(token);
        }
    }

    /** Adds what was recorded since the last drain to {@code into}. Callers serialize drains of one recorder. */
    public void drainInto(Histogram into) {
        phaser.readerLock();
        try {
            Histogram recorded = active;
            if (recorded == null) {
                return;
            }
            Histogram next = spare != null ? spare : newHistogram();
            next.reset();
            active = next;
            phaser.flipPhase(); // waits for a batch still writing into the old one
            spare = recorded;
            into.add(recorded);
        } finally {
            phaser.readerUnlock();
        }
    }

    /** A histogram that {@link #drainInto} can add to. */
    public static Histogram newHistogram() {
        return new Histogram(LOWEST_NANOS, HIGHEST_NANOS, DIGITS);
    }
}
