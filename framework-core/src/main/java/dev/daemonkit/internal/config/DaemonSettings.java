package dev.daemonkit.internal.config;

import com.typesafe.config.Config;
import java.time.Duration;

/** The framework's settings of one daemon instance, read once from its block {@code daemons.NAME}. */
public record DaemonSettings(String name, String plugin, boolean enabled, int maxConnections,
                             Duration idleTimeout, int writeBufferLow, int writeBufferHigh) {

    public static DaemonSettings from(String name, Config block) {
        String path = "daemons." + name;
        String plugin = block.getString("plugin");
        int max = block.getInt("max-connections");
        if (max < 1) {
            throw new ConfigError(path + ".max-connections = " + max + " ("
                    + Origins.of(block.getValue("max-connections")) + ") must be 1 or more.");
        }
        Duration idle = block.getDuration("idle-timeout");
        if (idle.isNegative()) {
            throw new ConfigError(path + ".idle-timeout (" + Origins.of(block.getValue("idle-timeout"))
                    + ") must not be negative; 0 s turns it off.");
        }
        long low = block.getBytes("write-buffer.low");
        long high = block.getBytes("write-buffer.high");
        if (low < 1 || high < low || high > Integer.MAX_VALUE) {
            throw new ConfigError(path + ".write-buffer (" + Origins.of(block.getValue("write-buffer"))
                    + "): need 0 < low <= high < 2 GiB, got low = " + low + ", high = " + high + ".");
        }
        return new DaemonSettings(name, plugin.isEmpty() ? name : plugin, block.getBoolean("enabled"),
                max, idle, (int) low, (int) high);
    }
}
