package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.TargetLengthBasedClassNameAbbreviator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.Layout;
import ch.qos.logback.core.util.CachingDateFormatter;
import dev.daemonkit.logging.LogContext;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Lays a line out in {@link #PATTERN}, the default text pattern, byte for byte as Logback's
 * PatternLayout does (a test compares the two), but straight into bytes: no converter chain, no
 * StringBuilder and String per line, the date formatted once per second, logger names abbreviated
 * and thread names encoded once. A line with an exception goes to the PatternLayout, which prints the
 * stack trace.
 *
 * <p>Why: with a line per request, the PatternLayout was the largest part of the writer thread's work,
 * which on a busy machine comes out of the event loops' time (docs/benchmarks.md, "Logging").
 *
 * <p>A connection's context ({@code " [echo conn=17 peer=127.0.0.1:50312]"}) and a message pattern's
 * fixed text are kept encoded, keyed by the identity of their strings: the core hands the same
 * {@code conn} and {@code peer} strings for every line of a connection, and a call site the same
 * pattern. Copying them as bytes replaced laying out ~50 characters one by one per line, a third of
 * the layout's time at 16 lines per read (docs/benchmarks.md, "Logging"). Identity, not equality:
 * a different string is a miss, laid out as before, never another connection's bytes.
 *
 * <p>One instance per writer thread: not thread-safe.
 */
public final class DefaultTextEncoder {

    /** The pattern this lays out; also the default of {@code daemonkit.logging.text-pattern}. */
    public static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread]%context %logger{36} - %msg%n";

    private static final int LOGGER_LENGTH = 36;
    private static final int CACHE_LIMIT = 4096;
    /** Slots of the context and pattern caches (a power of two); a collision only costs a miss. */
    private static final int SLOTS = 256;

    private static final byte[] NEWLINE = CoreConstants.LINE_SEPARATOR.getBytes(StandardCharsets.UTF_8);

    private final Layout<ILoggingEvent> fallback;
    private final CachingDateFormatter seconds = new CachingDateFormatter("yyyy-MM-dd HH:mm:ss");
    private final TargetLengthBasedClassNameAbbreviator abbreviator =
            new TargetLengthBasedClassNameAbbreviator(LOGGER_LENGTH);
    private final Map<String, byte[]> loggers = new HashMap<>();
    private final Map<String, byte[]> threads = new HashMap<>();
    private long second = Long.MIN_VALUE;
    private byte[] secondBytes;
    private byte[] buffer = new byte[512];
    private int length;
    /** The context cache: slot by the peer's (else conn's, else daemon's) hash; hit when all three are the same objects. */
    private final String[] contextDaemons = new String[SLOTS];

    private final String[] contextConns = new String[SLOTS];
    private final String[] contextPeers = new String[SLOTS];
    private final byte[][] contextBytes = new byte[SLOTS][];
    /** The pattern cache: a pattern's UTF-8 bytes and where its {@code {}} anchors are in them. */
    private final String[] patterns = new String[SLOTS];

    private final byte[][] patternBytes = new byte[SLOTS][];
    private final int[][] patternAnchors = new int[SLOTS][];
    /** The last thread and logger looked up, ahead of their maps: a run of lines mostly shares them. */
    private String lastThread;

    private byte[] lastThreadBytes;
    private String lastLogger;
    private byte[] lastLoggerBytes;

    /** @param fallback a started PatternLayout of {@link #PATTERN}, for lines with an exception */
    public DefaultTextEncoder(Layout<ILoggingEvent> fallback) {
        this.fallback = fallback;
    }

    public byte[] encode(ILoggingEvent event) {
        if (event.getThrowableProxy() != null) {
            return fallback.doLayout(event).getBytes(StandardCharsets.UTF_8);
        }
        layOut(event);
        return Arrays.copyOf(buffer, length);
    }

    /**
     * Lays the line out into this encoder's own buffer ({@link #buffer()}, valid until the next call)
     * and returns its length; -1 for a line with an exception (use {@link #encode}). Saves the writer a
     * copy and an array per line: the sinks copy the bytes into their chunks anyway.
     */
    int encodeInPlace(ILoggingEvent event) {
        if (event.getThrowableProxy() != null) {
            return -1;
        }
        layOut(event);
        return length;
    }

    byte[] buffer() {
        return buffer;
    }

    private void layOut(ILoggingEvent event) {
        length = 0;
        timestamp(event.getTimeStamp());
        put((byte) ' ');
        level(event.getLevel());
        put((byte) ' ');
        put((byte) '[');
        String thread = event.getThreadName();
        if (thread != lastThread || thread == null) {
            lastThreadBytes = cached(threads, thread, false);
            lastThread = thread;
        }
        put(lastThreadBytes);
        put((byte) ']');
        if (event instanceof DeferredLine line) {
            // The connection's keys came with the line, not in the MDC: no map built for them.
            Map<String, String> mdc =
                    line.connection() == null && line.peer() == null ? line.getMDCPropertyMap() : null;
            String conn = line.connection();
            String peer = line.peer();
            context(
                    line.daemon(),
                    conn != null ? conn : mdc == null ? null : mdc.get(LogContext.CONNECTION),
                    peer != null ? peer : mdc == null ? null : mdc.get(LogContext.PEER));
        } else {
            context(event.getMDCPropertyMap());
        }
        put((byte) ' ');
        String logger = event.getLoggerName();
        if (logger != lastLogger || logger == null) {
            lastLoggerBytes = cached(loggers, logger, true);
            lastLogger = logger;
        }
        put(lastLoggerBytes);
        put((byte) ' ');
        put((byte) '-');
        put((byte) ' ');
        message(event);
        put(NEWLINE);
    }

    /**
     * The message. A line whose message the writer formats ({@link DeferredLine}: only Strings, boxed
     * primitives and nulls as arguments) is formatted straight into the buffer, with no StringBuilder
     * and String of its own; as SLF4J's MessageFormatter does, which a test compares it with. A
     * pattern with a backslash (SLF4J's escapes) goes to the MessageFormatter.
     */
    private void message(ILoggingEvent event) {
        if (event instanceof DeferredLine line) {
            Object[] args = line.unformattedArguments();
            String pattern = line.getMessage();
            if (args != null && pattern != null) {
                int slot = pattern.hashCode() & (SLOTS - 1);
                if (patterns[slot] != pattern) {
                    if (pattern.indexOf('\\') >= 0) {
                        put(event.getFormattedMessage()); // SLF4J's escapes: its formatter decides
                        return;
                    }
                    cachePattern(slot, pattern);
                }
                byte[] text = patternBytes[slot];
                int[] anchors = patternAnchors[slot];
                int from = 0;
                for (int i = 0, n = Math.min(args.length, anchors.length); i < n; i++) {
                    put(text, from, anchors[i]);
                    argument(args[i]);
                    from = anchors[i] + 2;
                }
                put(text, from, text.length);
                return;
            }
        }
        put(event.getFormattedMessage());
    }

    /**
     * Encodes {@code pattern} into its slot. {@code {}} is found in the bytes: '{' and '}' are ASCII,
     * and no byte of a multi-byte UTF-8 character is ASCII, so the anchors are those of the characters.
     */
    private void cachePattern(int slot, String pattern) {
        byte[] text = pattern.getBytes(StandardCharsets.UTF_8);
        int count = 0;
        int[] anchors = new int[4];
        for (int i = 0; i + 1 < text.length; i++) {
            if (text[i] == '{' && text[i + 1] == '}') {
                if (count == anchors.length) {
                    anchors = Arrays.copyOf(anchors, count * 2);
                }
                anchors[count++] = i;
                i++;
            }
        }
        patterns[slot] = pattern;
        patternBytes[slot] = text;
        patternAnchors[slot] = Arrays.copyOf(anchors, count);
    }

    private void argument(Object arg) {
        if (arg instanceof Integer i) {
            number(i);
        } else if (arg instanceof Long l) {
            number(l);
        } else if (arg instanceof String text) {
            put(text);
        } else {
            put(String.valueOf(arg));
        }
    }

    private void number(long value) {
        if (value == Long.MIN_VALUE) {
            put(Long.toString(value));
            return;
        }
        ensure(20);
        if (value < 0) {
            buffer[length++] = '-';
            value = -value;
        }
        int digits = 1;
        for (long v = value; v >= 10; v /= 10) {
            digits++;
        }
        for (int i = length + digits - 1; i >= length; i--) {
            buffer[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        length += digits;
    }

    private void timestamp(long millis) {
        long start = Math.floorDiv(millis, 1000L) * 1000L;
        if (start != second) {
            second = start;
            secondBytes = seconds.format(start).getBytes(StandardCharsets.UTF_8);
        }
        put(secondBytes);
        int ms = (int) (millis - start);
        ensure(4);
        buffer[length++] = '.';
        buffer[length++] = (byte) ('0' + ms / 100);
        buffer[length++] = (byte) ('0' + ms / 10 % 10);
        buffer[length++] = (byte) ('0' + ms % 10);
    }

    private void level(Level level) {
        // %-5level: the name, padded on the right to 5.
        String name = level.toString();
        put(name);
        for (int i = name.length(); i < 5; i++) {
            put((byte) ' ');
        }
    }

    /** As {@link ContextConverter}: {@code " [echo conn=17 peer=127.0.0.1:50312]"}, or nothing. */
    private void context(Map<String, String> mdc) {
        if (mdc == null || mdc.isEmpty()) {
            return;
        }
        context(mdc.get(LogContext.DAEMON), mdc.get(LogContext.CONNECTION), mdc.get(LogContext.PEER));
    }

    private void context(String daemon, String conn, String peer) {
        String key = peer != null ? peer : conn != null ? conn : daemon;
        if (key == null) {
            return;
        }
        int slot = key.hashCode() & (SLOTS - 1);
        byte[] cached = contextBytes[slot];
        if (cached != null
                && contextPeers[slot] == peer
                && contextConns[slot] == conn
                && contextDaemons[slot] == daemon) {
            put(cached);
            return;
        }
        int start = length;
        layOutContext(daemon, conn, peer);
        contextDaemons[slot] = daemon;
        contextConns[slot] = conn;
        contextPeers[slot] = peer;
        contextBytes[slot] = Arrays.copyOfRange(buffer, start, length);
    }

    private void layOutContext(String daemon, String conn, String peer) {
        put((byte) ' ');
        put((byte) '[');
        if (daemon != null) {
            put(daemon);
        }
        if (conn != null) {
            put(daemon != null ? " conn=" : "conn=");
            put(conn);
        }
        if (peer != null) {
            put(daemon != null || conn != null ? " peer=" : "peer=");
            put(peer);
        }
        put((byte) ']');
    }

    private byte[] cached(Map<String, byte[]> cache, String name, boolean abbreviate) {
        if (name == null) {
            name = "null";
        }
        byte[] bytes = cache.get(name);
        if (bytes == null) {
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear(); // a process that names threads per task; start over rather than grow
            }
            bytes = (abbreviate ? abbreviator.abbreviate(name) : name).getBytes(StandardCharsets.UTF_8);
            cache.put(name, bytes);
        }
        return bytes;
    }

    private void put(String text) {
        if (text == null) {
            text = "null";
        }
        put(text, 0, text.length());
    }

    /** Characters {@code from} to {@code to} of {@code text}, in UTF-8. */
    private void put(String text, int from, int to) {
        ensure(to - from);
        int start = length;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                length = start;
                put(text.substring(from, to).getBytes(StandardCharsets.UTF_8));
                return;
            }
            buffer[length++] = (byte) c;
        }
    }

    /** Bytes {@code from} to {@code to} of {@code bytes}. */
    private void put(byte[] bytes, int from, int to) {
        ensure(to - from);
        System.arraycopy(bytes, from, buffer, length, to - from);
        length += to - from;
    }

    private void put(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buffer, length, bytes.length);
        length += bytes.length;
    }

    private void put(byte b) {
        ensure(1);
        buffer[length++] = b;
    }

    private void ensure(int more) {
        if (length + more > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + more));
        }
    }
}
