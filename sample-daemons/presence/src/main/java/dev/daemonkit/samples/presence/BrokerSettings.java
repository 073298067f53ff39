package dev.daemonkit.samples.presence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;

/**
 * Where the daemon's rooms meet other launchers' ({@code broker}, {@code redis { ... }}), read once at start.
 *
 * @param redis null for {@code broker = memory}; the Redis server, resolved to an IP address at start, so that no
 *     reconnect ever waits for a name lookup on an event loop
 */
record BrokerSettings(
        String kind,
        InetSocketAddress redis,
        String redisText,
        String keyPrefix,
        Duration ttl,
        Duration commandTimeout,
        int maxPending) {

    static final BrokerSettings MEMORY = new BrokerSettings(
            "memory", null, null, "daemonkit:presence", Duration.ofSeconds(10), Duration.ofSeconds(2), 10_000);

    boolean isRedis() {
        return redis != null;
    }

    BrokerSettings withTtl(Duration ttl) {
        return new BrokerSettings(kind, redis, redisText, keyPrefix, ttl, commandTimeout, maxPending);
    }

    static BrokerSettings from(Config c) {
        String kind = c.getString("broker");
        Duration ttl = c.getDuration("redis.ttl");
        if (ttl.toMillis() < 300) {
            throw new ConfigException.BadValue(
                    c.origin(),
                    "redis.ttl",
                    "must be at least 300 ms (it is refreshed every ttl / 3 over the network), got " + ttl
                            + ". Write for example 10 s");
        }
        Duration timeout = c.getDuration("redis.command-timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new ConfigException.BadValue(
                    c.origin(), "redis.command-timeout", "must be longer than 0, got " + timeout + ". Write 2 s");
        }
        int pending = c.getInt("redis.max-pending");
        if (pending < 1) {
            throw new ConfigException.BadValue(c.origin(), "redis.max-pending", "must be 1 or more, got " + pending);
        }
        String prefix = c.getString("redis.key-prefix");
        if (prefix.isEmpty() || prefix.chars().anyMatch(ch -> ch <= ' ')) {
            throw new ConfigException.BadValue(
                    c.origin(), "redis.key-prefix", "must be non-empty and hold no spaces, got \"" + prefix + "\"");
        }
        switch (kind) {
            case "memory" -> {
                return new BrokerSettings(kind, null, null, prefix, ttl, timeout, pending);
            }
            case "redis" -> {
                String text = c.getString("redis.address");
                return new BrokerSettings(kind, resolve(c, text), text, prefix, ttl, timeout, pending);
            }
            default ->
                throw new ConfigException.BadValue(
                        c.origin(),
                        "broker",
                        "must be memory (this launcher only) or redis (launchers sharing one Redis), got \"" + kind
                                + "\"");
        }
    }

    private static InetSocketAddress resolve(Config c, String text) {
        int colon = text.lastIndexOf(':');
        String host = colon < 0 ? text : text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = colon < 0 ? 6379 : Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535 || host.isEmpty()) {
            throw new ConfigException.BadValue(
                    c.origin(), "redis.address", "must be host:port, e.g. \"127.0.0.1:6379\", got \"" + text + "\"");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new ConfigException.BadValue(
                    c.origin(),
                    "redis.address",
                    "\"" + host + "\" cannot be resolved (" + e.getMessage()
                            + "): give the Redis server's address or a name this host resolves");
        }
    }
}
