package dev.daemonkit.internal.config;

import com.typesafe.config.Config;
import java.time.Duration;

/** The framework's settings of one daemon instance, read once from its block {@code daemons.NAME}. */
public record DaemonSettings(String name, String plugin, boolean enabled, int maxConnections,
                             Duration idleTimeout, int writeBufferLow, int writeBufferHigh, RestartPolicy restart) {

    /** The supervision policy of a daemon, {@code daemons.NAME.restart}. */
    public record RestartPolicy(boolean onFailure, int maxRestarts, Duration window, Duration backoffInitial,
                                Duration backoffMax) {
        static RestartPolicy from(String path, Config r) {
            String policy = r.getString("policy");
            if (!policy.equals("never") && !policy.equals("on-failure")) {
                throw new ConfigError(path + ".restart.policy = \"" + policy + "\" (" + Origins.of(r.getValue("policy"))
                        + ") must be never or on-failure.");
            }
            int max = r.getInt("max-restarts");
            if (max < 0) {
                throw new ConfigError(path + ".restart.max-restarts (" + Origins.of(r.getValue("max-restarts"))
                        + ") must be 0 or more.");
            }
            return new RestartPolicy(policy.equals("on-failure"), max, r.getDuration("window"),
                    r.getDuration("backoff-initial"), r.getDuration("backoff-max"));
        }

        /** The delay before restart number {@code n} (1-based): initial, doubling, capped. */
        public Duration backoff(int n) {
            Duration d = backoffInitial;
            for (int i = 1; i < n && d.compareTo(backoffMax) < 0; i++) {
                d = d.multipliedBy(2);
            }
            return d.compareTo(backoffMax) > 0 ? backoffMax : d;
        }
    }

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
                max, idle, (int) low, (int) high, RestartPolicy.from(path, block.getConfig("restart")));
    }
}
