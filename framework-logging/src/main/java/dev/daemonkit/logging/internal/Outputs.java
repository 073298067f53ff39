package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.Layout;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.util.FileSize;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

/** Builds the outputs of a LoggingSystem: each a real Logback appender behind a {@link BoundedAsyncAppender}. */
public final class Outputs {

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
        return wrap("console", console, format, Map.of(), "console");
    }

    /**
     * A file in {@code logsDir} rolled daily and by size, gzipped, with history limits. Started.
     *
     * @param fileName e.g. {@code echo.log}; rolled files are {@code echo.2025-01-31.0.log.gz}
     * @throws IllegalStateException when the file cannot be opened, saying which and why
     */
    public BoundedAsyncAppender file(String name, Path logsDir, String fileName, OutputFormat format,
            RollingSettings rolling, Map<String, String> reportContext) {
        String base = fileName.endsWith(".log") ? fileName.substring(0, fileName.length() - 4) : fileName;
        RollingFileAppender<ILoggingEvent> file = new RollingFileAppender<>();
        file.setContext(context);
        file.setName(name + "-file");
        file.setFile(logsDir.resolve(fileName).toString());
        SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
        policy.setContext(context);
        policy.setParent(file);
        policy.setFileNamePattern(logsDir.resolve(base + ".%d{yyyy-MM-dd}.%i.log.gz").toString());
        policy.setMaxFileSize(new FileSize(rolling.maxFileSizeBytes()));
        policy.setMaxHistory(rolling.maxHistoryDays());
        policy.setTotalSizeCap(new FileSize(rolling.totalSizeCapBytes()));
        file.setRollingPolicy(policy);
        policy.start();
        return wrap(name, file, format, reportContext, logsDir.resolve(fileName).toString());
    }

    private BoundedAsyncAppender wrap(String name, OutputStreamAppender<ILoggingEvent> target, OutputFormat format,
            Map<String, String> reportContext, String where) {
        long since = System.currentTimeMillis();
        target.setContext(context);
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setCharset(StandardCharsets.UTF_8);
        encoder.setLayout(layout(format));
        encoder.start();
        target.setEncoder(encoder);
        // The writer thread flushes when its queue runs dry: one write per batch, not per line.
        target.setImmediateFlush(false);
        BoundedAsyncAppender output = new BoundedAsyncAppender(name, target, queueSize, reportContext);
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
                .map(s -> s.getMessage() + (s.getThrowable() == null ? "" : " (" + s.getThrowable() + ")"))
                .collect(Collectors.joining("; "));
        return errors.isEmpty() ? "no reason given by Logback" : errors;
    }
}
