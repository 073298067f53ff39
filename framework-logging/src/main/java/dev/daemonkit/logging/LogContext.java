package dev.daemonkit.logging;

/**
 * The MDC keys that tie a line to a daemon and a connection. The core sets them on every event-loop
 * callback of a connection and around timer callbacks; the logging system routes and filters by
 * {@link #DAEMON} and prints all three (text: {@code [echo conn=17 peer=…]}, JSON: fields of the same names).
 *
 * <p>Code that starts its own threads for a daemon should copy the MDC to them (e.g.
 * {@code MDC.getCopyOfContextMap()}), or its lines count as framework lines.
 */
public final class LogContext {

    /** The daemon instance name, e.g. {@code echo-b}; decides the per-daemon file and levels. */
    public static final String DAEMON = "daemon";
    /** The connection id, unique within the process. */
    public static final String CONNECTION = "conn";
    /** The remote address of the connection, {@code host:port}. */
    public static final String PEER = "peer";

    /**
     * Puts the keys that are costly to build (the connection's) into the calling thread's MDC; called
     * by the logging system just before it builds a line, on the thread that logs. Lets the core keep
     * a connection's id and peer as a number and an address, and build their strings only for the
     * connections that log (see {@link #fillsLazily()}).
     */
    @FunctionalInterface
    public interface LazyKeys {
        void fill();
    }

    private static volatile LazyKeys lazyKeys;
    private static volatile boolean filling;

    /** Registers what fills the lazy keys (the core's, once). */
    public static void fillLazily(LazyKeys keys) {
        lazyKeys = keys;
    }

    /**
     * Whether lines get their lazy keys filled: true once Daemonkit's logging system runs (its filter
     * sees every call). Otherwise (a test's plain Logback, another SLF4J binding) put every key eagerly.
     * Then {@code MDC.getCopyOfContextMap()} carries {@link #CONNECTION} and {@link #PEER} only after a
     * line was logged in the scope: read them from the line, or log before copying.
     */
    public static boolean fillsLazily() {
        return filling && lazyKeys != null;
    }

    /** The logging system's filter, on the logging thread, before a line is built. */
    public static void fill() {
        LazyKeys k = lazyKeys;
        if (k != null) {
            k.fill();
        }
    }

    /** Set by the logging system's filter when it starts and stops. */
    public static void filterRunning(boolean running) {
        filling = running;
    }

    private LogContext() {}
}
