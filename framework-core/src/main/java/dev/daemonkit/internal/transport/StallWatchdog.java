package dev.daemonkit.internal.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
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
    /** Touched by the watchdog's thread only (after the constructor). */
    private final Map<EventExecutor, Probe> probes = new LinkedHashMap<>();
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
        } else if (!p.reported && now - queued > thresholdNanos && p.loopThread != null) {
            p.reported = true;
            stalls.increment();
            report(p, now - queued);
        }
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
