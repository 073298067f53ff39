package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reads one logging block and reports a bad value with the key's full path (as the user wrote it
 * in conf/daemonkit.conf) and the file and line it came from, which {@link ConfigException.BadValue}
 * takes from the value's origin.
 */
final class ConfigReader {

    private final Config config;
    private final String prefix;

    /** @param prefix the block's path in the user's file, e.g. {@code daemons.echo.logging} */
    ConfigReader(Config config, String prefix) {
        this.config = config;
        this.prefix = prefix;
    }

    String path(String key) {
        return prefix + "." + key;
    }

    /** A level, or null when the value is {@code inherit} and {@code inheritAllowed}. */
    Level level(String key, boolean inheritAllowed) {
        String raw = config.getString(key);
        if (inheritAllowed && LogLevels.isInherit(raw)) {
            return null;
        }
        return LogLevels.parse(raw)
                .orElseThrow(() -> bad(
                        key,
                        "\"" + raw + "\" is not a log level. Use " + LogLevels.CHOICES
                                + (inheritAllowed ? ", or inherit to use the global level" : "") + "."));
    }

    /** The {@code loggers} map, keys flattened to logger names whether quoted or written as paths. */
    Map<String, Level> loggers(String key) {
        Map<String, Level> levels = new LinkedHashMap<>();
        Config loggers = config.getConfig(key);
        for (Map.Entry<String, ConfigValue> entry : loggers.entrySet()) {
            // "io.netty" = WARN and io.netty = WARN (a nested object) both mean the logger io.netty.
            String name = String.join(".", ConfigUtil.splitPath(entry.getKey()));
            Object raw = entry.getValue().unwrapped();
            Level level = raw instanceof String ? LogLevels.parse((String) raw).orElse(null) : null;
            if (level == null) {
                throw new ConfigException.BadValue(
                        entry.getValue().origin(),
                        path(key) + ".\"" + name + "\"",
                        "\"" + raw + "\" is not a log level. Use " + LogLevels.CHOICES
                                + " (quote logger names that contain dots: \"io.netty\" = WARN).");
            }
            levels.put(name, level);
        }
        return Map.copyOf(levels);
    }

    OutputFormat format(String key) {
        String raw = config.getString(key);
        switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "text":
                return OutputFormat.TEXT;
            case "json":
                return OutputFormat.JSON;
            default:
                throw bad(key, "\"" + raw + "\" is not an output format. Use text or json.");
        }
    }

    boolean bool(String key) {
        return config.getBoolean(key);
    }

    String string(String key) {
        return config.getString(key);
    }

    int positiveInt(String key, int min) {
        int value = config.getInt(key);
        if (value < min) {
            throw bad(key, value + " is below the minimum of " + min + ".");
        }
        return value;
    }

    long bytes(String key, long min) {
        long value = config.getBytes(key);
        if (value < min) {
            throw bad(key, value + " bytes is below the minimum of " + min + " bytes. Write a size such as 100 MiB.");
        }
        return value;
    }

    Duration duration(String key, Duration min) {
        Duration value = config.getDuration(key);
        if (value.compareTo(min) < 0) {
            throw bad(key, value + " is below the minimum of " + min + ". Write a duration with a unit, e.g. 10 s.");
        }
        return value;
    }

    RollingSettings rolling(String key) {
        Duration history = duration(key + ".max-history", Duration.ofDays(1));
        if (history.toHours() % 24 != 0) {
            throw bad(
                    key + ".max-history",
                    history + " is not a whole number of days: files roll daily. Write e.g. 14 days.");
        }
        long maxFileSize = bytes(key + ".max-file-size", 1024);
        long totalSizeCap = bytes(key + ".total-size-cap", 1024);
        if (totalSizeCap < maxFileSize) {
            // Every rolled file would be deleted as soon as it is compressed: no history at all.
            throw bad(
                    key + ".total-size-cap",
                    "is smaller than " + path(key + ".max-file-size")
                            + ", so no rolled file could be kept. Raise it, e.g. to 50 times max-file-size.");
        }
        String codec = config.getString(key + ".compression");
        Compression compression = Compression.parse(codec);
        if (compression == null) {
            throw bad(key + ".compression", "\"" + codec + "\" is not a compression. Use zstd, gzip or none.");
        }
        return new RollingSettings(maxFileSize, (int) history.toDays(), totalSizeCap, compression);
    }

    ConfigException bad(String key, String message) {
        return new ConfigException.BadValue(config.getValue(key).origin(), path(key), message);
    }
}
