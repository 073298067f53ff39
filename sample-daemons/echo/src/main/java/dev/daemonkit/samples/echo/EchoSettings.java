package dev.daemonkit.samples.echo;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * The echo daemon's settings, read once from its config block.
 *
 * @param maxLineBytesKey where the line limit is set, for messages: {@code daemons.echo-b.max-line-bytes}
 *                        for an instance named {@code echo-b}
 */
record EchoSettings(int maxLineBytes, String maxLineBytesKey, Duration statsInterval, boolean logLines) {
    static EchoSettings from(String instance, Config c) {
        String key = "daemons." + instance + ".max-line-bytes";
        int max = c.getInt("max-line-bytes");
        if (max < 1) {
            throw new ConfigException.BadValue(c.origin(), key, "must be 1 or more, got " + max);
        }
        return new EchoSettings(max, key, c.getDuration("stats-interval"), c.getBoolean("log-lines"));
    }
}
