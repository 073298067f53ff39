package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.LongAdder;

/**
 * Puts lines on a bounded queue; one thread per output writes them, so a thread that logs (an event
 * loop) never waits on a disk or a console.
 *
 * <p>Under pressure, when less than a fifth of the queue is free, TRACE/DEBUG/INFO lines are dropped
 * and counted; the writer then logs how many into the output itself, at most once a second, so a gap
 * in the file explains itself. WARN and ERROR are never dropped: the free fifth is kept for them and,
 * should even that fill up, the logging thread waits for room. That wait is the price of "never
 * dropped": it happens only when WARN/ERROR alone outrun the disk, which the repeat limit makes rare.
 *
 * <p>Logback's own AsyncAppender drops in the same way but does not count, and flushes its file on
 * every line; this one flushes when its queue runs empty, which batches writes under load.
 *
 * <p>Owns the downstream appender: starts it with itself and stops it after the queue is written.
 */
public final class BoundedAsyncAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {

    private static final long REPORT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int BATCH = 256;
    /** During a burst: naps of this length, this many in a row before the writer sleeps until woken. */
    private static final long NAP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int BURST_NAPS = 50;
    // Tells the writer to finish; compared by identity.
    private static final ILoggingEvent END = new LoggingEvent();

    private final Appender<ILoggingEvent> downstream;
    private final ArrayBlockingQueue<ILoggingEvent> queue;
    private final int capacity;
    private final int reserve;
    private final Map<String, String> reportContext;
    private final LongAdder dropped = new LongAdder();
    private Thread writer;
    /** The writer sleeps until a line wakes it (set by the writer only, read by loggers). */
    private volatile boolean parked;
    /**
     * Set when a TRACE/DEBUG/INFO line was dropped for want of room, cleared by the writer once the
     * queue is half empty again: lets {@link #shed()} refuse such lines before Logback even builds
     * them, so a stalled disk costs the logging thread next to nothing.
     */
    private volatile boolean saturated;

    /**
     * @param downstream    the real output, not yet started
     * @param queueSize     lines the queue holds
     * @param reportContext MDC of the "lines dropped" report, e.g. the daemon of a per-daemon file
     */
    public BoundedAsyncAppender(String name, Appender<ILoggingEvent> downstream, int queueSize,
            Map<String, String> reportContext) {
        setName(name);
        this.downstream = downstream;
        this.capacity = queueSize;
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.reserve = Math.max(1, queueSize / 5);
        this.reportContext = Map.copyOf(reportContext);
    }

    /** True while this output drops TRACE/DEBUG/INFO lines for want of room. */
    public boolean saturated() {
        return saturated;
    }

    /** Counts a TRACE/DEBUG/INFO line refused before it was built because this output is saturated. */
    public void shed() {
        dropped.increment();
    }

    /** TRACE/DEBUG/INFO lines this output dropped since it started. */
    public long dropped() {
        return dropped.sum();
    }

    @Override
    public void start() {
        if (isStarted()) {
            return;
        }
        if (!downstream.isStarted()) {
            downstream.start();
        }
        if (!downstream.isStarted()) {
            addError("output " + downstream.getName() + " did not start; see the messages above");
            return;
        }
        writer = new Thread(this::writeLoop, "daemonkit-log-" + getName());
        // A daemon thread: a JVM whose main forgot close() still exits. close() is what flushes.
        writer.setDaemon(true);
        super.start();
        writer.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        if (event.getLevel().levelInt < Level.WARN_INT) {
            // Checked before offer so that the reserve stays free for WARN/ERROR.
            if (queue.remainingCapacity() <= reserve) {
                dropped.increment();
                saturated = true;
                return;
            }
            // Thread name, MDC and message must be taken on the logging thread, not the writer.
            event.prepareForDeferredProcessing();
            if (!queue.offer(event)) {
                dropped.increment();
            }
            wake();
            return;
        }
        event.prepareForDeferredProcessing();
        if (!queue.offer(event)) {
            wake();
            putUninterruptibly(event);
        }
        wake();
    }

