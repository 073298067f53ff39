package dev.daemonkit.logging;

import ch.qos.logback.classic.BasicConfigurator;
import ch.qos.logback.classic.ClassicConstants;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.status.ErrorStatus;
import ch.qos.logback.core.status.Status;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.daemonkit.logging.internal.BoundedAsyncAppender;
import dev.daemonkit.logging.internal.DaemonLevelFilter;
import dev.daemonkit.logging.internal.DaemonLevels;
import dev.daemonkit.logging.internal.DaemonLogSettings;
import dev.daemonkit.logging.internal.FileNames;
import dev.daemonkit.logging.internal.GlobalLogSettings;
import dev.daemonkit.logging.internal.LogLevels;
import dev.daemonkit.logging.internal.Outputs;
import dev.daemonkit.logging.internal.RepeatLimiter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Daemonkit's logging: Logback set up from the {@code daemonkit.logging} config block, one file per
 * daemon, levels per daemon and per logger, asynchronous outputs so that no event loop waits on a disk.
 *
 * <p>Owns the JVM's Logback {@link LoggerContext}: {@link #start} resets it and {@link #close} stops it,
 * so at most one LoggingSystem runs at a time (a second {@code start} before {@code close} fails).
 * Starting again after a close works, which tests rely on.
 *
 * <p>All methods are thread-safe. {@link #addDaemon}, {@link #removeDaemon} and {@link #close} may
 * block while an output writes its queue; call them from a control thread, never an event loop.
 * Logging itself never blocks on I/O, except a WARN/ERROR when its output's whole queue is full.
 */
public final class LoggingSystem implements AutoCloseable {

    private static final Object ACTIVE_LOCK = new Object();
    private static LoggingSystem active; // guarded by ACTIVE_LOCK

    private record DaemonEntry(DaemonLogSettings settings, DaemonLevels levels, boolean hasFile) {
        DaemonEntry withLevels(DaemonLevels newLevels) {
            return new DaemonEntry(settings, newLevels, hasFile);
        }
    }

    private final LoggerContext context;
    private final GlobalLogSettings settings;
    private final Config daemonDefaults;
    private final Path logsDir;
    private final String userConfig;
    private final Outputs outputs;
    private final DaemonLevelFilter levels;
    private final RepeatLimiter repeats;
    private final ScheduledExecutorService sweeper;
    /** Every file: daemonkit.log and the daemons' own; null when a user's logback.xml is in charge. */
    private final BoundedAsyncAppender files;
    /** The console (if on) and the files. */
    private final List<BoundedAsyncAppender> allOutputs = new ArrayList<>();

    private final org.slf4j.Logger log;

    private final Map<String, DaemonEntry> daemons = new HashMap<>(); // guarded by this
    private boolean closed; // guarded by this

    /**
     * Configures Logback from the {@code daemonkit.logging} block, unless the user supplied their own
     * logback.xml (system property {@code logback.configurationFile}, or {@code logback.xml} in
     * {@code configDir}): then their file decides outputs and global levels, and only this class's
     * per-daemon levels and run-time level changes still apply.
     *
     * <p>Called by the framework once at launch, before anything logs.
     *
     * @param daemonkitLogging the resolved {@code daemonkit.logging} block; missing keys take the
     *                         defaults of this module's reference.conf
     * @param logsDir          where daemonkit.log and NAME.log go; created if missing
     * @param console          whether the launcher runs in the foreground (console output when
     *                         {@code console.enabled = auto})
     * @param configDir        the directory of daemonkit.conf, searched for logback.xml; may be null
     * @throws com.typesafe.config.ConfigException naming the key, file and line of a bad value
     * @throws IllegalStateException when another LoggingSystem is running, SLF4J is not bound to
     *                               Logback, a log file cannot be opened, or a user logback.xml is broken
     */
    public static LoggingSystem start(Config daemonkitLogging, Path logsDir, boolean console, Path configDir) {
        Objects.requireNonNull(daemonkitLogging, "daemonkitLogging");
        LoggerContext context = loggerContext();
        Config reference = ConfigFactory.defaultReference(LoggingSystem.class.getClassLoader());
        GlobalLogSettings settings =
                GlobalLogSettings.from(daemonkitLogging.withFallback(reference.getConfig(GlobalLogSettings.PATH)));
        Config daemonDefaults = reference.getConfig(DaemonLogSettings.DEFAULTS_PATH);
        String userConfig = userConfig(configDir);
        if (userConfig == null) {
            Objects.requireNonNull(logsDir, "logsDir");
        }
        synchronized (ACTIVE_LOCK) {
            if (active != null) {
                throw new IllegalStateException("a LoggingSystem is already running in this JVM and owns Logback;"
                        + " close() it before starting another");
            }
            try {
                active = new LoggingSystem(context, settings, daemonDefaults, logsDir, console, userConfig);
            } catch (RuntimeException e) {
                // Leave a plain console behind so that the caller's report of this failure is seen.
                context.reset();
                BasicConfigurator basic = new BasicConfigurator();
                basic.setContext(context);
                basic.configure(context);
                context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(Level.INFO);
                throw e;
            }
            return active;
        }
    }

    private LoggingSystem(
            LoggerContext context,
            GlobalLogSettings settings,
            Config daemonDefaults,
            Path logsDir,
            boolean foreground,
            String userConfig) {
        this.context = context;
        this.settings = settings;
        this.daemonDefaults = daemonDefaults;
        this.logsDir = logsDir;
        this.userConfig = userConfig;
        this.log = context.getLogger(LoggingSystem.class);

        context.reset();
        context.start();
        if (userConfig != null) {
            configureFromUserFile(userConfig);
            this.outputs = null;
            this.files = null;
            this.repeats = null;
            this.sweeper = null;
        } else {
            createLogsDir(logsDir);
            Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            root.setLevel(settings.level());
            settings.loggers().forEach((name, level) -> context.getLogger(name).setLevel(level));
            this.outputs = new Outputs(context, settings.textPattern(), settings.queueSize());
            boolean console = settings.console() == null ? foreground : settings.console();
            if (console) {
                allOutputs.add(outputs.console(settings.consoleFormat()));
            }
            try {
                this.files = outputs.files(
                        logsDir,
                        settings.fileEnabled() ? settings.fileName() : null,
                        settings.fileFormat(),
                        settings.rolling());
            } catch (RuntimeException e) {
                // The console's writer, and the archiver if a leftover was queued, would outlive this failure.
                allOutputs.forEach(BoundedAsyncAppender::stop);
                outputs.close(0);
                throw e;
            }
            allOutputs.add(files);
            allOutputs.forEach(root::addAppender);
            if (settings.repeatLimit() > 0) {
                this.repeats = new RepeatLimiter(
                        context,
                        settings.repeatLimit(),
                        settings.repeatPeriod(),
                        settings.repeatMaxTracked(),
                        System::nanoTime);
                this.sweeper = Executors.newSingleThreadScheduledExecutor(task -> {
                    Thread thread = new Thread(task, "daemonkit-log-repeats");
                    thread.setDaemon(true);
                    return thread;
                });
                long periodMillis = settings.repeatPeriod().toMillis();
                sweeper.scheduleAtFixedRate(this::sweepRepeats, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
            } else {
                this.repeats = null;
                this.sweeper = null;
            }
        }
        this.levels = new DaemonLevelFilter(repeats, userConfig != null ? null : new Shedding(), userConfig != null);
        levels.setContext(context);
        levels.start();
        context.addTurboFilter(levels);
        if (userConfig != null) {
            log.info(
                    "logging configured by {}: daemonkit.logging is ignored; per-daemon levels and run-time level"
                            + " changes still apply",
                    userConfig);
        } else {
            log.info(
                    "logging to {}{}",
                    settings.fileEnabled() ? logsDir.resolve(settings.fileName()) : "daemon files only",
                    allOutputs.stream().anyMatch(o -> o.getName().equals("console")) ? " and the console" : "");
        }
    }

    /**
     * Whether the framework's outputs include the console, so that a caller about to print an error it has just
     * logged to stderr would show it twice. False under a user's logback file: its outputs are not known here.
     */
    public boolean writesToConsole() {
        return userConfig == null
                && allOutputs.stream().anyMatch(o -> o.getName().equals("console"));
    }

    /** Early refusal of lines no output has room for; see {@link DaemonLevelFilter.Shedding}. */
    private final class Shedding implements DaemonLevelFilter.Shedding {
        // An array, not the list: this runs on every TRACE/DEBUG/INFO call that passes the levels.
        private final BoundedAsyncAppender[] outputs = allOutputs.toArray(new BoundedAsyncAppender[0]);

        @Override
        public boolean globalSaturated() {
            for (BoundedAsyncAppender o : outputs) {
                if (o.writesEveryLine() && !o.saturated()) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public boolean shed(String daemon) {
            for (BoundedAsyncAppender o : outputs) {
                if (o.writes(daemon) && !o.saturated()) {
                    return false;
                }
            }
            for (BoundedAsyncAppender o : outputs) {
                if (o.writes(daemon)) {
                    o.shed(daemon);
                }
            }
            return true;
        }
    }

    /**
     * Adds a daemon: its lines (MDC {@code daemon} = {@code daemon}) also go to {@code logs/NAME.log},
     * and its {@code level} and {@code loggers} apply to them. Idempotent: adding a daemon again with
     * the same block changes nothing (run-time level changes are kept); with a different block, the
     * block replaces the daemon's levels, including run-time changes, and the file is reopened if its
     * settings changed.
     *
     * @param daemonLogging the daemon's {@code daemons.NAME.logging} block; missing keys take
     *                      {@code daemonkit.daemon-defaults.logging}; null means all defaults
     * @throws com.typesafe.config.ConfigException naming the key, file and line of a bad value
     * @throws IllegalArgumentException when the name cannot be a file name
     */
    public void addDaemon(String daemon, Config daemonLogging) {
        if (!FileNames.isPlain(daemon)) {
            throw new IllegalArgumentException("daemon name '" + daemon + "' cannot name a log file (logs/NAME.log):"
                    + " use letters, digits, '.', '_' and '-', starting with a letter or digit");
        }
        if (userConfig == null && settings.fileEnabled() && settings.fileName().equals(daemon + ".log")) {
            throw new IllegalArgumentException("daemon '" + daemon + "' would write logs/" + settings.fileName()
                    + ", the file that holds every line. Rename the daemon, or set daemonkit.logging.file.name"
                    + " to another name.");
        }
        Config block = daemonLogging == null ? daemonDefaults : daemonLogging.withFallback(daemonDefaults);
        DaemonLogSettings daemonSettings = DaemonLogSettings.from(daemon, block);
        synchronized (this) {
            checkOpen("addDaemon");
            DaemonEntry existing = daemons.get(daemon);
            if (existing != null && existing.settings().equals(daemonSettings)) {
                return;
            }
            boolean hasFile = existing != null && existing.hasFile();
            if (existing == null || !existing.settings().sameFileAs(daemonSettings)) {
                if (hasFile) {
                    // Close before reopening: two appenders rolling one file would fight over it.
                    stopDaemonFile(daemon);
                    hasFile = false;
                }
                if (files != null && daemonSettings.fileEnabled()) {
                    outputs.addDaemonFile(
                            files, daemon, logsDir, daemonSettings.fileFormat(), daemonSettings.rolling());
                    hasFile = true;
                }
            }
            daemons.put(
                    daemon,
                    new DaemonEntry(
                            daemonSettings,
                            new DaemonLevels(daemonSettings.level(), daemonSettings.loggers()),
                            hasFile));
            publishLevels();
        }
    }

    /**
     * Removes a daemon: its levels stop applying, and its file is written to the end and closed
     * before this returns. Unknown names are ignored.
     */
    public void removeDaemon(String daemon) {
        synchronized (this) {
            checkOpen("removeDaemon");
            DaemonEntry entry = daemons.remove(daemon);
            if (entry == null) {
                return;
            }
            publishLevels();
            if (entry.hasFile()) {
                stopDaemonFile(daemon);
            }
        }
    }

    /**
     * Changes a level now, and logs the change. {@code level} is TRACE, DEBUG, INFO, WARN, ERROR, OFF,
     * or {@code inherit} to remove the override so that the next place in precedence decides
     * (per-logger in daemon, daemon level, global per-logger, global level).
     *
     * @param daemon null for the global levels, else a daemon added with {@link #addDaemon}
     * @param logger a logger name (covering its children), or null for the daemon's level or the global root
     * @throws IllegalArgumentException on a bad level, an unknown daemon, or inherit for the global root
     */
    public void setLevel(String daemon, String logger, String level) {
        String scope = (daemon == null ? "global" : "daemon '" + daemon + "'")
                + (logger == null ? " level" : " logger '" + logger + "'");
        boolean inherit = LogLevels.isInherit(level);
        Level parsed = inherit
                ? null
                : LogLevels.parse(level)
                        .orElseThrow(() -> new IllegalArgumentException(
                                "\"" + level + "\" is not a log level (setting the " + scope + "). Use "
                                        + LogLevels.CHOICES + ", or inherit to remove the override."));
        if (inherit && daemon == null && logger == null) {
            throw new IllegalArgumentException(
                    "the global level cannot inherit: nothing is above it. Use " + LogLevels.CHOICES + ".");
        }
        if (logger != null && logger.isBlank()) {
            throw new IllegalArgumentException("logger name is blank (setting the " + scope + "). Pass null to set the "
                    + (daemon == null ? "global" : "daemon's") + " level.");
        }
        Level before;
        synchronized (this) {
            checkOpen("setLevel");
            if (daemon == null) {
                Logger target = context.getLogger(logger == null ? org.slf4j.Logger.ROOT_LOGGER_NAME : logger);
                before = target.getLevel();
                target.setLevel(parsed);
            } else {
                DaemonEntry entry = daemons.get(daemon);
                if (entry == null) {
                    throw new IllegalArgumentException("no daemon '" + daemon + "' is known to logging (known: "
                            + new TreeSet<>(daemons.keySet()) + "). Levels of a daemon can be set once it is added.");
                }
                DaemonLevels current = entry.levels();
                before = logger == null ? current.level() : current.loggers().get(logger);
                daemons.put(
                        daemon,
                        entry.withLevels(
                                logger == null ? current.withLevel(parsed) : current.withLogger(logger, parsed)));
                publishLevels();
            }
        }
        log.info("log level changed: {} {} -> {}", scope, LogLevels.describe(before), LogLevels.describe(parsed));
    }

    /**
     * TRACE/DEBUG/INFO lines dropped because an output's queue was nearly full, summed over outputs
     * (a line lost from both daemonkit.log and NAME.log counts twice), since start. Not synchronized:
     * a metrics scrape must not wait behind a daemon's file closing on a stalled disk; the outputs
     * are fixed when the constructor ends.
     */
    public long droppedEvents() {
        return allOutputs.stream().mapToLong(BoundedAsyncAppender::dropped).sum();
    }

    /**
     * Waits until every line logged before this call is written and flushed to its files, at most
     * {@code timeout} in all (a benchmark reading the writer's CPU, a tool reading the files).
     *
     * @return false when the timeout passed first: an output's queue stayed full, or its disk stalls
     */
    public boolean awaitWritten(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (BoundedAsyncAppender output : allOutputs) {
            if (!output.awaitWritten(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Lines of any level lost because a log file could not be written (disk full, directory removed),
     * summed over files (a line lost from both daemonkit.log and NAME.log counts twice), since start.
     */
    public long lostLines() {
        return allOutputs.stream().mapToLong(BoundedAsyncAppender::lost).sum();
    }

    /**
     * Writes every queued line, logs the pending counts of suppressed repeats, closes all files and
     * stops Logback. Called by the framework last on shutdown: lines logged after it are lost.
     * Waits at most {@code daemonkit.logging.async.flush-timeout} for a stalled output. Idempotent.
     */
    @Override
    public void close() {
        List<BoundedAsyncAppender> all;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            all = new ArrayList<>(allOutputs);
        }
        try {
            if (sweeper != null) {
                sweeper.shutdownNow();
                awaitTermination(sweeper);
            }
            if (repeats != null) {
                repeats.sweep(true);
            }
            // Stop all first, then wait: a stalled output costs one timeout, not one per output.
            all.forEach(BoundedAsyncAppender::beginStop);
            long deadline = System.nanoTime() + settings.flushTimeout().toNanos();
            for (BoundedAsyncAppender output : all) {
                output.awaitStopped(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            }
            if (outputs != null) {
                // Rolled files still being compressed; one left unfinished is compressed at the next start.
                outputs.close(Math.max(0, (deadline - System.nanoTime()) / 1_000_000));
            }
            context.stop();
        } finally {
            synchronized (ACTIVE_LOCK) {
                if (active == this) {
                    active = null;
                }
            }
        }
    }

    private void sweepRepeats() {
        try {
            repeats.sweep(false);
        } catch (RuntimeException e) {
            // A throwing task would silently cancel the schedule and with it every later count.
            context.getStatusManager().add(new ErrorStatus("counting suppressed repeats failed", this, e));
        }
    }

    private void stopDaemonFile(String daemon) {
        if (!files.removeDaemonSink(daemon, settings.flushTimeout())) {
            log.warn(
                    "the log file of daemon '{}' was not written to its end within {} (a stalled disk?);"
                            + " it is closed once it is",
                    daemon,
                    settings.flushTimeout());
        }
    }

    private void publishLevels() {
        Map<String, DaemonLevels> table = new HashMap<>();
        daemons.forEach((name, entry) -> {
            if (!entry.levels().isEmpty()) {
                table.put(name, entry.levels());
            }
        });
        levels.daemons(table);
    }

    private void checkOpen(String what) {
        if (closed) {
            throw new IllegalStateException(
                    what + " called after close(): this LoggingSystem is stopped;" + " start a new one");
        }
    }

    private void configureFromUserFile(String source) {
        long since = System.currentTimeMillis();
        try {
            if (source.equals(System.getProperty(ClassicConstants.CONFIG_FILE_PROPERTY))) {
                // Logback's own lookup understands every form the property allows (file, URL, classpath).
                new ContextInitializer(context).autoConfig(LoggingSystem.class.getClassLoader());
            } else {
                JoranConfigurator joran = new JoranConfigurator();
                joran.setContext(context);
                joran.doConfigure(toUrl(source));
            }
        } catch (JoranException e) {
            throw new IllegalStateException(
                    source + ": not a usable Logback configuration (" + e.getMessage() + ")."
                            + " Fix it, or remove it to configure logging from daemonkit.logging.",
                    e);
        }
        String errors = context.getStatusManager().getCopyOfStatusList().stream()
                .filter(s -> s.getLevel() >= Status.ERROR && s.getTimestamp() >= since)
                .map(Status::getMessage)
                .collect(Collectors.joining("; "));
        if (!errors.isEmpty()) {
            throw new IllegalStateException(source + ": Logback reported errors: " + errors
                    + ". Fix the file, or remove it to configure logging from daemonkit.logging.");
        }
    }

    private static URL toUrl(String source) {
        try {
            return Path.of(source).toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalStateException(source + ": cannot be read as a file path", e);
        }
    }

    private static String userConfig(Path configDir) {
        String property = System.getProperty(ClassicConstants.CONFIG_FILE_PROPERTY);
        if (property != null && !property.isBlank()) {
            return property;
        }
        if (configDir != null) {
            Path file = configDir.resolve("logback.xml");
            if (Files.isRegularFile(file)) {
                return file.toString();
            }
        }
        return null;
    }

    private static void createLogsDir(Path logsDir) {
        try {
            Files.createDirectories(logsDir);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot create the logs directory " + logsDir + " (" + e
                            + "). Create it, make it writable, or pass another one (--logs DIR).",
                    e);
        }
    }

    private static LoggerContext loggerContext() {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext)) {
            throw new IllegalStateException(
                    "SLF4J is bound to " + factory.getClass().getName() + ", not Logback;"
                            + " Daemonkit's logging needs logback-classic. Remove the other SLF4J provider"
                            + " (slf4j-simple, log4j-slf4j2-impl, ...) from the classpath.");
        }
        return (LoggerContext) factory;
    }

    private static void awaitTermination(ScheduledExecutorService executor) {
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
