package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.Layout;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.util.FileSize;
import dev.daemonkit.logging.LogContext;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Builds the outputs of a LoggingSystem: the console and the files, each a {@link BoundedAsyncAppender}
 * (a queue and a writer thread) in front of real Logback appenders ({@link Sink}s).
 */
public final class Outputs {

    /**
     * Bytes a file output gathers before it writes them (and when its queue runs dry). Logback's
     * default of 8 KB meant a write(2) every ~70 lines under load.
     */
    private static final FileSize FILE_BUFFER = new FileSize(256 * 1024);

    private final LoggerContext context;
    private final String textPattern;
    private final int queueSize;

    public Outputs(LoggerContext context, String textPattern, int queueSize) {
        this.context = context;
        this.textPattern = textPattern;
        this.queueSize = queueSize;
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
        Sink shared = fileName == null ? null : fileSink("all", logsDir, fileName, format, rolling, Map.of());
        return start("files", shared, fileName == null ? "the daemon files" : logsDir.resolve(fileName).toString());
    }

    /**
     * Opens {@code logsDir/DAEMON.log} and sends the daemon's lines to it through {@code files}.
     *
     * @throws IllegalStateException when the file cannot be opened, saying which and why
     */
    public void addDaemonFile(BoundedAsyncAppender files, String daemon, Path logsDir, OutputFormat format,
            RollingSettings rolling) {
        long since = System.currentTimeMillis();
        Sink sink = fileSink(daemon, logsDir, daemon + ".log", format, rolling, Map.of(LogContext.DAEMON, daemon));
        try {
            files.addDaemonSink(daemon, sink);
        } catch (IllegalStateException e) {
            throw cannotOpen(logsDir.resolve(daemon + ".log").toString(), since);
        }
    }

    private Sink fileSink(String name, Path logsDir, String fileName, OutputFormat format, RollingSettings rolling,
            Map<String, String> reportContext) {
        String base = fileName.endsWith(".log") ? fileName.substring(0, fileName.length() - 4) : fileName;
        RollingFileAppender<ILoggingEvent> file = new RollingFileAppender<>();
        file.setContext(context);
        file.setName(name + "-file");
        file.setFile(logsDir.resolve(fileName).toString());
        file.setBufferSize(FILE_BUFFER);
        // The writer flushes when its queue runs dry: one write per batch, not per line.
        file.setImmediateFlush(false);
        SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
        policy.setContext(context);
        policy.setParent(file);
        policy.setFileNamePattern(logsDir.resolve(base + ".%d{yyyy-MM-dd}.%i.log.gz").toString());
        policy.setMaxFileSize(new FileSize(rolling.maxFileSizeBytes()));
        policy.setMaxHistory(rolling.maxHistoryDays());
        policy.setTotalSizeCap(new FileSize(rolling.totalSizeCapBytes()));
        file.setRollingPolicy(policy);
        policy.start();
        return Sink.encoded(fileName, file, format, reportContext);
    }

    private BoundedAsyncAppender start(String name, Sink shared, String where) {
        long since = System.currentTimeMillis();
        BoundedAsyncAppender output = new BoundedAsyncAppender(name, shared,
                new LineFormats(layout(OutputFormat.TEXT), textPattern, layout(OutputFormat.JSON)), queueSize);
        output.setContext(context);
        output.start();
        if (!output.isStarted()) {
            throw cannotOpen(where, since);
        }
        return output;
    }

    private IllegalStateException cannotOpen(String where, long since) {
        return new IllegalStateException("cannot open log output " + where + ": " + errorsSince(since)
                + ". Check that the logs directory exists and is writable, or pass another one (--logs DIR).");
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
                .map(s -> s.getMessage() + (s.getThrowable() == null ? "" : " (" + s.getThrowable() + ")"))
                .collect(Collectors.joining("; "));
        return errors.isEmpty() ? "no reason given by Logback" : errors;
    }
}
