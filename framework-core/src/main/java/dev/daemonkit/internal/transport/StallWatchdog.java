package dev.daemonkit.internal.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds event loops blocked by a handler (a blocking call, an endless loop): it keeps one small
 * probe task queued on each loop; a probe that has not run after {@code threshold} means the loop is
 * stuck. Each stall is reported once, with the daemon the loop was serving, the plugin whose code is
 * on the stack, and the blocked thread's stack; its end is reported too.
 */
public final class StallWatchdog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StallWatchdog.class);

    private final long thresholdNanos;
    /** Changed by the watchdog's thread only (after the constructor); read by {@link #stalledNow} from any thread. */
    private final Map<EventExecutor, Probe> probes = new ConcurrentHashMap<>();
    /** Event loops that come and go (daemons' own loops), looked at each round; null: none. */
    private final Supplier<Collection<EventLoopGroup>> moreLoops;

    private final Thread thread;
    private final LongAdder stalls = new LongAdder();
    private volatile boolean closed;

    private static final class Probe {
        final EventExecutor loop;
        volatile Thread loopThread;
        volatile long queuedAt; // 0 when no probe is outstanding
        volatile boolean reported;

        Probe(EventExecutor loop) {
            this.loop = loop;
        }
    }

    public StallWatchdog(EventLoopGroup loops, Duration threshold) {
        this(loops, null, threshold);
    }

    /** Watches the transport's shared loops and the daemons' own loops ({@code io-threads}) as they come and go. */
    public StallWatchdog(Transport transport, Duration threshold) {
        this(transport.workers(), transport::daemonLoops, threshold);
    }

    private StallWatchdog(EventLoopGroup loops, Supplier<Collection<EventLoopGroup>> moreLoops, Duration threshold) {
        this.thresholdNanos = threshold.toNanos();
        this.moreLoops = moreLoops;
        for (EventExecutor loop : loops) {
            probes.put(loop, new Probe(loop));
        }
        thread = new Thread(this::run, "daemonkit-watchdog");
        thread.setDaemon(true);
        thread.start();
    }

    /** How many stalls were seen so far. */
    public long stalls() {
        return stalls.sum();
    }

    /**
     * The names of the event loop threads blocked past the threshold at this moment (a loop that has not
     * yet run a probe is named by its executor). Read from any thread, e.g. by the liveness probe; it
     * looks at the probes' queue times itself, so it does not wait for the watchdog's next round.
     */
    public List<String> stalledNow() {
        long now = System.nanoTime();
        List<String> stalled = new ArrayList<>();
        for (Probe p : probes.values()) {
            long queued = p.queuedAt;
            if (queued != 0 && now - queued > thresholdNanos && !p.loop.isShuttingDown()) {
                Thread t = p.loopThread;
                stalled.add(t != null ? t.getName() : String.valueOf(p.loop));
            }
        }
        return stalled;
    }

    /** The threshold past which a loop counts as stalled ({@code daemonkit.watchdog.threshold}). */
    public Duration threshold() {
        return Duration.ofNanos(thresholdNanos);
    }

    private void run() {
        long sleepMillis = Math.max(5, TimeUnit.NANOSECONDS.toMillis(thresholdNanos) / 4);
        while (!closed) {
            long now = System.nanoTime();
            if (moreLoops != null) {
                probes.values().removeIf(p -> p.loop.isTerminated());
                for (EventLoopGroup group : moreLoops.get()) {
                    for (EventExecutor loop : group) {
                        probes.computeIfAbsent(loop, Probe::new);
                    }
                }
            }
            for (Probe p : probes.values()) {
                check(p, now);
            }
            try {
                Thread.sleep(sleepMillis); // the watchdog's own pace; bounded by close()
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void check(Probe p, long now) {
        if (p.loop.isShuttingDown()) {
            return;
        }
        long queued = p.queuedAt;
        if (queued == 0) {
            p.queuedAt = now;
            try {
                p.loop.execute(() -> ran(p));
            } catch (RejectedExecutionException e) {
                p.queuedAt = 0;
            }
        } else if (!p.reported && now - queued > thresholdNanos) {
            if (p.loopThread == null) {
                // The loop has been busy since before its first probe (a handler blocked it before the
                // watchdog's first round reached it): its thread is found once, the slow way.
                p.loopThread = threadOf(p.loop);
                if (p.loopThread == null) {
                    return; // not started: nothing runs there to block it
                }
            }
            p.reported = true;
            stalls.increment();
            report(p, now - queued);
        }
    }

    /** The thread running {@code loop}, or null if it has none yet. Only on a stall: it walks every thread. */
    private static Thread threadOf(EventExecutor loop) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (loop.inEventLoop(t)) {
                return t;
            }
        }
        return null;
    }

    private void ran(Probe p) {
        p.loopThread = Thread.currentThread();
        long blocked = System.nanoTime() - p.queuedAt;
        if (p.reported) {
            log.warn(
                    "event loop thread {} is running again after being blocked for about {} ms",
                    p.loopThread.getName(),
                    TimeUnit.NANOSECONDS.toMillis(blocked));
        }
        p.reported = false;
        p.queuedAt = 0;
    }

    private void report(Probe p, long blockedNanos) {
        Thread t = p.loopThread;
        StackTraceElement[] stack = t.getStackTrace();
        String daemon = LoopActivity.daemonOf(t);
        String plugin = null;
        StringBuilder trace = new StringBuilder();
        for (StackTraceElement e : stack) {
            trace.append("\n\tat ").append(e);
            if (plugin == null
                    && e.getClassLoaderName() != null
                    && e.getClassLoaderName().startsWith("plugin:")) {
                plugin = e.getClassLoaderName().substring("plugin:".length());
            }
        }
        log.warn(
                "event loop thread {} has been blocked for {} ms (threshold {} ms) while serving {}{}: a handler is"
                        + " blocking it, so every connection on this loop waits. Move blocking work off the event loop."
                        + " Stack of the blocked thread:{}",
                t.getName(),
                TimeUnit.NANOSECONDS.toMillis(blockedNanos),
                TimeUnit.NANOSECONDS.toMillis(thresholdNanos),
                daemon == null ? "no daemon in particular" : "daemon '" + daemon + "'",
                plugin == null ? "" : " (code of plugin file " + plugin + " is on the stack)",
                trace);
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
