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

    private LogContext() {}
}
