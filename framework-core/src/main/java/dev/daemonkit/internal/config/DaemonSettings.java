package dev.daemonkit.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.List;

/**
 * The framework's settings of one daemon instance, read once from its block {@code daemons.NAME}.
 *
 * @param maxConnections the daemon's share of the launcher's connection budget; {@link #AUTO} until
 *                       {@link ConnectionShares} has given an {@code auto} daemon its share
 * @param requestTimeout how long a request may take from its first byte to its last; zero turns it off
 * @param inbound        caps on bytes buffered for incomplete requests
 * @param writeBufferMaxTotal the replies all of the daemon's stalled connections may hold (see
 *                       {@code StalledReplies}); a connection is stalled above {@code writeBufferHigh}
 * @param ioThreads      event loops of the daemon's own; 0: it shares the launcher's
 * @param startTimeout   how long a start that finishes later ({@code DaemonContext.readyWhen}) may take
 */
public record DaemonSettings(
        String name,
        String plugin,
        boolean enabled,
        int maxConnections,
        Duration idleTimeout,
        Duration requestTimeout,
        Inbound inbound,
        int writeBufferLow,
        int writeBufferHigh,
        long writeBufferMaxTotal,
        RestartPolicy restart,
        int ioThreads,
        Duration startTimeout) {

    /** {@code max-connections = auto}: an equal share of what the explicit limits leave of the budget. */
    public static final int AUTO = 0;

    /**
     * The framework's keys of a daemon block that a running instance takes in place (its connections'
     * limits and timeouts, its restart policy, its log output): changing only these needs no restart.
     */
    private static final List<String> IN_PLACE_KEYS = List.of(
            "max-connections",
            "idle-timeout",
            "request-timeout",
            "inbound",
            "write-buffer",
            "restart",
            "logging",
            "start-timeout"); // read when an instance starts: the next start takes it, no restart needed

    /** The framework's keys of a daemon block read only when an instance starts: changing one restarts the daemon. */
    /** Read when an instance starts; {@code tls}: its listeners' contexts are made when it declares them. */
    private static final List<String> AT_START_KEYS = List.of("plugin", "enabled", "io-threads", "tls");

    /** How two versions of one daemon block differ, as a reload sees it. */
    public enum Difference {
        /** Equal. */
        NONE,
        /** Only keys a running instance takes in place ({@link #IN_PLACE_KEYS}). */
        IN_PLACE,
        /** The plugin's own keys too (and no key read at start only): the plugin's reload hook may take them. */
        PLUGIN_KEYS,
        /** A key read only when an instance starts ({@link #AT_START_KEYS}): a new instance is needed. */
        AT_START
    }

    /** How {@code fresh} differs from {@code running} (two resolved blocks of one daemon). */
    public static Difference compare(Config running, Config fresh) {
        if (running.equals(fresh)) {
            return Difference.NONE;
        }
        for (String key : AT_START_KEYS) {
            boolean had = running.hasPath(key);
            if (had != fresh.hasPath(key) || had && !running.getValue(key).equals(fresh.getValue(key))) {
                return Difference.AT_START;
            }
        }
        Config a = running;
        Config b = fresh;
        for (String key : IN_PLACE_KEYS) {
            a = a.withoutPath(key);
            b = b.withoutPath(key);
        }
        return a.equals(b) ? Difference.IN_PLACE : Difference.PLUGIN_KEYS;
    }

    /**
     * {@code daemons.NAME.inbound}: bytes the connection's decoders may hold for incomplete requests,
     * per connection and over all connections of the daemon.
     */
    public record Inbound(long maxBuffered, long maxBufferedTotal) {
        static Inbound from(String path, Config block) {
            long one = block.getBytes("inbound.max-buffered");
            long all = block.getBytes("inbound.max-buffered-total");
            if (one < 1024 || all < one) {
                throw new ConfigError(path + ".inbound (" + Origins.of(block.getValue("inbound"))
                        + "): need 1 KiB <= max-buffered <= max-buffered-total, got max-buffered = " + one
                        + ", max-buffered-total = " + all + ".");
            }
            if (one < TLS_RECORD_BYTES && !TlsSettings.named(block, path).isEmpty()) {
                // The TLS handler holds a whole record before it can decrypt any of it.
                throw new ConfigError(path + ".inbound.max-buffered = " + one + " bytes ("
                        + Origins.of(block.getValue("inbound.max-buffered")) + ") is below one TLS record ("
                        + TLS_RECORD_BYTES + " bytes: 16 KiB of data and its overhead), and " + path + ".tls names"
                        + " TLS listeners: a client sending a full record would be refused. Raise it to 18 KiB"
                        + " or more.");
            }
            return new Inbound(one, all);
        }

        /** The largest TLS record a peer may send (2^14 data + 2048 expansion, RFC 5246), with its header. */
        static final long TLS_RECORD_BYTES = 16 * 1024 + 2048 + 5;
    }

    /** The same settings with the connection share {@link ConnectionShares} gave an {@code auto} daemon. */
    public DaemonSettings withMaxConnections(int share) {
        return new DaemonSettings(
                name,
                plugin,
                enabled,
                share,
                idleTimeout,
                requestTimeout,
                inbound,
                writeBufferLow,
                writeBufferHigh,
                writeBufferMaxTotal,
                restart,
                ioThreads,
                startTimeout);
    }

    /** True if {@code max-connections = auto} in this daemon's block. */
    public static boolean isAuto(Config block) {
        return block.getValue("max-connections").unwrapped().equals("auto");
    }

    /** The supervision policy of a daemon, {@code daemons.NAME.restart}. */
    public record RestartPolicy(
            boolean onFailure, int maxRestarts, Duration window, Duration backoffInitial, Duration backoffMax) {
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
            return new RestartPolicy(
                    policy.equals("on-failure"),
                    max,
                    r.getDuration("window"),
                    r.getDuration("backoff-initial"),
                    r.getDuration("backoff-max"));
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
        int max = AUTO;
        if (!isAuto(block)) {
            try {
                max = block.getInt("max-connections");
            } catch (ConfigException.WrongType e) {
                max = -1;
            }
            if (max < 1) {
                throw new ConfigError(path + ".max-connections = "
                        + block.getValue("max-connections").render() + " ("
                        + Origins.of(block.getValue("max-connections")) + ") must be auto or a number, 1 or more.");
            }
        }
        Duration idle = block.getDuration("idle-timeout");
        if (idle.isNegative()) {
            throw new ConfigError(path + ".idle-timeout (" + Origins.of(block.getValue("idle-timeout"))
                    + ") must not be negative; 0 s turns it off.");
        }
        Duration request = block.getDuration("request-timeout");
        if (request.isNegative()) {
            throw new ConfigError(path + ".request-timeout (" + Origins.of(block.getValue("request-timeout"))
                    + ") must not be negative; 0 s turns it off.");
        }
        Duration start = block.getDuration("start-timeout");
        if (start.isNegative() || start.isZero()) {
            throw new ConfigError(path + ".start-timeout (" + Origins.of(block.getValue("start-timeout"))
                    + ") must be more than 0 s: a daemon that never becomes ready would hold its slot forever.");
        }
        long low = block.getBytes("write-buffer.low");
        long high = block.getBytes("write-buffer.high");
        if (low < 1 || high < low || high > Integer.MAX_VALUE) {
            throw new ConfigError(path + ".write-buffer (" + Origins.of(block.getValue("write-buffer"))
                    + "): need 0 < low <= high < 2 GiB, got low = " + low + ", high = " + high + ".");
        }
        long maxTotal = block.getBytes("write-buffer.max-total");
        if (maxTotal < high) {
            throw new ConfigError(path + ".write-buffer.max-total = " + maxTotal + " bytes ("
                    + Origins.of(block.getValue("write-buffer.max-total")) + ") is below write-buffer.high (" + high
                    + " bytes): every client that falls behind would be closed at once. Raise it (the default is"
                    + " 64 MiB).");
        }
        return new DaemonSettings(
                name,
                plugin.isEmpty() ? name : plugin,
                block.getBoolean("enabled"),
                max,
                idle,
                request,
                Inbound.from(path, block),
                (int) low,
                (int) high,
                maxTotal,
                RestartPolicy.from(path, block.getConfig("restart")),
                ioThreads(path, block),
                start);
    }

    private static int ioThreads(String path, Config block) {
        int n = block.getInt("io-threads");
        if (n < 0 || n > 256) {
            throw new ConfigError(path + ".io-threads = " + n + " (" + Origins.of(block.getValue("io-threads"))
                    + ") must be 0 (share the launcher's event loops) or 1 to 256 loops of its own.");
        }
        return n;
    }
}
