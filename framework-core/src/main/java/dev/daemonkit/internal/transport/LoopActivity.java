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

    private String daemon;

    static void enter(String daemon) {
        CURRENT.get().daemon = daemon;
    }

    static void exit() {
        CURRENT.get().daemon = null;
    }

    /** The daemon {@code thread} was last seen serving, or null. */
    public static String daemonOf(Thread thread) {
        LoopActivity a = ALL.get(thread);
        return a == null ? null : a.daemon;
    }
}
