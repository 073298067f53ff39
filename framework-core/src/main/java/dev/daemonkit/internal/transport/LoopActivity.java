package dev.daemonkit.internal.transport;

import dev.daemonkit.logging.LogContext;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which daemon an event loop thread is serving right now, readable from another thread (the stall
 * watchdog), and whose {@link LogScope} is in force. Written by {@link LogScope#enter} around every
 * event: a plain field of a per-thread object, so the cost is one thread-local lookup; the watchdog's
 * read may be slightly stale, which is fine for a diagnostic.
 */
public final class LoopActivity {
    private static final Map<Thread, LoopActivity> ALL = new ConcurrentHashMap<>();
    private static final FastThreadLocal<LoopActivity> CURRENT = new FastThreadLocal<>() {
        @Override
        protected LoopActivity initialValue() {
            LoopActivity a = new LoopActivity();
            // Only threads that remove their FastThreadLocals when they end (event loops, the framework's
            // pools) are listed: a plain thread (a test's, the main one) would stay in ALL forever.
            if (Thread.currentThread() instanceof FastThreadLocalThread) {
                ALL.put(Thread.currentThread(), a);
            }
            return a;
        }

        @Override
        protected void onRemoval(LoopActivity value) {
            ALL.remove(Thread.currentThread());
        }
    };

    /** The daemon whose code runs now (read by the watchdog). */
    String daemon;
    /** Whose logging context is in this thread's MDC now (a {@link LogScope}), or null. */
    Object context;
    /**
     * Whether the context's connection keys may be in the MDC: filled for a line ({@link
     * LogScope#fillConnectionKeys}) or put eagerly; {@link LogScope#clear} removes them only then.
     */
    boolean filled;

    /**
     * The id and peer strings of the connections that logged last on this thread, by connection id
     * (slot: id mod 64; 0: empty): built once while a connection keeps logging, not once per line,
     * and held here instead of by every connection. Keyed by the id, not the handler, so a closed
     * connection is never kept reachable from here.
     */
    static final int NAMES = 64;

    final long[] namedIds = new long[NAMES];
    final String[] ids = new String[NAMES];
    final String[] peers = new String[NAMES];

    static {
        LogContext.fillLazily(new LogContext.LazyKeys() {
            @Override
            public void fill() {
                LogScope.fillConnectionKeys();
            }

            @Override
            public String value(String key) {
                return LogScope.connectionKey(key);
            }
        });
    }

    static LoopActivity current() {
        return CURRENT.get();
    }

    /** The daemon {@code thread} was last seen serving, or null. */
    public static String daemonOf(Thread thread) {
        LoopActivity a = ALL.get(thread);
        return a == null ? null : a.daemon;
    }
}
