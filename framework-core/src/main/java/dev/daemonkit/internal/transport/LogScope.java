package dev.daemonkit.internal.transport;

import dev.daemonkit.logging.LogContext;
import dev.daemonkit.timers.TaskRunner;
import org.slf4j.MDC;

/**
 * Whose logging context ({@link LogContext#DAEMON}, {@link LogContext#CONNECTION}, {@link LogContext#PEER})
 * a thread's lines carry: a daemon, one of its connections, or a datagram's sender. The one way the
 * framework sets it, with one restore rule: {@link #exit} puts back exactly what {@link #enter} found
 * (an outer scope when events nest, such as a handler closing another connection; or nothing).
 *
 * <p>Only the daemon's name is put in the MDC when a scope is entered: a connection's id and peer
 * are strings built from a number and an address, and an idle connection should not hold them, nor
 * a request pay for them, unless a line is logged. Daemonkit's own outputs take them with each line
 * ({@link #connectionKey}) and never put them in the MDC; under a user's logback.xml the logging system
 * has them put just before it builds a line ({@link #fillConnectionKeys}); both through
 * {@link LogContext#fillLazily}. Without it (plain Logback in a test), every key is put on entry.
 *
 * <p>The scope in force is remembered per thread in {@link LoopActivity}, so entering the scope
 * already in force costs no MDC write (a connection's read keeps its context from {@code channelRead}
 * to the end of {@code channelReadComplete}), and the stall watchdog learns which daemon a loop serves.
 * A scope is compared by identity: make one per owner, not one per call.
 */
public interface LogScope extends TaskRunner {

    /** The daemon instance's name; never null. */
    String daemon();

    /** The connection id, or null outside a connection. */
    default String connectionId() {
        return null;
    }

    /** The remote address ({@code host:port}), or null. */
    default String peer() {
        return null;
    }

    /** A scope with only the daemon's name (its hooks, its timers, the launcher's work for it). */
    static LogScope of(String daemon) {
        return new Fixed(daemon, null, null);
    }

    /** A scope of one connection or one sender of a daemon. */
    static LogScope of(String daemon, String connectionId, String peer) {
        return new Fixed(daemon, connectionId, peer);
    }

    /**
     * Puts this scope's context in the MDC unless it is in force already; returns the scope that was
     * in force (null: none), to be handed to {@link #exit} on the same thread.
     */
    default Object enter() {
        LoopActivity a = LoopActivity.current();
        Object previous = a.context;
        if (previous != this) {
            put(this, a);
        }
        return previous;
    }

    /** Restores what {@link #enter} found: the outer scope, or no context at all. */
    default void exit(Object previous) {
        if (previous == this) {
            return;
        }
        if (previous instanceof LogScope outer) {
            put(outer, LoopActivity.current());
        } else {
            clear();
        }
    }

    /** Runs {@code body} in this scope (also how a timer scope runs its tasks in it). */
    @Override
    default void run(Runnable body) {
        Object previous = enter();
        try {
            body.run();
        } finally {
            exit(previous);
        }
    }

    /** {@code task}, to run in this scope on whatever thread runs it. */
    default Runnable wrap(Runnable task) {
        return () -> run(task);
    }

    /** Takes any scope's context out of this thread's MDC. */
    static void clear() {
        LoopActivity a = LoopActivity.current();
        boolean keysMayBeIn = a.filled;
        a.context = null;
        a.daemon = null;
        a.filled = false;
        MDC.remove(LogContext.DAEMON);
        // The connection's keys are in the MDC only if put eagerly or filled for a line logged in the
        // scope: the usual read logs nothing, and two removes of absent keys per request were half
        // of the MDC's cost at depth 1 (issue 17's profile of the cache daemon).
        if (keysMayBeIn) {
            MDC.remove(LogContext.CONNECTION);
            MDC.remove(LogContext.PEER);
        }
    }

    private static void put(LogScope scope, LoopActivity a) {
        String daemon = scope.daemon();
        if (!LogContext.fillsLazily()) {
            MDC.put(LogContext.DAEMON, daemon);
            putOrRemove(LogContext.CONNECTION, scope.connectionId());
            putOrRemove(LogContext.PEER, scope.peer());
            a.filled = true; // the keys are in (or were just removed): clear() takes them out
        } else {
            if (!daemon.equals(a.daemon) || MDC.get(LogContext.DAEMON) == null) {
                MDC.put(LogContext.DAEMON, daemon);
            }
            if (a.filled) {
                MDC.remove(LogContext.CONNECTION);
                MDC.remove(LogContext.PEER);
                a.filled = false;
            }
        }
        a.context = scope;
        a.daemon = daemon;
    }

    /**
     * Called by the logging system on the thread that logs, just before it builds a line: puts the
     * connection's id and peer of the scope in force, once per entry of the scope.
     */
    static void fillConnectionKeys() {
        LoopActivity a = LoopActivity.current();
        if (a.filled || !(a.context instanceof LogScope scope)) {
            return;
        }
        putOrRemove(LogContext.CONNECTION, scope.connectionId());
        putOrRemove(LogContext.PEER, scope.peer());
        a.filled = true;
    }

    /**
     * Called by the logging system's own outputs on the thread that logs: the connection's id
     * ({@link LogContext#CONNECTION}) or peer ({@link LogContext#PEER}) of the scope in force, taken
     * with the line instead of put in the MDC; null when there is none or the keys are in the MDC
     * already (put eagerly or filled).
     */
    static String connectionKey(String key) {
        LoopActivity a = LoopActivity.current();
        if (a.filled || !(a.context instanceof LogScope scope)) {
            return null;
        }
        return LogContext.CONNECTION.equals(key) ? scope.connectionId() : scope.peer();
    }

    private static void putOrRemove(String key, String value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, value);
        }
    }

    /** A scope whose context does not change (told apart by identity, like every scope). */
    record Fixed(String daemon, String connectionId, String peer) implements LogScope {}
}
