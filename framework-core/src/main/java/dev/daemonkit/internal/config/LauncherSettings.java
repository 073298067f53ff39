package dev.daemonkit.internal.config;

import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.time.Duration;

/** The framework's own settings, read once from the {@code daemonkit} block. */
public record LauncherSettings(Duration grace, Duration quietPeriod, int ioThreads, String transport,
                               Duration timerTick, int wheelSize, Admin admin, boolean watchPlugins,
                               Duration scanInterval, boolean watchdog, Duration watchdogThreshold) {

    /** The admin endpoint: {@code daemonkit.admin}. */
    public record Admin(boolean enabled, InetSocketAddress listen, String token, int maxConnections, Duration idleTimeout,
                        Duration requestTimeout) {
        public boolean loopbackOnly() {
            return listen.getAddress() != null && listen.getAddress().isLoopbackAddress();
        }
    }

    public static LauncherSettings from(Config daemonkit) {
        String transport = daemonkit.getString("transport.native");
        if (!transport.matches("auto|epoll|nio")) {
            throw new ConfigError("daemonkit.transport.native = \"" + transport + "\" ("
                    + Origins.of(daemonkit.getValue("transport.native")) + ") must be auto, epoll or nio.");
        }
        int io = daemonkit.getInt("transport.io-threads");
        if (io < 0) {
            throw new ConfigError("daemonkit.transport.io-threads = " + io + " ("
                    + Origins.of(daemonkit.getValue("transport.io-threads")) + ") must be 0 (one per core) or more.");
        }
        int wheel = daemonkit.getInt("timers.wheel-size");
        if (wheel < 16 || Integer.bitCount(wheel) != 1) {
            throw new ConfigError("daemonkit.timers.wheel-size = " + wheel + " ("
                    + Origins.of(daemonkit.getValue("timers.wheel-size")) + ") must be a power of two, 16 or more.");
        }
        Duration tick = daemonkit.getDuration("timers.tick");
        if (tick.isNegative() || tick.isZero()) {
            throw new ConfigError("daemonkit.timers.tick (" + Origins.of(daemonkit.getValue("timers.tick"))
                    + ") must be positive, e.g. 1 ms.");
        }
        Admin admin = new Admin(daemonkit.getBoolean("admin.enabled"),
                Addresses.read(daemonkit, "admin.listen", "daemonkit.admin.listen"), daemonkit.getString("admin.token"),
                daemonkit.getInt("admin.max-connections"), daemonkit.getDuration("admin.idle-timeout"),
                daemonkit.getDuration("admin.request-timeout"));
        if (admin.maxConnections() < 1) {
            throw new ConfigError("daemonkit.admin.max-connections = " + admin.maxConnections() + " ("
                    + Origins.of(daemonkit.getValue("admin.max-connections")) + ") must be 1 or more.");
        }
        if (admin.enabled() && !admin.loopbackOnly() && admin.token().isBlank()) {
            throw new ConfigError("daemonkit.admin.listen = \"" + Addresses.format(admin.listen()) + "\" ("
                    + Origins.of(daemonkit.getValue("admin.listen")) + ") is beyond loopback, so daemonkit.admin.token"
                    + " must be set: anyone who reaches the port could stop your daemons. Set a token, or listen on 127.0.0.1.");
        }
        Duration scan = daemonkit.getDuration("plugins.scan-interval");
        Duration threshold = daemonkit.getDuration("watchdog.threshold");
        if (scan.toMillis() < 10 || threshold.toMillis() < 10) {
            throw new ConfigError("daemonkit.plugins.scan-interval and daemonkit.watchdog.threshold must be 10 ms or more.");
        }
        return new LauncherSettings(daemonkit.getDuration("shutdown.grace"),
                daemonkit.getDuration("shutdown.quiet-period"),
                io == 0 ? Runtime.getRuntime().availableProcessors() : io, transport, tick, wheel, admin,
                daemonkit.getBoolean("plugins.watch"), scan, daemonkit.getBoolean("watchdog.enabled"), threshold);
    }
}
