package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One daemon's level overrides: its own level and its per-logger levels. Immutable; a change makes a
 * new instance, so the cache below never needs invalidating.
 *
 * <p>Thread-safe: {@link #threshold} runs on every logging call of every thread of the daemon.
 */
public final class DaemonLevels {

    // ConcurrentHashMap holds no nulls: this stands for "no override, inherit the global levels".
    private static final Object INHERIT = new Object();

    private final Level level;
    private final Map<String, Level> loggers;
    // Logger name -> Level or INHERIT. Bounded by the number of logger names in the JVM.
    private final ConcurrentHashMap<String, Object> resolved = new ConcurrentHashMap<>();

    public DaemonLevels(Level level, Map<String, Level> loggers) {
        this.level = level;
        this.loggers = Map.copyOf(loggers);
    }

    /** The daemon's own level, null when it inherits. */
    public Level level() {
        return level;
    }

    public Map<String, Level> loggers() {
        return loggers;
    }

    public boolean isEmpty() {
        return level == null && loggers.isEmpty();
    }

    public DaemonLevels withLevel(Level newLevel) {
        return new DaemonLevels(newLevel, loggers);
    }

    public DaemonLevels withLogger(String logger, Level newLevel) {
        Map<String, Level> copy = new HashMap<>(loggers);
        if (newLevel == null) {
            copy.remove(logger);
        } else {
            copy.put(logger, newLevel);
        }
        return new DaemonLevels(level, copy);
    }

    /**
     * The level a line from {@code loggerName} must reach inside this daemon, or null when the daemon
     * has no say and the global levels decide. The nearest per-logger entry wins (a name covers its
     * children, as in Logback), then the daemon's level.
     */
    public Level threshold(String loggerName) {
        Object cached = resolved.get(loggerName);
        if (cached == null) {
            Level found = lookup(loggerName);
            cached = found == null ? INHERIT : found;
            resolved.put(loggerName, cached);
        }
        return cached == INHERIT ? null : (Level) cached;
    }

    private Level lookup(String loggerName) {
        String name = loggerName;
        while (true) {
            Level exact = loggers.get(name);
            if (exact != null) {
                return exact;
            }
            // Logback separates name segments with '.' and '$' (inner classes); do the same.
            int cut = Math.max(name.lastIndexOf('.'), name.lastIndexOf('$'));
            if (cut <= 0) {
                return level;
            }
            name = name.substring(0, cut);
        }
    }
}