    private void putUninterruptibly(ILoggingEvent event) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    queue.put(event);
                    return;
                } catch (InterruptedException e) {
                    // Never drop a WARN/ERROR because its thread was interrupted; restore the flag after.
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void stop() {
        beginStop();
        awaitStopped(Duration.ofSeconds(10));
    }

    /** Stops accepting lines and asks the writer to finish the queue. Returns at once. */
    public void beginStop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        // offer, not put: a full queue with a stalled writer must not hang close() here; the writer
        // checks isStarted() when the queue runs dry, so END is only a wake-up.
        queue.offer(END);
        LockSupport.unpark(writer);
    }

    /**
     * Waits until the writer has written the queue and closed the output, at most {@code timeout}.
     *
     * @return false when the timeout passed first (lines still queued are lost; the output is closed anyway)
     */
    public boolean awaitStopped(Duration timeout) {
        Thread thread = writer;
        boolean finished = true;
        if (thread != null) {
            try {
                thread.join(Math.max(1, timeout.toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            finished = !thread.isAlive();
            if (!finished) {
                addError("output " + getName() + " did not write its last " + queue.size() + " lines within "
                        + timeout + "; closing it anyway");
                thread.interrupt();
            }
        }
        if (finished) {
            downstream.stop();
        }
        return finished;
    }

    private void writeLoop() {
        List<ILoggingEvent> batch = new ArrayList<>(BATCH);
        long reported = 0;
        long lastReportNanos = System.nanoTime() - REPORT_INTERVAL_NANOS;
        int idleRounds = 0;
        while (isStarted() || !queue.isEmpty()) {
            if (Thread.currentThread().isInterrupted()) {
                return;   // awaitStopped gave up waiting: a stalled output. Leave what is queued.
            }
            queue.drainTo(batch, BATCH);
            if (batch.isEmpty()) {
                idle(idleRounds++);
                continue;
            }
            idleRounds = 0;
            if (saturated && queue.size() < capacity / 2) {
                saturated = false;
            }
            for (ILoggingEvent event : batch) {
                if (event != END) {
                    downstream.doAppend(event);
                }
            }
            batch.clear();
            long total = dropped.sum();
            long now = System.nanoTime();
            if (total > reported && now - lastReportNanos >= REPORT_INTERVAL_NANOS) {
                report(total - reported, total);
                reported = total;
                lastReportNanos = now;
            }
            if (queue.isEmpty()) {
                flush();
            }
        }
        long total = dropped.sum();
        if (total > reported) {
            report(total - reported, total);
        }
        flush();
    }

    /**
     * The writer has nothing to write. Being woken by every line would cost a wake-up (and, on a
     * busy core, a context switch) per line on the logging thread: an event loop logging a line
     * per request paid ~12 us per request for it. So during a burst the writer naps briefly and
     * takes whatever came meanwhile as one batch; only after a quiet spell does it sleep until the
     * next line wakes it ({@link #parked}).
     */
    private void idle(int idleRounds) {
        if (idleRounds < BURST_NAPS) {
            LockSupport.parkNanos(this, NAP_NANOS);
            return;
        }
        parked = true;
        if (queue.isEmpty() && isStarted()) {
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(500));
        }
        parked = false;
    }

    /** After queueing a line: wakes the writer if it sleeps deeply (not during bursts, see {@link #idle}). */
    private void wake() {
        if (parked) {
            LockSupport.unpark(writer);
        }
    }

    private void report(long newlyDropped, long total) {
        LoggerContext context = (LoggerContext) getContext();
        LoggingEvent event = new LoggingEvent(BoundedAsyncAppender.class.getName(),
                context.getLogger("dev.daemonkit.logging"), Level.WARN,
                "logging fell behind: dropped " + newlyDropped + " TRACE/DEBUG/INFO lines of this output (queue of "
                        + capacity + " full; " + total + " dropped since start). Raise daemonkit.logging.async.queue-size,"
                        + " lower the level, or check the disk.",
                null, null);
        event.setMDCPropertyMap(reportContext);
        event.prepareForDeferredProcessing();
        downstream.doAppend(event);
    }

    private void flush() {
        if (downstream instanceof OutputStreamAppender) {
            try {
                ((OutputStreamAppender<?>) downstream).getOutputStream().flush();
            } catch (IOException | RuntimeException e) {
                addError("cannot flush output " + getName(), e);
            }
        }
    }
}
