package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.EncoderBase;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * One real output behind a {@link BoundedAsyncAppender}: a log file or the console (or, in tests, any
 * Logback appender), the format its lines take, and its own count of lines it lost.
 *
 * <p>A file or console sink does not lay out lines itself: the writer lays a line out once per format
 * ({@link LineFormats}) and hands the same bytes to every sink of that format, so a line that goes to
 * {@code daemonkit.log} and to {@code echo.log} is formatted once, not twice. Such a sink gathers
 * lines into a chunk of up to {@value #CHUNK} bytes and writes whole chunks: the work per write (a
 * system call, the file system's own work per call, the clock read and size check of rolling) is paid
 * per chunk, not per line. Rolling by size may therefore leave a file up to a chunk short of the limit; a file
 * whose limit is small gets smaller chunks ({@link RollingFile#chunkLimit}), so that it still rolls near it.
 *
 * <p>Why 256 KB: appending lines to a file here cost ~360 us of CPU per MB in 64 KB writes, ~270 in
 * 256 KB and ~220 in 1 MB (much of a write's cost is per call, e.g. ext4's inode update), and the writer
 * shares a core with the event loop in the benchmarks (docs/benchmarks.md, "Logging"). 1 MB per file
 * and per daemon was more memory than the rest gains.
 *
 * <p>Used by the writer thread only, except {@link #dropped}, which logging threads count into.
 */
public final class Sink {

    static final int CHUNK = 256 * 1024;

    private final String name;
    private final OutputFormat format;
    /** A file (null: an appender). */
    private final RollingFile file;
    /** Bytes gathered before a write: {@link #CHUNK}, or less for a small file ({@link RollingFile#chunkLimit}). */
    private final int chunkLimit;

    private final Consumer<String> fileErrors;
    /** The console or, for {@link #plain} sinks, an appender that lays lines out itself. */
    private final Appender<ILoggingEvent> appender;

    private final PreEncoded encoder;
    private final Map<String, String> reportContext;
    final LongAdder dropped = new LongAdder();
    /** Lines of any level lost because the file could not be written (written by the writer only). */
    private volatile long lost;
    /** {@link #lost} when the file last failed, so that recovery can say how many went meanwhile. */
    private long lostBeforeFailing;
    /** Drops already reported into this sink (writer thread only). */
    long reported;
    /** Its removal is queued behind the lines before it; a new sink for the same daemon may replace it. */
    volatile boolean removing;
    /** Written to since the last flush (writer thread only). */
    boolean dirty;

    private boolean started;
    /** Lines laid out but not yet written (writer thread only). */
    private byte[] chunk;

    private int chunkLength;
    private int chunkLines;
    private ILoggingEvent chunkLast;
    /** Whether the file's last write failed, so that a failing disk is reported once, not per chunk. */
    private boolean failing;

    private Sink(
            String name,
            OutputFormat format,
            RollingFile file,
            Consumer<String> fileErrors,
            Appender<ILoggingEvent> appender,
            PreEncoded encoder,
            Map<String, String> reportContext) {
        this.name = name;
        this.format = format;
        this.file = file;
        this.chunkLimit = file != null ? file.chunkLimit(CHUNK) : CHUNK;
        this.fileErrors = fileErrors;
        this.appender = appender;
        this.encoder = encoder;
        this.reportContext = Map.copyOf(reportContext);
    }

    /**
     * A log file, opened by {@link #start}.
     *
     * @param errors        told when the file cannot be written (and when it can again)
     * @param reportContext MDC of the "lines dropped" report written into this sink, e.g. its daemon
     */
    public static Sink file(
            String name,
            RollingFile file,
            OutputFormat format,
            Consumer<String> errors,
            Map<String, String> reportContext) {
        return new Sink(name, format, file, errors, null, null, reportContext);
    }

    /**
     * An appender (the console) whose lines the writer lays out in {@code format}: sets an encoder on
     * {@code appender} that writes the bytes it is handed. {@code appender} must not be started yet.
     */
    public static Sink encoded(
            String name,
            OutputStreamAppender<ILoggingEvent> appender,
            OutputFormat format,
            Map<String, String> reportContext) {
        PreEncoded encoder = new PreEncoded();
        encoder.setContext(appender.getContext());
        encoder.start();
        appender.setEncoder(encoder);
        return new Sink(name, format, null, null, appender, encoder, reportContext);
    }

    /** A sink that lays lines out itself (any Logback appender; tests use it). */
    public static Sink plain(String name, Appender<ILoggingEvent> appender, Map<String, String> reportContext) {
        return new Sink(name, null, null, null, appender, null, reportContext);
    }

    public String name() {
        return name;
    }

    Map<String, String> reportContext() {
        return reportContext;
    }

    /** TRACE/DEBUG/INFO lines this sink lost since it started. */
    public long dropped() {
        return dropped.sum();
    }

    /** Lines of any level lost since start because the file could not be written (disk full, ...). */
    public long lost() {
        return lost;
    }

    /** @throws IllegalStateException saying why the output could not be opened */
    void start() {
        if (file != null) {
            if (!started) {
                try {
                    file.open();
                } catch (IOException e) {
                    throw new IllegalStateException("cannot open " + file.path() + " (" + e + ")", e);
                }
            }
        } else if (!appender.isStarted()) {
            appender.start();
            if (!appender.isStarted()) {
                throw new IllegalStateException("output " + name + " did not start");
            }
        }
        started = true;
    }

    boolean isStarted() {
        return file != null ? started : appender.isStarted();
    }

    void write(ILoggingEvent event, LineFormats formats) {
        dirty = true;
        if (file == null && encoder == null) {
            appender.doAppend(event);
            return;
        }
        byte[] line = formats.bytes(event, format);
        int lineLength = formats.length(format);
        if (chunkLength + lineLength > chunkLimit) {
            writeChunk();
        }
        if (chunk == null) {
            chunk = new byte[Math.max(chunkLimit, lineLength)];
        } else if (lineLength > chunk.length) {
            chunk = Arrays.copyOf(chunk, lineLength);
        }
        System.arraycopy(line, 0, chunk, chunkLength, lineLength);
        chunkLength += lineLength;
        chunkLines++;
        chunkLast = event;
    }

    private void writeChunk() {
        if (chunkLength == 0) {
            return;
        }
        int length = chunkLength;
        int lines = chunkLines;
        ILoggingEvent last = chunkLast;
        chunkLength = 0;
        chunkLines = 0;
        chunkLast = null;
        if (file == null) {
            encoder.next = Arrays.copyOf(chunk, length);
            // The appender asks the event nothing it needs here; the last line stands for the chunk.
            appender.doAppend(last);
            return;
        }
        try {
            file.write(chunk, 0, length);
            if (failing) {
                failing = false;
                fileErrors.accept("writing " + file.path() + " works again; " + (lost - lostBeforeFailing)
                        + " lines were lost meanwhile");
            }
        } catch (IOException e) {
            // Not counted as dropped: these may be WARN/ERROR lines, and the queue did not overflow.
            if (!failing) {
                failing = true;
                lostBeforeFailing = lost;
                fileErrors.accept("cannot write " + file.path() + " (" + e + "): lines are lost until it"
                        + " can be written again (tried each second). Check the disk and the file's permissions.");
            }
            lost += lines;
        }
    }

    /** Writes what is gathered to the file or console; reports errors, never throws. */
    void flush() {
        dirty = false;
        if (file != null || encoder != null) {
            writeChunk();
        }
        if (appender instanceof OutputStreamAppender<ILoggingEvent> stream && stream.getOutputStream() != null) {
            try {
                stream.getOutputStream().flush();
            } catch (IOException | RuntimeException e) {
                stream.addError("cannot flush log output " + name, e);
            }
        }
    }

    void stop() {
        flush();
        if (file != null) {
            started = false;
            try {
                file.close();
            } catch (IOException e) {
                fileErrors.accept("cannot close " + file.path() + " (" + e + ")");
            }
        } else {
            appender.stop();
        }
    }

    /** Writes the bytes the writer laid out; the appender adds nothing. */
    private static final class PreEncoded extends EncoderBase<ILoggingEvent> {
        byte[] next;

        @Override
        public byte[] headerBytes() {
            return null;
        }

        @Override
        public byte[] encode(ILoggingEvent event) {
            byte[] bytes = next;
            next = null;
            return bytes;
        }

        @Override
        public byte[] footerBytes() {
            return null;
        }
    }
}
