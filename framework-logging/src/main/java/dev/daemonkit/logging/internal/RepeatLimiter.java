package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import dev.daemonkit.logging.LogContext;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.MDC;
import org.slf4j.Marker;
import org.slf4j.MarkerFactory;

/**
 * Limits identical WARN/ERROR lines, so that one bad input sent by ten thousand clients writes a few
 * lines and a count, not ten thousand lines.
 *
 * <p>Identical means same daemon, logger, level and message pattern (the format string before its
 * {@code {}} arguments are filled in): the arguments usually carry the peer or the bad bytes, which
 * differ per client, while the pattern names the problem. The first {@code limit} lines of a window
 * of {@code period} pass; later ones are counted, and the count is logged under the same logger and
 * daemon when the window ends (on the next occurrence, or by {@link #sweep}).
 *
 * <p>Thread-safe. Memory is bounded by {@code maxTracked} patterns; beyond that nothing is limited.
 */
public final class RepeatLimiter {

    private static final Marker SUMMARY = MarkerFactory.getDetachedMarker("DAEMONKIT_REPEAT_SUMMARY");

    private record Key(String daemon, String logger, Level level, String format) {}

    private static final class Window {
        long startNanos;
        int passed;
        long suppressed;

        Window(long startNanos) {
            this.startNanos = startNanos;
        }
    }

    private final LoggerContext context;
    private final int limit;
    private final long periodNanos;
    private final int maxTracked;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<Key, Window> windows = new ConcurrentHashMap<>();

    public RepeatLimiter(LoggerContext context, int limit, Duration period, int maxTracked, LongSupplier nanoClock) {
        this.context = context;
        this.limit = limit;
        this.periodNanos = period.toNanos();
        this.maxTracked = maxTracked;
        this.nanoClock = nanoClock;
    }

    static boolean isSummary(Marker marker) {
        return marker == SUMMARY;
    }

    /** Whether this occurrence may be logged; counts it either way. */
    public boolean allow(String daemon, String logger, Level level, String format) {
        if (limit <= 0) {
            return true;
        }
        Key key = new Key(daemon, logger, level, format);
        long now = nanoClock.getAsLong();
        Window window = windows.get(key);
        if (window == null) {
            if (windows.size() >= maxTracked) {
                return true;
            }
            window = windows.computeIfAbsent(key, k -> new Window(now));
        }
        long ended;
        long endedNanos;
        boolean allowed;
        synchronized (window) {
            ended = 0;
            endedNanos = now - window.startNanos;
            if (endedNanos >= periodNanos) {
                ended = window.suppressed;
                window.startNanos = now;
                window.passed = 0;
                window.suppressed = 0;
            }
            allowed = window.passed < limit;
            if (allowed) {
                window.passed++;
            } else {
                window.suppressed++;
            }
        }
        if (ended > 0) {
            // Logged from inside the TurboFilter: Logback holds no lock here, and the SUMMARY marker
            // keeps the summary itself out of the limit.
            report(key, ended, endedNanos);
        }
        return allowed;
    }

    /**
     * Logs the counts of windows that have ended (all windows when {@code all}, as on close) and
     * forgets patterns not seen for a whole period. Called by the framework on its sweeper thread.
     */
    public void sweep(boolean all) {
        long now = nanoClock.getAsLong();
        for (Map.Entry<Key, Window> entry : windows.entrySet()) {
            Window window = entry.getValue();
            long suppressed = 0;
            long elapsed;
            synchronized (window) {
                elapsed = now - window.startNanos;
                if (all || elapsed >= periodNanos) {
                    suppressed = window.suppressed;
                    window.suppressed = 0;
                    if (suppressed == 0) {
                        windows.remove(entry.getKey(), window);
                    }
                }
            }
            if (suppressed > 0) {
                report(entry.getKey(), suppressed, elapsed);
            }
        }
    }

    private void report(Key key, long suppressed, long elapsedNanos) {
        String previous = MDC.get(LogContext.DAEMON);
        boolean swap = key.daemon() != null && !key.daemon().equals(previous);
        if (swap) {
            MDC.put(LogContext.DAEMON, key.daemon());
        }
        try {
            long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(elapsedNanos));
            Logger logger = context.getLogger(key.logger());
            String message = "suppressed {} repeats of this {} in the last {} s: \"{}\"";
            Object[] args = {suppressed, key.level(), seconds, key.format()};
            if (key.level().levelInt >= Level.ERROR_INT) {
                logger.error(SUMMARY, message, args);
            } else {
                logger.warn(SUMMARY, message, args);
            }
        } finally {
            if (swap) {
                if (previous == null) {
                    MDC.remove(LogContext.DAEMON);
                } else {
                    MDC.put(LogContext.DAEMON, previous);
                }
            }
        }
    }
}
