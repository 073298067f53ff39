package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.LoggerContextVO;
import dev.daemonkit.logging.LogContext;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.helpers.MessageFormatter;

/**
 * A line as queued for the writer: what must be taken on the thread that logs is taken there, the
 * rest is done by the writer.
 *
 * <p>Taken on the logging thread: the thread's name, the MDC as Logback keeps it (a read-only map
 * that Logback copies only after the MDC changed), the connection's id and peer as the lazy keys
 * give them (strings the core keeps per connection: taken by reference, never put in the MDC), and
 * a copy of the message's arguments when the message is formatted later.
 *
 * <p>Why: putting the connection's keys in the MDC for each line, then removing them when the
 * connection's callback ends, cost four MDC writes and a larger MDC copy per line on the event loop
 * (docs/benchmarks.md, "Logging"). Formatting the message moves to the writer only when every
 * argument is a String, a boxed primitive or null: their text cannot change after the call and
 * their {@code toString} can neither throw nor be slow, so the line shows what the caller passed
 * and nothing the writer does can fail on the caller's objects. Any other argument (a mutable
 * object, a user type whose {@code toString} may throw or block) is formatted on the logging thread,
 * as Logback does. The argument array is copied: Logback keeps the caller's own array, which a caller
 * may reuse.
 *
 * <p>Everything else is read from the original event. Not thread-safe after it is queued: read by
 * the writer only.
 */
final class DeferredLine implements ILoggingEvent {

    private final ILoggingEvent event;
    private final String threadName;
    /** The thread's MDC when the line was logged (Logback's read-only snapshot, shared, never changed). */
    private final Map<String, String> mdc;

    private final String daemon;
    private final String connection;
    private final String peer;
    /** The arguments to format on the writer; null when {@link #formatted} was taken at the call. */
    private final Object[] arguments;

    private String formatted;
    private Map<String, String> fullMdc;

    private DeferredLine(
            ILoggingEvent event,
            String threadName,
            Map<String, String> mdc,
            String connection,
            String peer,
            Object[] arguments,
            String formatted) {
        this.event = event;
        this.threadName = threadName;
        this.mdc = mdc;
        this.daemon = mdc.get(LogContext.DAEMON);
        this.connection = connection;
        this.peer = peer;
        this.arguments = arguments;
        this.formatted = formatted;
    }

    /**
     * On the thread that logs: takes what must be taken there, and nothing more.
     *
     * @return {@code event} itself, prepared as Logback prepares it, when nothing is left for later
     */
    static ILoggingEvent capture(ILoggingEvent event) {
        Map<String, String> mdc = event.getMDCPropertyMap();
        String connection = null;
        String peer = null;
        if (!mdc.containsKey(LogContext.CONNECTION) && !mdc.containsKey(LogContext.PEER)) {
            connection = LogContext.lazyValue(LogContext.CONNECTION);
            peer = LogContext.lazyValue(LogContext.PEER);
        }
        Object[] args = event.getArgumentArray();
        boolean later = args != null && args.length > 0 && event.getThrowableProxy() == null && formatsLater(args);
        if (!later && connection == null && peer == null) {
            event.prepareForDeferredProcessing();
            return event;
        }
        return new DeferredLine(
                event,
                event.getThreadName(),
                mdc,
                connection,
                peer,
                later ? args.clone() : null,
                later ? null : event.getFormattedMessage());
    }

    /** Whether every argument's text is fixed at the call, and its toString cheap and safe. */
    static boolean formatsLater(Object[] args) {
        for (Object a : args) {
            if (a != null
                    && !(a instanceof String
                            || a instanceof Integer
                            || a instanceof Long
                            || a instanceof Boolean
                            || a instanceof Character
                            || a instanceof Double
                            || a instanceof Float
                            || a instanceof Short
                            || a instanceof Byte)) {
                return false;
            }
        }
        return true;
    }

    /** The line's daemon (MDC {@code daemon}), or null. */
    String daemon() {
        return daemon;
    }

    /** The connection id taken at the call, or null (none, or it is in the MDC). */
    String connection() {
        return connection;
    }

    /** The peer taken at the call, or null (none, or it is in the MDC). */
    String peer() {
        return peer;
    }

    /** The arguments when the message is still to be formatted (the writer may lay it out itself), else null. */
    Object[] unformattedArguments() {
        return formatted == null ? arguments : null;
    }

    @Override
    public String getFormattedMessage() {
        if (formatted == null) {
            // As LoggingEvent does, on the copy of the arguments.
            formatted =
                    MessageFormatter.arrayFormat(event.getMessage(), arguments).getMessage();
        }
        return formatted;
    }

    /** The MDC at the call with the connection's keys, as layouts other than the default text read it. */
    @Override
    public Map<String, String> getMDCPropertyMap() {
        if (connection == null && peer == null) {
            return mdc;
        }
        if (fullMdc == null) {
            Map<String, String> all = new HashMap<>(mdc);
            if (connection != null) {
                all.put(LogContext.CONNECTION, connection);
            }
            if (peer != null) {
                all.put(LogContext.PEER, peer);
            }
            fullMdc = Collections.unmodifiableMap(all);
        }
        return fullMdc;
    }

    @Override
    public Map<String, String> getMdc() {
        return getMDCPropertyMap();
    }

    @Override
    public Object[] getArgumentArray() {
        return arguments != null ? arguments : event.getArgumentArray();
    }

    @Override
    public String getThreadName() {
        return threadName;
    }

    @Override
    public Level getLevel() {
        return event.getLevel();
    }

    @Override
    public String getMessage() {
        return event.getMessage();
    }

    @Override
    public String getLoggerName() {
        return event.getLoggerName();
    }

    @Override
    public LoggerContextVO getLoggerContextVO() {
        return event.getLoggerContextVO();
    }

    @Override
    public IThrowableProxy getThrowableProxy() {
        return event.getThrowableProxy();
    }

    @Override
    public StackTraceElement[] getCallerData() {
        return event.getCallerData();
    }

    @Override
    public boolean hasCallerData() {
        return event.hasCallerData();
    }

    @Override
    public List<Marker> getMarkerList() {
        return event.getMarkerList();
    }

    @Override
    public long getTimeStamp() {
        return event.getTimeStamp();
    }

    @Override
    public int getNanoseconds() {
        return event.getNanoseconds();
    }

    @Override
    public Instant getInstant() {
        return event.getInstant();
    }

    @Override
    public long getSequenceNumber() {
        return event.getSequenceNumber();
    }

    @Override
    public List<KeyValuePair> getKeyValuePairs() {
        return event.getKeyValuePairs();
    }

    /** Taken at the call already. */
    @Override
    public void prepareForDeferredProcessing() {}
}
