package dev.daemonkit.internal.transport;

import io.netty.util.concurrent.FastThreadLocal;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which daemon an event loop thread is serving right now, readable from another thread (the stall
 * watchdog). Written by the front handler around every event: a plain field of a per-thread object,
 * so the cost is one thread-local lookup; the watchdog's read may be slightly stale, which is fine
 * for a diagnostic.
 */
public final class LoopActivity {
    private static final Map<Thread, LoopActivity> ALL = new ConcurrentHashMap<>();
    private static final FastThreadLocal<LoopActivity> CURRENT = new FastThreadLocal<>() {
        @Override
        protected LoopActivity initialValue() {
            LoopActivity a = new LoopActivity();
            ALL.put(Thread.currentThread(), a);
            return a;
        }

        @Override
        protected void onRemoval(LoopActivity value) {
            ALL.remove(Thread.currentThread());
        }
    };

    /** The daemon whose code runs now (read by the watchdog). */
    String daemon;
    /** Whose logging context is in this thread's MDC now (a front handler), or null. */
    Object context;

    static LoopActivity current() {
        return CURRENT.get();
    }

    /**
     * Code that sets the MDC itself (a timer task, a datagram) calls this first: the connection
     * context recorded here is no longer the one in the MDC.
     */
    public static void forget(String daemonNow) {
        LoopActivity a = CURRENT.get();
        a.context = null;
        a.daemon = daemonNow;
    }

    /** The daemon {@code thread} was last seen serving, or null. */
    public static String daemonOf(Thread thread) {
        LoopActivity a = ALL.get(thread);
        return a == null ? null : a.daemon;
    }
}
