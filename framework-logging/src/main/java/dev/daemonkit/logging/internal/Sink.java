package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.EncoderBase;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * One real output behind a {@link BoundedAsyncAppender}: a Logback appender (a file, the console),
 * the format its lines take, and its own count of lines it lost.
 *
 * <p>A sink made by {@link #encoded} does not lay out lines itself: the writer lays a line out once
 * per format ({@link LineFormats}) and hands the same bytes to every sink of that format, so a line
 * that goes to {@code daemonkit.log} and to {@code echo.log} is formatted once, not twice. Such a sink
 * gathers lines into a chunk of up to {@value #CHUNK} bytes and hands the Logback appender whole
 * chunks: the appender's work per write (its locks, the rolling policy's clock read and size count,
 * the stream's copy) is then paid per chunk, not per line. Rolling by size may overshoot the limit by
 * at most one chunk; rolling by day happens at the first chunk written on the new day, as it did per
 * line (Logback checks the time of writing, not the time of the line).
 *
 * <p>Used by the writer thread only, except {@link #dropped}, which logging threads count into.
 */
public final class Sink {

    static final int CHUNK = 64 * 1024;

    private final String name;
    private final Appender<ILoggingEvent> appender;
    private final OutputFormat format;
    private final PreEncoded encoder;
    private final Map<String, String> reportContext;
    final LongAdder dropped = new LongAdder();
    /** Drops already reported into this sink (writer thread only). */
    long reported;
    /** Written to since the last flush (writer thread only). */
    boolean dirty;
    /** Lines laid out but not yet handed to the appender (encoded sinks only; writer thread only). */
    private byte[] chunk;
    private int chunkLength;
    private ILoggingEvent chunkLast;

    private Sink(String name, Appender<ILoggingEvent> appender, OutputFormat format, PreEncoded encoder,
            Map<String, String> reportContext) {
        this.name = name;
        this.appender = appender;
        this.format = format;
        this.encoder = encoder;
        this.reportContext = Map.copyOf(reportContext);
    }

    /**
     * A sink whose lines the writer lays out in {@code format}: sets an encoder on {@code appender}
     * that writes the bytes it is handed. {@code appender} must not be started yet.
     *
     * @param reportContext MDC of the "lines dropped" report written into this sink, e.g. its daemon
     */
    public static Sink encoded(String name, OutputStreamAppender<ILoggingEvent> appender, OutputFormat format,
            Map<String, String> reportContext) {
        PreEncoded encoder = new PreEncoded();
        encoder.setContext(appender.getContext());
        encoder.start();
        appender.setEncoder(encoder);
        return new Sink(name, appender, format, encoder, reportContext);
    }

    /** A sink that formats lines itself (any Logback appender; tests use it). */
    public static Sink plain(String name, Appender<ILoggingEvent> appender, Map<String, String> reportContext) {
        return new Sink(name, appender, null, null, reportContext);
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

    void start() {
        if (!appender.isStarted()) {
            appender.start();
        }
    }

    boolean isStarted() {
        return appender.isStarted();
    }

    void write(ILoggingEvent event, LineFormats formats) {
        dirty = true;
        if (encoder == null) {
            appender.doAppend(event);
            return;
        }
        byte[] line = formats.bytes(event, format);
        if (chunkLength + line.length > CHUNK) {
            writeChunk();
        }
        if (line.length >= CHUNK) {
            encoder.next = line;
            appender.doAppend(event);
            return;
        }
        if (chunk == null) {
            chunk = new byte[CHUNK];
        }
        System.arraycopy(line, 0, chunk, chunkLength, line.length);
        chunkLength += line.length;
        chunkLast = event;
    }

    private void writeChunk() {
        if (chunkLength == 0) {
            return;
        }
        encoder.next = Arrays.copyOf(chunk, chunkLength);
        ILoggingEvent last = chunkLast;
        chunkLength = 0;
        chunkLast = null;
        // The appender asks the event only for what the rolling policy needs; the last line stands for the chunk.
        appender.doAppend(last);
    }

    /** Pushes buffered bytes to the file or console; reports errors to Logback's status, never throws. */
    void flush() {
        dirty = false;
        if (encoder != null) {
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
        appender.stop();
    }

    /** Writes the bytes the writer laid out for the line at hand; the appender adds nothing. */
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
