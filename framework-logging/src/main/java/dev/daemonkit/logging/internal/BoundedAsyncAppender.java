package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import dev.daemonkit.logging.LogContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ToLongFunction;

/**
 * Puts lines on one bounded queue; one writer thread lays each line out once per format and writes it
 * to its {@link Sink}s: the shared sink (every line, e.g. {@code daemonkit.log}) and the sink of the
 * line's daemon (MDC {@code daemon}, e.g. {@code logs/echo.log}). A thread that logs (an event loop)
 * never waits on a disk or a console.
 *
 * <p>Why one queue and one writer for all files rather than one per file: a line per request went
 * through two queues, two writer threads and two layouts, and on a busy core each writer's wake-ups
 * and each hand-off came out of the event loop's time (docs/benchmarks.md, "Logging"). Files share a
 * disk anyway, so a stalled disk stalls them all alike. The console, which stalls on its own (a
 * paused terminal), gets its own instance.
 *
 * <p>Under pressure, when less than a fifth of the queue is free, TRACE/DEBUG/INFO lines are dropped
 * and counted per sink; the writer then logs how many into each sink that lost lines, at most once a
 * second, so a gap in a file explains itself. WARN and ERROR are never dropped: the free fifth is kept
 * for them and, should even that fill up, the logging thread waits for room. That wait is the price of
 * "never dropped": it happens only when WARN/ERROR alone outrun the disk, which the repeat limit makes
 * rare.
 *
 * <p>Owns its sinks: starts them and stops them after the queue is written.
 */
public final class BoundedAsyncAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {

    private static final long REPORT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int BATCH = 256;
    /**
     * During a burst the writer naps between batches: {@link #LONG_NAP_NANOS} while batches stay small,
     * {@link #SHORT_NAP_NANOS} once a batch took an eighth of the queue (lines come fast enough to fill
     * it during a long nap). After {@link #BURST_NAPS} empty naps in a row it sleeps until woken.
     */
    private static final long SHORT_NAP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private static final long LONG_NAP_NANOS = TimeUnit.MILLISECONDS.toNanos(4);
    private static final int BURST_NAPS = 20;
    /**
     * Lines gathered for the files are written at the latest this long after the last write, when the
     * queue runs empty (and before the writer sleeps until woken). Why not at once, each time the queue
     * runs empty: under load that happened after every nap, ~1,500 writes of ~55 KB a second per file at
     * 16 lines per read, and a write's cost is largely per call (docs/benchmarks.md, "Logging"). A line
     * after a quiet spell is still written at once: the last write was long ago.
     */
    private static final long FLUSH_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final Sink shared;
    private final ConcurrentHashMap<String, Sink> daemonSinks = new ConcurrentHashMap<>();
    private final LineFormats formats;
    /** Lines ({@link ILoggingEvent}) and, in order with them, work for the writer ({@link WriterTask}). */
    private final ArrayBlockingQueue<Object> queue;

    private final int capacity;
    private final int reserve;
    /**
     * Sinks being removed, from the call until their counts are folded into the totals below: a sink
     * leaves {@link #daemonSinks} before it is closed, and without this its counts would be missing
     * from {@link #dropped()} and {@link #lost()} meanwhile (a counter that goes down reads as a reset).
     */
    private final Set<Sink> retiring = ConcurrentHashMap.newKeySet();
    /** Guards the totals of removed sinks, and folding a retiring sink into them. */
    private final Object removedCounts = new Object();

    private long droppedByRemovedSinks;
    private long lostByRemovedSinks;
    /** Tasks that found the queue full for too long; the writer runs them after its next batch. */
    private final ConcurrentLinkedQueue<WriterTask> lateTasks = new ConcurrentLinkedQueue<>();

    private long lastFlushNanos = System.nanoTime() - FLUSH_DELAY_NANOS;
    /** Lines written to the sinks since {@link #flushAll} (writer thread only). */
    private boolean unflushed;

    private Thread writer;
    /** Lines the writer could not write because a layout or an output threw (writer thread only). */
    private long writeFailures;

    private long lastWriteFailureReport = System.nanoTime() - REPORT_INTERVAL_NANOS;
    /** The writer sleeps until a line wakes it (set by the writer only, read by loggers). */
    private volatile boolean parked;
    /**
     * Set when a TRACE/DEBUG/INFO line was dropped for want of room, cleared by the writer once the
     * queue is half empty again: lets {@link #shed} refuse such lines before Logback even builds
     * them, so a stalled disk costs the logging thread next to nothing.
     */
    private volatile boolean saturated;

