package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import com.typesafe.config.Config;
import java.util.Map;

/**
 * A daemon's {@code daemons.NAME.logging} block, read and validated when the daemon is added.
 *
 * @param level   null: inherit the global levels
 * @param loggers levels per logger name inside this daemon; they beat {@code level}
 */
public record DaemonLogSettings(
        Level level,
        Map<String, Level> loggers,
        boolean fileEnabled,
        OutputFormat fileFormat,
        RollingSettings rolling) {

    public static final String DEFAULTS_PATH = "daemonkit.daemon-defaults.logging";

    /** @param config the block, already merged over {@value #DEFAULTS_PATH} */
    public static DaemonLogSettings from(String daemon, Config config) {
        ConfigReader in = new ConfigReader(config, "daemons." + daemon + ".logging");
        return new DaemonLogSettings(
                in.level("level", true),
                in.loggers("loggers"),
                in.bool("file.enabled"),
                in.format("file.format"),
                in.rolling("rolling"));
    }

    /** Whether the file this block describes differs from {@code other}'s, so it must be reopened. */
    public boolean sameFileAs(DaemonLogSettings other) {
        return fileEnabled == other.fileEnabled && fileFormat == other.fileFormat && rolling.equals(other.rolling);
    }
}
