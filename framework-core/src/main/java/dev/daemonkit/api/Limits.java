package dev.daemonkit.api;

import java.time.Duration;

/**
 * What the framework holds a daemon to, and how many event loops it runs on: read these here rather
 * than from the config, where {@code max-connections} may say {@code auto}. Current values: a reload
 * changes the limits in place, so read them when you need them.
 */
public interface Limits {

    /**
     * Connections the daemon may hold at once: its {@code max-connections}, or its share of the
     * launcher's connection budget when that is {@code auto}.
     */
    int maxConnections();

    /** How long a connection may neither read nor write before the framework closes it; zero: never. */
    Duration idleTimeout();

    /** How many event loops serve the daemon's connections (its own {@code io-threads}, or the launcher's). */
    int eventLoopCount();
}