    /**
     * @param shared    the sink of every line, or null (daemon sinks only), not yet started
     * @param formats   lays lines out for {@link Sink#encoded} sinks; may be null when all are plain
     * @param queueSize lines the queue holds
     */
    public BoundedAsyncAppender(String name, Sink shared, LineFormats formats, int queueSize) {
        setName(name);
        this.shared = shared;
        this.formats = formats;
        this.capacity = queueSize;
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.reserve = Math.max(1, queueSize / 5);
    }

    /** True while this output drops TRACE/DEBUG/INFO lines for want of room. */
    public boolean saturated() {
        return saturated;
    }

    /** Whether this output has a sink for every line (the console, daemonkit.log). */
    public boolean writesEveryLine() {
        return shared != null;
    }

    /** Whether a line of {@code daemon} (null: none) would be written anywhere by this output. */
    public boolean writes(String daemon) {
        return shared != null || daemon != null && daemonSinks.containsKey(daemon);
    }

    /** Counts a TRACE/DEBUG/INFO line of {@code daemon} (null: none) refused before it was built. */
    public void shed(String daemon) {
        countDrop(daemon == null ? null : daemonSinks.get(daemon));
    }

    /** TRACE/DEBUG/INFO lines lost since start, counted once per sink that lost them. */
    public long dropped() {
        synchronized (removedCounts) {
            return droppedByRemovedSinks + sumOverSinks(Sink::dropped);
        }
    }

    /** Lines of any level lost since start because a file could not be written, once per file. */
    public long lost() {
        synchronized (removedCounts) {
            return lostByRemovedSinks + sumOverSinks(Sink::lost);
        }
    }

    private long sumOverSinks(ToLongFunction<Sink> count) {
        Set<Sink> sinks = new HashSet<>(daemonSinks.values()); // identity: Sink has no equals
        sinks.addAll(retiring);
        if (shared != null) {
            sinks.add(shared);
        }
        return sinks.stream().mapToLong(count).sum();
    }

    /**
     * From now on, lines of {@code daemon} also go to {@code sink}, which is started here.
     *
     * @throws IllegalStateException when the daemon has a sink already, or the sink did not start (saying why)
     */
    public void addDaemonSink(String daemon, Sink sink) {
        Sink existing = daemonSinks.get(daemon);
        if (existing != null && !existing.removing) {
            throw new IllegalStateException("daemon '" + daemon + "' has a log sink already; remove it first");
        }
        sink.start();
        // Replaces a sink whose removal is still queued behind a stalled disk; that task closes the old one.
        daemonSinks.put(daemon, sink);
    }

