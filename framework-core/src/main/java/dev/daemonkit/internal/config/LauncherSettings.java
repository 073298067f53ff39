package dev.daemonkit.internal.config;

import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * The framework's own settings, read once from the {@code daemonkit} block, one nested record per
 * sub-block. {@link #transport}, {@link #timers} and {@link #admin} are read at start only: a reload
 * takes the others ({@link #withReloadable}).
 */
public record LauncherSettings(
        Shutdown shutdown, Transport transport, Timers timers, Admin admin, Plugins plugins, Watchdog watchdog) {

    /**
     * {@code daemonkit.shutdown}: how long the launcher keeps serving after TERM with readiness already
     * 503 ({@code delay}), how long stopping daemons drain, and when a connection counts as quiet.
     */
    public record Shutdown(Duration delay, Duration grace, Duration quietPeriod) {}

    /** {@code daemonkit.transport}: {@code kind} is auto, epoll, io_uring or nio; {@code ioThreads} already resolved (never 0). */
    public record Transport(String kind, int ioThreads, int ringBuffers) {}

    /**
     * {@code daemonkit.timers}: the resolution and size of the timer wheel on each event loop, and the loop threads'
     * timer slack (0: the kernel's default).
     */
    public record Timers(Duration tick, int wheelSize, Duration loopSlack) {}

    /** {@code daemonkit.plugins}: whether and how often the plugins folder is looked at. */
    public record Plugins(boolean watch, Duration scanInterval) {}

    /** {@code daemonkit.watchdog}: the stall watchdog. */
    public record Watchdog(boolean enabled, Duration threshold) {}

    /**
     * The admin endpoint: {@code daemonkit.admin}; {@code tls} is its {@code daemonkit.admin.tls} block
     * (the same keys as a daemon listener's), or null for plain http; {@code allowedHosts} the names
     * accepted in a request's Host besides IP addresses and localhost when there is no token.
     */
    public record Admin(
            boolean enabled,
            InetSocketAddress listen,
            String token,
            int maxConnections,
            Duration idleTimeout,
            Duration requestTimeout,
            TlsSettings tls,
            List<String> allowedHosts) {
        /** True when {@code daemonkit.admin.tls} is set: the endpoint speaks https only. */
        public boolean https() {
            return tls != null;
        }

        public boolean loopbackOnly() {
            return listen.getAddress() != null && listen.getAddress().isLoopbackAddress();
        }
    }

    public static LauncherSettings from(Config daemonkit) {
        String transport = daemonkit.getString("transport.native");
        if (!transport.matches("auto|epoll|io_uring|nio")) {
            throw new ConfigError("daemonkit.transport.native = \"" + transport + "\" ("
                    + Origins.of(daemonkit.getValue("transport.native")) + ") must be auto, epoll, io_uring or nio.");
        }
        int io = daemonkit.getInt("transport.io-threads");
        if (io < 0) {
            throw new ConfigError("daemonkit.transport.io-threads = " + io + " ("
                    + Origins.of(daemonkit.getValue("transport.io-threads")) + ") must be 0 (one per core) or more.");
        }
        int ring = daemonkit.getInt("transport.io-uring-buffer-ring");
        if (ring != 0 && (ring < 2 || ring > 16384 || Integer.bitCount(ring) != 1)) {
            throw new ConfigError("daemonkit.transport.io-uring-buffer-ring = " + ring + " ("
                    + Origins.of(daemonkit.getValue("transport.io-uring-buffer-ring")) + ") must be 0 (no ring) or a"
                    + " power of two from 2 to 16384, e.g. 512.");
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
        Duration loopSlack = daemonkit.getDuration("timers.loop-slack");
        if (loopSlack.isNegative() || loopSlack.compareTo(tick) >= 0) {
            throw new ConfigError("daemonkit.timers.loop-slack = " + loopSlack.toNanos() / 1000.0 + " us ("
                    + Origins.of(daemonkit.getValue("timers.loop-slack")) + ") must be 0 (the kernel's default) or"
                    + " positive and below daemonkit.timers.tick, e.g. 1 us.");
        }
        Admin admin = new Admin(
                daemonkit.getBoolean("admin.enabled"),
                Addresses.read(daemonkit, "admin.listen", "daemonkit.admin.listen"),
                daemonkit.getString("admin.token"),
                daemonkit.getInt("admin.max-connections"),
                daemonkit.getDuration("admin.idle-timeout"),
                daemonkit.getDuration("admin.request-timeout"),
                // An empty block (the reference's) is plain http.
                daemonkit.hasPath("admin.tls")
                                && !(daemonkit.getValue("admin.tls") instanceof com.typesafe.config.ConfigObject o
                                        && o.isEmpty())
                        ? TlsSettings.read(
                                daemonkit, "admin.tls", "daemonkit.admin.tls", daemonkit.getValue("admin.tls"))
                        : null,
                List.copyOf(daemonkit.getStringList("admin.allowed-hosts")));
        if (admin.maxConnections() < 1) {
            throw new ConfigError("daemonkit.admin.max-connections = " + admin.maxConnections() + " ("
                    + Origins.of(daemonkit.getValue("admin.max-connections")) + ") must be 1 or more.");
        }
        if (admin.enabled() && !admin.loopbackOnly() && admin.token().isBlank()) {
            throw new ConfigError(
                    "daemonkit.admin.listen = \"" + Addresses.format(admin.listen()) + "\" ("
                            + Origins.of(daemonkit.getValue("admin.listen"))
                            + ") is beyond loopback, so daemonkit.admin.token"
                            + " must be set: anyone who reaches the port could stop your daemons. Set a token, or listen on 127.0.0.1.");
        }
        Duration scan = daemonkit.getDuration("plugins.scan-interval");
        Duration threshold = daemonkit.getDuration("watchdog.threshold");
        if (scan.toMillis() < 10 || threshold.toMillis() < 10) {
            throw new ConfigError(
                    "daemonkit.plugins.scan-interval and daemonkit.watchdog.threshold must be 10 ms or more.");
        }
        Duration delay = daemonkit.getDuration("shutdown.delay");
        if (delay.isNegative()) {
            throw new ConfigError("daemonkit.shutdown.delay (" + Origins.of(daemonkit.getValue("shutdown.delay"))
                    + ") must be 0 s or more, e.g. 5 s behind a load balancer.");
        }
        return new LauncherSettings(
                new Shutdown(
                        delay, daemonkit.getDuration("shutdown.grace"), daemonkit.getDuration("shutdown.quiet-period")),
                new Transport(transport, io == 0 ? Runtime.getRuntime().availableProcessors() : io, ring),
                new Timers(tick, wheel, loopSlack),
                admin,
                new Plugins(daemonkit.getBoolean("plugins.watch"), scan),
                new Watchdog(daemonkit.getBoolean("watchdog.enabled"), threshold));
    }

    /**
     * These settings with what a reload may change taken from {@code fresh}: shutdown, plugins and
     * watchdog. Transport, timers and admin stay as started (their event loops and sockets exist).
     */
    public LauncherSettings withReloadable(LauncherSettings fresh) {
        return new LauncherSettings(fresh.shutdown, transport, timers, admin, fresh.plugins, fresh.watchdog);
    }

    /** True if {@code other} differs in a setting read at start only (it would wait for the next start). */
    public boolean startOnlyDiffers(LauncherSettings other) {
        return !transport.equals(other.transport) || !timers.equals(other.timers) || !admin.equals(other.admin);
    }
}
