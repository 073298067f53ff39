package dev.daemonkit.samples.echo;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/** The echo daemon's settings, read once from its config block. */
record EchoSettings(int maxLineBytes, Duration statsInterval, boolean logLines) {
    static EchoSettings from(Config c) {
        int max = c.getInt("max-line-bytes");
        if (max < 1) {
            throw new ConfigException.BadValue(c.origin(), "max-line-bytes",
                    "must be 1 or more, got " + max);
        }
        return new EchoSettings(max, c.getDuration("stats-interval"), c.getBoolean("log-lines"));
    }
}
