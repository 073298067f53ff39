package dev.daemonkit.testkit;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import dev.daemonkit.logging.LogContext;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Keeps the lines logged while a test launcher runs, as {@link LogLine}s, through an appender on Logback's root
 * logger (the framework logs through Logback). Only what the test's logging config lets through is seen. Bounded: a
 * plugin that floods its log cannot make the test run out of memory; past {@value #MAX_LINES} lines, further lines
 * are counted, not kept. Strings only: a captured line holds no object of the plugin, so it cannot keep the plugin's
 * class loader alive.
 */
final class LogCapture extends AppenderBase<ILoggingEvent> {
    static final int MAX_LINES = 100_000;
    /**
     * Also attached here: Netty's leak reports reach the kit even where the test's logging config keeps them from the
     * root logger (additivity off).
     */
    static final String LEAK_DETECTOR = "io.netty.util.ResourceLeakDetector";

    private final List<LogLine> lines = new ArrayList<>();
    private long dropped;
    /** The event last appended: one event reaches this appender twice when it is attached to two loggers. */
    private ILoggingEvent last;

    /** Starts capturing, or returns null when the SLF4J binding is not Logback. */
    static LogCapture attach() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return null;
        }
        LogCapture capture = new LogCapture();
        capture.setContext(context);
        capture.setName("daemonkit-testkit-capture");
        capture.start();
        context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(capture);
        context.getLogger(LEAK_DETECTOR).addAppender(capture);
        return capture;
    }

    /** Stops capturing; what was captured stays readable. */
    void detach() {
        if (getContext() instanceof LoggerContext context) {
            context.getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(this);
            context.getLogger(LEAK_DETECTOR).detachAppender(this);
        }
        stop();
    }

    @Override
    protected void append(ILoggingEvent event) {
        if (event == last) {
            return; // doAppend is synchronized: last is only touched here
        }
        last = event;
        String daemon = event.getMDCPropertyMap().get(LogContext.DAEMON);
        if (daemon == null && event.getLoggerName().startsWith("daemon.")) {
            daemon = event.getLoggerName().substring("daemon.".length());
        }
        IThrowableProxy t = event.getThrowableProxy();
        LogLine line = new LogLine(
                daemon,
                event.getLevel().toString(),
                event.getLoggerName(),
                event.getFormattedMessage(),
                t == null ? null : t.getClassName() + ": " + t.getMessage());
        synchronized (lines) {
            if (lines.size() < MAX_LINES) {
                lines.add(line);
            } else {
                dropped++;
            }
        }
    }

    List<LogLine> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    long dropped() {
        synchronized (lines) {
            return dropped;
        }
    }
}
