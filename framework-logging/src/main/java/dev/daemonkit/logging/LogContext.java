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
     * The keys that are costly to build (the connection's): the core keeps a connection's id and peer
     * as a number and an address, and builds their strings only for the connections that log (see
     * {@link #fillsLazily()}). Daemonkit's own outputs take them with each line ({@link #value});
     * a user's logback.xml reads the MDC, so there the logging system has them put into the calling
     * thread's MDC ({@link #fill}) just before it builds a line, on the thread that logs.
     */
    @FunctionalInterface
    public interface LazyKeys {
        void fill();

        /**
         * The value {@link #fill} would put under {@code key} ({@link #CONNECTION} or {@link #PEER}) on
         * this thread now, without putting it in the MDC; null when there is none. Called by the logging
         * system's own outputs, on the thread that logs, for each line they take: they carry the value
         * with the line instead of the MDC (four MDC writes per line fewer on an event loop).
         */
        default String value(String key) {
            return null;
        }
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

    /** The logging system's outputs, on the logging thread: see {@link LazyKeys#value}. */
    public static String lazyValue(String key) {
        LazyKeys k = lazyKeys;
        return k == null ? null : k.value(key);
    }

    /** Set by the logging system's filter when it starts and stops. */
    public static void filterRunning(boolean running) {
        filling = running;
    }

    private LogContext() {}
}
