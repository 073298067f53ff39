package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code daemonkit.logging} block, read and validated once at start.
 *
 * @param console null when {@code console.enabled = auto}: the launcher decides (foreground or not)
 */
public record GlobalLogSettings(
        Level level,
        Map<String, Level> loggers,
        Boolean console,
        OutputFormat consoleFormat,
        boolean fileEnabled,
        String fileName,
        OutputFormat fileFormat,
        RollingSettings rolling,
        String textPattern,
        int queueSize,
        Duration flushTimeout,
        int repeatLimit,
        Duration repeatPeriod,
        int repeatMaxTracked) {

    public static final String PATH = "daemonkit.logging";

    /** @param config the block, already merged over the reference defaults */
    public static GlobalLogSettings from(Config config) {
        ConfigReader in = new ConfigReader(config, PATH);
        String fileName = in.string("file.name");
        if (!FileNames.isPlain(fileName) || !fileName.endsWith(".log")) {
            throw in.bad(
                    "file.name",
                    "\"" + fileName + "\" must be a plain file name ending in .log"
                            + " (it is created in the logs directory), e.g. daemonkit.log.");
        }
        return new GlobalLogSettings(
                in.level("level", false),
                in.loggers("loggers"),
                consoleMode(in),
                in.format("console.format"),
                in.bool("file.enabled"),
                fileName,
                in.format("file.format"),
                in.rolling("rolling"),
                in.string("text-pattern"),
                in.positiveInt("async.queue-size", 16),
                in.duration("async.flush-timeout", Duration.ZERO),
                in.positiveInt("repeats.limit", 0),
                in.duration("repeats.period", Duration.ofMillis(10)),
                in.positiveInt("repeats.max-tracked", 1));
    }

    private static Boolean consoleMode(ConfigReader in) {
        String raw = in.string("console.enabled");
        switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "auto":
                return null;
            case "true":
            case "on":
            case "yes":
                return Boolean.TRUE;
            case "false":
            case "off":
            case "no":
                return Boolean.FALSE;
            default:
                throw in.bad(
                        "console.enabled",
                        "\"" + raw + "\" is not a console mode. Use auto (on in the" + " foreground), true or false.");
        }
    }
}