    /**
     * Waits until every line queued before this call is written and flushed to its files, at most
     * {@code timeout}: the writer flushes its sinks when it reaches a marker put on the queue now. For
     * a tool that reads the files or the writer's CPU once the lines are out, instead of a guessed pause.
     *
     * @return false when the timeout passed first (the queue stayed full, or the disk stalls)
     */
    public boolean awaitWritten(Duration timeout) {
        WriterTask marker = new WriterTask(this::flushAll); // on the writer's thread, after the lines before it
        if (!isStarted() || writer == null || !writer.isAlive()) {
            return true; // nothing is queued: lines were written on the caller's thread, or not taken
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!queue.offer(marker, timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                return false;
            }
            LockSupport.unpark(writer);
            return marker.done.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Stops sending lines of {@code daemon} to its sink, and closes the sink once every line queued
     * before this call is written to it. Waits for that at most {@code timeout}.
     *
     * @return false when the timeout passed first: the sink is closed later, when the writer gets there
     */
    public boolean removeDaemonSink(String daemon, Duration timeout) {
        Sink sink = daemonSinks.get(daemon);
        if (sink == null) {
            return true;
        }
        sink.removing = true;
        retiring.add(sink);
        WriterTask task = new WriterTask(() -> {
            try {
                reportDrops(sink, true);
            } finally {
                daemonSinks.remove(daemon, sink);
                try {
                    sink.stop(); // its last chunk may still fail, adding to lost()
                } finally {
                    synchronized (removedCounts) {
                        if (retiring.remove(sink)) { // once, should the daemon have been removed twice
                            droppedByRemovedSinks += sink.dropped();
                            lostByRemovedSinks += sink.lost();
                        }
                    }
                }
            }
        });
        if (!isStarted() || writer == null || !writer.isAlive()) {
            task.run();
            return true;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!queue.offer(task, timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                // The disk stalls. Lines of this daemon stop going to the file now, and the writer
                // closes it when it next runs its tasks.
                daemonSinks.remove(daemon, sink);
                lateTasks.add(task);
                return false;
            }
            LockSupport.unpark(writer);
            return task.done.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void start() {
        if (isStarted()) {
            return;
        }
        if (shared != null) {
            try {
                shared.start();
            } catch (IllegalStateException e) {
                addError(e.getMessage(), e);
                return;
            }
        }
        writer = new Thread(this::writeLoop, "daemonkit-log-" + getName());
        // A daemon thread: a JVM whose main forgot close() still exits. close() is what flushes.
        writer.setDaemon(true);
        super.start();
        writer.start();
    }

    @Override
    protected void append(ILoggingEvent logged) {
        ILoggingEvent event = logged;
        Sink own = null;
        if (!daemonSinks.isEmpty()) {
            String daemon = event.getMDCPropertyMap().get(LogContext.DAEMON);
            own = daemon == null ? null : daemonSinks.get(daemon);
        }
        if (shared == null && own == null) {
            return;
        }
        if (event.getLevel().levelInt < Level.WARN_INT) {
            // Checked before offer so that the reserve stays free for WARN/ERROR.
            if (queue.remainingCapacity() <= reserve) {
                countDrop(own);
                markSaturated();
                return;
            }
            event = DeferredLine.capture(event);
            if (!queue.offer(event)) {
                countDrop(own);
            }
            wake();
            return;
        }
        event = DeferredLine.capture(event);
        if (!queue.offer(event)) {
            LockSupport.unpark(writer);
            putUninterruptibly(event);
        }
        wake();
    }

    private void runLateTasks() {
        for (WriterTask late; (late = lateTasks.poll()) != null; ) {
            try {
                late.run();
            } catch (Throwable e) {
                writeFailed(e);
            }
        }
    }

    /** Reports a line the writer could not write (a layout or output that threw), at most once a second. */
    private void writeFailed(Throwable e) {
        writeFailures++;
        long now = System.nanoTime();
        if (now - lastWriteFailureReport >= REPORT_INTERVAL_NANOS) {
            lastWriteFailureReport = now;
            String message = "log output " + getName() + " could not write a line (" + writeFailures
                    + " so far); it goes on with the next one";
            addError(message, e);
            System.err.println("daemonkit logging: " + message + ": " + e);
        }
    }

    /** The queue is nearly full: TRACE/DEBUG/INFO lines are refused until the writer has caught up. */
    void markSaturated() {
        if (!saturated) {
            saturated = true;
            // The writer may sleep deeply with an empty queue; refused lines never reach the queue to
            // wake it, and only the writer clears the mark.
            LockSupport.unpark(writer);
        }
    }

    private void countDrop(Sink own) {
        if (shared != null) {
            shared.dropped.increment();
        }
        if (own != null) {
            own.dropped.increment();
        }
    }

    /**
     * Waits for room, unless nobody will ever make it: a writer that is gone (stopped, or given up on
     * by {@link #awaitStopped}) would leave the caller, maybe an event loop, waiting for good.
     */
    private void putUninterruptibly(Object item) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    if (queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                        return;
                    }
                    Thread thread = writer;
                    if (thread == null || !thread.isAlive()) {
                        addError("output " + getName() + " has no writer any more; a WARN/ERROR line is lost");
                        return;
                    }
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
        if (!isStarted()) {
            return; // stopped already (LoggingSystem.close waited, within its flush-timeout)
        }
        beginStop();
        awaitStopped(Duration.ofSeconds(10));
    }

    /** Stops accepting lines and asks the writer to finish the queue. Returns at once. */
    public void beginStop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        // The writer checks isStarted() when the queue runs dry; this only wakes it.
        LockSupport.unpark(writer);
    }

    /**
     * Waits until the writer has written the queue and closed the sinks, at most {@code timeout}.
     *
     * @return false when the timeout passed first (lines still queued are lost; a stalled sink stays open)
     */
    public boolean awaitStopped(Duration timeout) {
        Thread thread = writer;
        if (thread == null) {
            return true;
        }
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            addError("output " + getName() + " did not write its last " + queue.size() + " lines within " + timeout
                    + "; giving up on them");
            thread.interrupt();
            return false;
        }
        return true;
    }

    private void writeLoop() {
        List<Object> batch = new ArrayList<>(BATCH);
        long lastReportNanos = System.nanoTime() - REPORT_INTERVAL_NANOS;
        int idleRounds = 0;
        int sinceNap = 0;
        long nap = SHORT_NAP_NANOS;
        while (isStarted() || !queue.isEmpty()) {
            if (Thread.currentThread().isInterrupted()) {
                return; // awaitStopped gave up waiting: a stalled output. Leave what is queued.
            }
            queue.drainTo(batch, BATCH);
            // Checked on every round, an empty one too: the flag can be set just after the writer
            // emptied the queue (the logging thread was preempted between its check and the set), and
            // then no line reaches the queue to clear it: every INFO line would be refused for good.
            if (saturated && queue.size() < capacity / 2) {
                saturated = false;
            }
            if (batch.isEmpty()) {
                runLateTasks();
                // What the last batches gathered: written once FLUSH_DELAY has passed, or before the
                // writer sleeps until woken, whichever comes first.
                if (unflushed
                        && (idleRounds + 1 >= BURST_NAPS || System.nanoTime() - lastFlushNanos >= FLUSH_DELAY_NANOS)) {
                    flushAll();
                }
                if (sinceNap > 0) {
                    nap = sinceNap >= capacity / 8 ? SHORT_NAP_NANOS : LONG_NAP_NANOS;
                    sinceNap = 0;
                }
                idle(idleRounds++, nap);
                continue;
            }
            idleRounds = 0;
            sinceNap += batch.size();
            unflushed = true;
            for (Object item : batch) {
                try {
                    if (item instanceof ILoggingEvent event) {
                        write(event);
                    } else {
                        ((WriterTask) item).run();
                    }
                } catch (Throwable e) { // an Error too (a huge line's OutOfMemoryError): see below
                    // A writer that died would leave the queue full for good, and every WARN/ERROR
                    // would then wait for room forever: an event loop stalled by its logger.
                    writeFailed(e);
                }
            }
            batch.clear();
            long now = System.nanoTime();
            if (now - lastReportNanos >= REPORT_INTERVAL_NANOS) {
                reportAllDrops(false);
                lastReportNanos = now;
            }
            runLateTasks();
            // Flush when the queue runs dry (at most every FLUSH_DELAY), and at least once a second
            // under a load that never lets it: a quiet daemon's ERROR must not wait in a half-full
            // chunk for as long as the load lasts.
            long sinceFlush = now - lastFlushNanos;
            if (sinceFlush >= REPORT_INTERVAL_NANOS || sinceFlush >= FLUSH_DELAY_NANOS && queue.isEmpty()) {
                flushAll();
            }
        }
        runLateTasks();
        reportAllDrops(true);
        if (formats != null) {
            formats.clear();
        }
        if (shared != null) {
            shared.stop();
        }
        daemonSinks.values().forEach(Sink::stop);
    }

    private void write(ILoggingEvent event) {
        if (shared != null) {
            shared.write(event, formats);
        }
        if (!daemonSinks.isEmpty()) {
            String daemon = event instanceof DeferredLine line
                    ? line.daemon()
                    : event.getMDCPropertyMap().get(LogContext.DAEMON);
            Sink own = daemon == null ? null : daemonSinks.get(daemon);
            if (own != null) {
                own.write(event, formats);
            }
        }
    }

    private void flushAll() {
        unflushed = false;
        lastFlushNanos = System.nanoTime();
        if (shared != null && shared.dirty) {
            shared.flush();
        }
        for (Sink sink : daemonSinks.values()) {
            if (sink.dirty) {
                sink.flush();
            }
        }
    }

    /**
     * The writer has nothing to write. Being woken by every line would cost a wake-up (and, on a
     * busy core, a context switch) per line on the logging thread: an event loop logging a line
     * per request paid ~12 us per request for it. So during a burst the writer naps briefly and
     * takes whatever came meanwhile as one batch; only after a quiet spell does it sleep until the
     * next line wakes it ({@link #parked}). Each nap's end is itself a wake-up and a context switch
     * on a busy core, hence longer naps while the queue has room for them.
     */
    private void idle(int idleRounds, long nap) {
        if (idleRounds < BURST_NAPS) {
            LockSupport.parkNanos(this, nap);
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

    private void reportAllDrops(boolean last) {
        if (shared != null) {
            reportDrops(shared, last);
        }
        for (Sink sink : daemonSinks.values()) {
            reportDrops(sink, last);
        }
    }

    private void reportDrops(Sink sink, boolean last) {
        long total = sink.dropped();
        if (total <= sink.reported) {
            return;
        }
        long newlyDropped = total - sink.reported;
        sink.reported = total;
        LoggerContext context = (LoggerContext) getContext();
        LoggingEvent event = new LoggingEvent(
                BoundedAsyncAppender.class.getName(),
                context.getLogger("dev.daemonkit.logging"),
                Level.WARN,
                "logging fell behind: dropped " + newlyDropped + " TRACE/DEBUG/INFO lines of this output (queue of "
                        + capacity + " full; " + total
                        + " dropped since start). Raise daemonkit.logging.async.queue-size,"
                        + " lower the level, or check the disk.",
                null,
                null);
        event.setMDCPropertyMap(sink.reportContext());
        event.prepareForDeferredProcessing();
        sink.write(event, formats);
        if (last) {
            sink.flush();
        }
    }

    /** Work the writer does in order with the lines around it (closing a daemon's file). */
    private static final class WriterTask {
        private final Runnable work;
        final CountDownLatch done = new CountDownLatch(1);

        WriterTask(Runnable work) {
            this.work = work;
        }

        void run() {
            try {
                work.run();
            } finally {
                done.countDown();
            }
        }
    }
}
