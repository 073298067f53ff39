package dev.daemonkit.timers;

import java.time.Duration;
import java.util.Objects;

/**
 * Shape of a timer wheel.
 *
 * @param tick      the wheel's resolution: deadlines are rounded up to a whole tick, so a timer
 *                  fires at most one tick (plus its thread's own latency) after its deadline;
 *                  between 1 microsecond and 1 hour
 * @param wheelSize slots per level, a power of two from 2 to 65536; levels are added until the
 *                  wheel spans 2^32 ticks, so a larger size means fewer levels and fewer cascades
 *                  but more memory per wheel (32 bytes per slot)
 */
public record TimerWheelSettings(Duration tick, int wheelSize) {

    private static final TimerWheelSettings DEFAULTS = new TimerWheelSettings(Duration.ofMillis(1), 1024);

    public TimerWheelSettings {
        Objects.requireNonNull(tick, "tick");
        if (tick.compareTo(Duration.ofNanos(1_000)) < 0 || tick.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("timer wheel tick " + tick
                    + " is out of range: use between 1 microsecond and 1 hour (the default is 1 ms)");
        }
        if (wheelSize < 2 || wheelSize > 65_536 || Integer.bitCount(wheelSize) != 1) {
            throw new IllegalArgumentException(
                    "timer wheel size " + wheelSize + " must be a power of two from 2 to 65536 (the default is 1024)");
        }
    }

    /**
     * A 1 ms tick and 1024 slots per level (four levels: 1 s, 17.5 min, 12.4 days, 35 years): 160 KB of
     * slots per wheel. Why 1024 and not 256 (40 KB): deadlines within a second (request deadlines,
     * retries, fast heartbeats) then sit in level 0 and are never cascaded; at 256 slots those of
     * 256 ms to 1 s were moved once more and a timer expired cost 1.12-1.18x the CPU of Agrona's
     * 1024-slot wheel, 0.97-1.01x at 1024 (docs/benchmarks.md, "Where issue 17's targets stand").
     */
    public static TimerWheelSettings defaults() {
        return DEFAULTS;
    }

    public TimerWheelSettings withTick(Duration newTick) {
        return new TimerWheelSettings(newTick, wheelSize);
    }

    public TimerWheelSettings withWheelSize(int newWheelSize) {
        return new TimerWheelSettings(tick, newWheelSize);
    }

    /** The tick in nanoseconds. */
    public long tickNanos() {
        return tick.toNanos();
    }
}
