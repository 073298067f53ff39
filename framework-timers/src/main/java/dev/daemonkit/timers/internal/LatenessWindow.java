package dev.daemonkit.timers.internal;

import dev.daemonkit.timers.LatenessSnapshot;
import org.HdrHistogram.Histogram;

/**
 * "Recent" lateness for a reader: what the recorders saw in the last 30 to 60 seconds, as two
 * 30-second halves, the older one dropped as a new one starts. Thread-safe; readers are rare
 * (an admin endpoint, a metrics scrape), so a lock is fine here and never touches the wheel.
 */
public final class LatenessWindow {

    private static final long HALF_NANOS = 30_000_000_000L;

    private Histogram current = LatenessRecorder.newHistogram();
    private Histogram previous = LatenessRecorder.newHistogram();
    private final Histogram merged = LatenessRecorder.newHistogram();
    private long currentSince = System.nanoTime();

    /** Drains {@code recorders} (null entries skipped) and summarizes the window. */
    public synchronized LatenessSnapshot snapshot(Iterable<LatenessRecorder> recorders) {
        long now = System.nanoTime();
        if (now - currentSince >= HALF_NANOS) {
            Histogram older = previous;
            previous = current;
            older.reset();
            current = older;
            currentSince = now;
        }
        for (LatenessRecorder r : recorders) {
            if (r != null) {
                r.drainInto(current);
            }
        }
        merged.reset();
        merged.add(previous);
        merged.add(current);
        long count = merged.getTotalCount();
        if (count == 0) {
            return LatenessSnapshot.EMPTY;
        }
        return new LatenessSnapshot(
                count, merged.getValueAtPercentile(50), merged.getValueAtPercentile(99), merged.getMaxValue());
    }
}
