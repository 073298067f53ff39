package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.Layout;
import ch.qos.logback.core.status.ErrorStatus;
import ch.qos.logback.core.status.Status;
import dev.daemonkit.logging.LogContext;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Builds the outputs of a LoggingSystem: the console and the files, each a {@link BoundedAsyncAppender}
 * (a queue and a writer thread) in front of real Logback appenders ({@link Sink}s).
 */
public final class Outputs {

    private final LoggerContext context;
    private final String textPattern;
    private final int queueSize;
    private final RollingFile.Archiver archiver;

    public Outputs(LoggerContext context, String textPattern, int queueSize) {
        this.context = context;
        this.textPattern = textPattern;
        this.queueSize = queueSize;
        this.archiver = new RollingFile.Archiver(this::reportError);
    }

    /** Started; throws when the console cannot be set up. */
    public BoundedAsyncAppender console(OutputFormat format) {
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setName("console");
        console.setContext(context);
        return start("console", Sink.encoded("console", console, format, Map.of()), "the console");
    }

    /**
     * The output of every file: {@code logsDir/fileName} with every line when {@code fileName} is not
     * null, and the daemons' own files added later with {@link #addDaemonFile}. Started.
     *
     * @throws IllegalStateException when the file cannot be opened, saying which and why
     */
    public BoundedAsyncAppender files(Path logsDir, String fileName, OutputFormat format, RollingSettings rolling) {
        Sink shared = fileName == null ? null : fileSink(fileName, logsDir, fileName, format, rolling, Map.of());
        return start(
                "files",
                shared,
                fileName == null
                        ? "the daemon files"
                        : logsDir.resolve(fileName).toString());
    }

    /**
     * Opens {@code logsDir/DAEMON.log} and sends the daemon's lines to it through {@code files}.
     *
     * @throws IllegalStateException when the file cannot be opened, saying which and why
     */
    public void addDaemonFile(
            BoundedAsyncAppender files, String daemon, Path logsDir, OutputFormat format, RollingSettings rolling) {
        Sink sink =
                fileSink(daemon + ".log", logsDir, daemon + ".log", format, rolling, Map.of(LogContext.DAEMON, daemon));
        try {
            files.addDaemonSink(daemon, sink);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(
                    "cannot open log output " + logsDir.resolve(daemon + ".log") + ": "
                            + e.getMessage() + ". Check that the logs directory exists and is writable, or pass another"
                            + " one (--logs DIR).",
                    e);
        }
    }

    /** Waits at most {@code millis} for rolled files still being compressed. */
    public void close(long millis) {
        archiver.close(millis);
    }

    private Sink fileSink(
            String name,
            Path logsDir,
            String fileName,
            OutputFormat format,
            RollingSettings rolling,
            Map<String, String> reportContext) {
        RollingFile file = new RollingFile(
                logsDir, fileName, rolling, archiver, System::currentTimeMillis, ZoneId.systemDefault());
        return Sink.file(name, file, format, this::reportError, reportContext);
    }

    /**
     * A log output that cannot be written cannot log that itself: the message goes to standard error
     * (the launcher's terminal or journal) and to Logback's status list.
     */
    private void reportError(String message) {
        context.getStatusManager().add(new ErrorStatus(message, this));
        System.err.println("daemonkit logging: " + message);
    }

    private BoundedAsyncAppender start(String name, Sink shared, String where) {
        long since = System.currentTimeMillis();
        BoundedAsyncAppender output = new BoundedAsyncAppender(
                name,
                shared,
                new LineFormats(layout(OutputFormat.TEXT), textPattern, layout(OutputFormat.JSON)),
                queueSize);
        output.setContext(context);
        output.start();
        if (!output.isStarted()) {
            throw new IllegalStateException("cannot open log output " + where + ": " + errorsSince(since)
                    + ". Check that the logs directory exists and is writable, or pass another one (--logs DIR).");
        }
        return output;
    }

    private Layout<ILoggingEvent> layout(OutputFormat format) {
        if (format == OutputFormat.JSON) {
            JsonLayout json = new JsonLayout();
            json.setContext(context);
            json.start();
            return json;
        }
        PatternLayout text = new PatternLayout();
        text.setContext(context);
        text.getInstanceConverterMap().put("context", ContextConverter::new);
        text.setPattern(textPattern);
        text.start();
        if (!text.isStarted()) {
            throw new IllegalArgumentException("daemonkit.logging.text-pattern \"" + textPattern
                    + "\" is not a valid Logback pattern. Fix it or remove it to use the default.");
        }
        return text;
    }

    private String errorsSince(long since) {
        String errors = context.getStatusManager().getCopyOfStatusList().stream()
                .filter(s -> s.getLevel() >= Status.WARN && s.getTimestamp() >= since)
                .map(s -> s.getMessage()
                        + (s.getThrowable() == null
                                        || s.getMessage()
                                                .contains(s.getThrowable().toString())
                                ? ""
                                : " (" + s.getThrowable() + ")"))
                .collect(Collectors.joining("; "));
        return errors.isEmpty() ? "no reason given by Logback" : errors;
    }
}
