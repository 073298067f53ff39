package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import java.util.Locale;
import java.util.Optional;

/**
 * Strict level names. Logback's own {@code Level.toLevel} turns a typo into DEBUG without a word;
 * a daemon that silently logs at DEBUG for months is exactly what this class prevents.
 */
public final class LogLevels {

    /** What a user may write, for error messages. */
    public static final String CHOICES = "TRACE, DEBUG, INFO, WARN, ERROR or OFF";

    /** The word that removes an override so the level comes from the next place in precedence. */
    public static final String INHERIT = "inherit";

    private LogLevels() {}

    /** The level named {@code name} (any case), or empty when the name is not a level. */
    public static Optional<Level> parse(String name) {
        if (name == null) {
            return Optional.empty();
        }
        switch (name.trim().toUpperCase(Locale.ROOT)) {
            case "TRACE":
                return Optional.of(Level.TRACE);
            case "DEBUG":
                return Optional.of(Level.DEBUG);
            case "INFO":
                return Optional.of(Level.INFO);
            case "WARN":
                return Optional.of(Level.WARN);
            case "ERROR":
                return Optional.of(Level.ERROR);
            case "OFF":
                return Optional.of(Level.OFF);
            default:
                return Optional.empty();
        }
    }

    public static boolean isInherit(String name) {
        return name != null && INHERIT.equalsIgnoreCase(name.trim());
    }

    /** Display name of a possibly absent level: absent means inherited. */
    public static String describe(Level level) {
        return level == null ? INHERIT : level.levelStr;
    }
}
