package dev.daemonkit.api;

import java.net.InetSocketAddress;

/** A socket a daemon declared; bound by the framework once {@code configure} has returned. */
public interface Listener {

    /** The config key (relative to the daemon's block) holding the address, e.g. {@code listen}. */
    String key();

    /** The address from the config; for port 0 this is the requested one until bound. */
    InetSocketAddress address();

    /** The address actually bound, or {@code null} while not bound. */
    InetSocketAddress boundAddress();

    /** {@code tcp} or {@code udp}. */
    String transport();
}
