package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import dev.daemonkit.logging.LogContext;
import java.util.Map;
import org.slf4j.MDC;
import org.slf4j.Marker;

/**
 * Decides every logging call, before Logback builds an event: the daemon's levels, then the repeat
 * limit of WARN/ERROR.
 *
 * <p>Why a TurboFilter and not Logback logger levels: two instances of one plugin log through loggers
 * with the same names (same classes, different class loaders), so only the MDC key
 * {@code daemon}, which the core sets on every callback, tells them apart. Global levels stay plain
 * Logback logger levels: when this filter says NEUTRAL, Logback applies them.
 *
 * <p>Precedence, as documented: per-logger in daemon > daemon level > global per-logger > global level.
 *
 * <p>Runs on every thread on every call, including {@code isDebugEnabled()}: with no daemon overrides
 * it costs one volatile read; otherwise one MDC lookup and two map lookups.
 */
public final class DaemonLevelFilter extends TurboFilter {

    private volatile Map<String, DaemonLevels> daemons = Map.of();
    private final RepeatLimiter repeats;
    private final Shedding shedding;

    /**
     * Refuses a TRACE/DEBUG/INFO line up front when every output it would go to is saturated (a
     * stalled disk), counting it as dropped by each: building an event only for every output to
     * drop it would still cost the logging thread.
     */
    public interface Shedding {
        /** Cheap: true if the outputs every line goes to are all saturated now. */
        boolean globalSaturated();

        /** Whether the line of {@code daemon} (null: none) is to be refused; if so, counts it. */
        boolean shed(String daemon);
    }

    /** Whether lines need the lazy keys in the MDC (a user's logback.xml reads them there). */
    private final boolean fillMdc;

    /**
     * @param repeats  null: no repeat limit (a user's logback.xml is in charge)
     * @param shedding null: no early refusal
     * @param fillMdc  put the lazy keys in the MDC before a line is built: true when the outputs are a
     *                 user's (Daemonkit's own take them with the line, {@link LogContext#lazyValue})
     */
    public DaemonLevelFilter(RepeatLimiter repeats, Shedding shedding, boolean fillMdc) {
        this.repeats = repeats;
        this.shedding = shedding;
        this.fillMdc = fillMdc;
        setName("daemonkit-levels");
    }

    /** Publishes a new table of overrides; daemons without any override should be left out. */
    public void daemons(Map<String, DaemonLevels> table) {
        this.daemons = Map.copyOf(table);
    }

    @Override
    public void start() {
        super.start();
        LogContext.filterRunning(true);
    }

    @Override
    public void stop() {
        LogContext.filterRunning(false);
        super.stop();
    }

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        FilterReply reply = decideLevels(marker, logger, level, format);
        // A line will be built: give it the context keys that are only built when needed.
        if (fillMdc
                && format != null
                && reply != FilterReply.DENY
                && (reply == FilterReply.ACCEPT || level.isGreaterOrEqual(logger.getEffectiveLevel()))) {
            LogContext.fill();
        }
        return reply;
    }

    private FilterReply decideLevels(Marker marker, Logger logger, Level level, String format) {
        if (!isStarted()) {
            return FilterReply.NEUTRAL;
        }
        FilterReply reply = FilterReply.NEUTRAL;
        String daemon = null;
        Map<String, DaemonLevels> table = daemons;
        if (!table.isEmpty() || repeats != null && level.levelInt >= Level.WARN_INT) {
            daemon = MDC.get(LogContext.DAEMON);
        }
        if (daemon != null && !table.isEmpty()) {
            DaemonLevels levels = table.get(daemon);
            Level threshold = levels == null ? null : levels.threshold(logger.getName());
            if (threshold != null) {
                reply = level.isGreaterOrEqual(threshold) ? FilterReply.ACCEPT : FilterReply.DENY;
            }
        }
        if (shedding != null
                && level.levelInt < Level.WARN_INT
                && format != null
                && reply != FilterReply.DENY
                && shedding.globalSaturated()
                && (reply == FilterReply.ACCEPT || level.isGreaterOrEqual(logger.getEffectiveLevel()))
                && shedding.shed(daemon != null ? daemon : MDC.get(LogContext.DAEMON))) {
            return FilterReply.DENY;
        }
        // Only real WARN/ERROR lines count towards the limit: not isWarnEnabled() probes (no
        // format), not lines the levels drop anyway, not the limiter's own summaries.
        if (repeats == null
                || reply == FilterReply.DENY
                || format == null
                || level.levelInt < Level.WARN_INT
                || RepeatLimiter.isSummary(marker)) {
            return reply;
        }
        if (reply == FilterReply.NEUTRAL && !level.isGreaterOrEqual(logger.getEffectiveLevel())) {
            return reply;
        }
        return repeats.allow(daemon, logger.getName(), level, format) ? reply : FilterReply.DENY;
    }
}
