package dev.daemonkit.cli;

import dev.daemonkit.internal.admin.AdminServer;
import dev.daemonkit.internal.admin.DaemonkitMetrics;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.config.LauncherSettings;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.internal.service.SystemdNotify;
import dev.daemonkit.internal.transport.StallWatchdog;
import dev.daemonkit.logging.LoggingSystem;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The launcher process: {@code bin/daemonkit} runs {@code java ... dev.daemonkit.cli.Main}.
 * Exit codes: 0 clean stop (also after TERM or INT), 2 bad usage or bad config (nothing was bound),
 * 3 every enabled daemon's address is in use (another launcher is probably running; nothing was
 * bound), 1 any other fatal error.
 */
public final class Main {
    public static final int OK = 0;
    public static final int FATAL = 1;
    public static final int BAD_CONFIG = 2;
    public static final int NOTHING_BOUND = 3;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        // Guice need not generate bytecode into plugin class loaders (it would pin them after unload).
        if (System.getProperty("guice_bytecode_gen_option") == null) {
            System.setProperty("guice_bytecode_gen_option", "DISABLED");
        }
        sparserLeakSampling(System.getProperties());
        Path home = Path.of(System.getProperty("daemonkit.home", "."));
        CommandLine cli;
        try {
            cli = CommandLine.parse(args, home);
        } catch (CommandLine.UsageError e) {
            System.err.println("daemonkit: " + e.getMessage());
            System.err.println(CommandLine.USAGE);
            return BAD_CONFIG;
        }
        switch (cli.command()) {
            case "help" -> {
                System.out.println(CommandLine.USAGE);
                return OK;
            }
            case "version" -> {
                System.out.println(BuildInfo.current().line());
                return OK;
            }
            case "run" -> {
                return runLauncher(cli);
            }
            default -> {
                return new ControlClient(System.out, System.err).run(cli);
            }
        }
    }

    /** Netty's system property: one buffer in this many is tracked by its (default, simple) leak detector. */
    static final String LEAK_SAMPLING = "io.netty.leakDetection.samplingInterval";

    /**
     * Unless the operator chose one (DAEMONKIT_OPTS), Netty's leak detector tracks one buffer in 1,024
     * instead of its default 128. A tracked buffer costs a stack trace when it is allocated and a set
     * entry until it is released: with two buffers per request (the read, the reply) that was 3.9 % of
     * the event loop's time in the cache daemon's profile at depth 1 (docs/benchmarks.md). A leak is
     * still reported, only later: a plugin that leaks a buffer on every request is caught within a
     * thousand requests. Must run before Netty's first buffer (the detector reads it once).
     */
    static void sparserLeakSampling(java.util.Properties system) {
        if (system.getProperty(LEAK_SAMPLING) == null) {
            system.setProperty(LEAK_SAMPLING, "1024");
        }
    }

    /** Prints a startup error just logged, unless the log already showed it on the console. */
    private static void notOnTheConsole(LoggingSystem logging, String message) {
        if (!logging.writesToConsole()) {
            System.err.println(message);
        }
    }

    private static int runLauncher(CommandLine cli) {
        ConfigLoader config;
        try {
            config = ConfigLoader.load(cli.config(), cli.configExplicit(), Main.class.getClassLoader());
            config.launcherSettings();
        } catch (ConfigError e) {
            System.err.println("daemonkit: not started: " + e.getMessage());
            return BAD_CONFIG;
        }
        LoggingSystem logging;
        try {
            logging = LoggingSystem.start(
                    config.whole().getConfig("daemonkit.logging"),
                    cli.logs(),
                    true,
                    cli.config().toAbsolutePath().getParent());
        } catch (ConfigError e) {
            System.err.println("daemonkit: not started: " + e.getMessage());
            return BAD_CONFIG;
        } catch (RuntimeException e) {
            System.err.println("daemonkit: not started: the logging setup failed: " + e.getMessage()
                    + ". Check daemonkit.logging in " + cli.config() + " and that " + cli.logs() + " is writable.");
            return BAD_CONFIG;
        }
        Logger log = LoggerFactory.getLogger(Main.class);
        Launcher launcher = new Launcher(config, cli.config(), cli.configExplicit(), cli.plugins(), logging);
        StopRequests stopRequests = new StopRequests(launcher);
        AtomicBoolean stopped = new AtomicBoolean();
        Services services = new Services();
        // Does nothing unless systemd runs the launcher (NOTIFY_SOCKET): docs/operations.md, "systemd".
        SystemdNotify systemd = SystemdNotify.fromEnvironment(System.getenv(), launcher);
        try {
            for (String name : new String[] {"TERM", "INT"}) {
                Signal.handle(new Signal(name), sig -> {
                    stopRequests.request();
                    log.info("received SIG{}: stopping (readiness is 503 from now on)", sig.getName());
                });
            }
            SignalHandler previousHup = Signal.handle(new Signal("HUP"), sig -> {
                log.info("received SIGHUP: reloading {} and rescanning {}", cli.config(), cli.plugins());
                launcher.reload().whenComplete((report, e) -> {
                    // A rejected config (ConfigError) is logged where it is rejected; say only what else failed.
                    Throwable cause = e != null && e.getCause() != null ? e.getCause() : e;
                    if (e != null && !(cause instanceof ConfigError)) {
                        log.error(
                                "reload failed: {}",
                                e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
                    }
                });
            });
            // An ignored signal stays ignored (the JVM does not install a handler then): nohup, trap '' HUP.
            if (previousHup == SignalHandler.SIG_IGN) {
                log.warn("SIGHUP is ignored in this process (started under nohup, or with HUP trapped to nothing):"
                        + " kill -HUP will not reload it. Reload with: bin/daemonkit reload (or POST /reload).");
            }
        } catch (IllegalArgumentException e) {
            log.warn("cannot handle signals here ({}); stop with Ctrl-C may skip the graceful drain", e.getMessage());
        }
        Thread hook = new Thread(
                () -> {
                    // Only for exits that bypass the signal handlers above (e.g. System.exit from a library).
                    if (stopped.compareAndSet(false, true)) {
                        services.stop(launcher, logging);
                    }
                },
                "daemonkit-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            String summary = launcher.start();
            services.start(launcher, logging, stopRequests::request);
            log.info("{}", summary);
            systemd.started(services.watchdog);
        } catch (Launcher.NothingBound e) {
            log.error("not started: {}", e.getMessage());
            stopped.set(true);
            logging.close();
            notOnTheConsole(logging, "daemonkit: not started: " + e.getMessage());
            return NOTHING_BOUND;
        } catch (ConfigError e) {
            log.error("not started: {}", e.getMessage());
            stopped.set(true);
            logging.close();
            notOnTheConsole(logging, "daemonkit: not started: " + e.getMessage());
            return BAD_CONFIG;
        } catch (RuntimeException | Error e) {
            log.error("not started: fatal error", e);
            stopped.set(true);
            services.stop(launcher, logging);
            return FATAL;
        }
        try {
            stopRequests.awaitFirst();
            systemd.stopping();
            Duration delay = launcher.settings().shutdown().delay();
            if (!delay.isZero()) {
                log.info(
                        "serving {} ms more before draining (daemonkit.shutdown.delay) so load balancers can drop this"
                                + " endpoint; TERM again to skip",
                        delay.toMillis());
                if (stopRequests.awaitSecond(delay)) {
                    log.info("second stop request: skipping the rest of daemonkit.shutdown.delay");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (stopped.compareAndSet(false, true)) {
            services.stop(launcher, logging);
        }
        systemd.close();
        return OK;
    }

    /**
     * TERM, INT and {@code POST /shutdown}. The first marks the launcher stopping at once (readiness
     * 503, from the signal handler's thread, before any logging) and ends the wait of {@link #run};
     * a second one ends {@code daemonkit.shutdown.delay} early.
     */
    private static final class StopRequests {
        private final Launcher launcher;
        private final CountDownLatch first = new CountDownLatch(1);
        private final CountDownLatch second = new CountDownLatch(1);
        private final AtomicInteger count = new AtomicInteger();

        StopRequests(Launcher launcher) {
            this.launcher = launcher;
        }

        /** Any thread; never blocks. */
        void request() {
            launcher.beginStop();
            if (count.incrementAndGet() == 1) {
                first.countDown();
            } else {
                second.countDown();
            }
        }

        void awaitFirst() throws InterruptedException {
            first.await();
        }

        /** Waits up to {@code delay} for a second request; true if it came. */
        boolean awaitSecond(Duration delay) throws InterruptedException {
            return second.await(delay.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** What runs beside the daemons: the stall watchdog, metrics and the admin endpoint. */
    private static final class Services {
        private StallWatchdog watchdog;
        private DaemonkitMetrics metrics;
        private AdminServer admin;

        void start(Launcher launcher, LoggingSystem logging, Runnable shutdown) {
            LauncherSettings s = launcher.settings();
            if (s.watchdog().enabled()) {
                watchdog = new StallWatchdog(launcher.transport(), s.watchdog().threshold());
            }
            metrics = new DaemonkitMetrics(launcher, logging, watchdog);
            if (s.admin().enabled()) {
                admin = AdminServer.start(launcher, metrics, watchdog, s.admin(), shutdown);
                if (admin != null) {
                    metrics.bindAdmin(admin.connections());
                }
            }
        }

        /**
         * Stops everything, the launcher's daemons first (drained), logging last. The admin endpoint
         * answers during the drain (live 200, ready 503): a platform that still probes a stopping
         * process must not restart it for a refused connection.
         */
        void stop(Launcher launcher, LoggingSystem logging) {
            launcher.stop();
            if (admin != null) {
                admin.close();
            }
            if (watchdog != null) {
                watchdog.close();
            }
            if (metrics != null) {
                metrics.close();
            }
            logging.close();
        }
    }
}
