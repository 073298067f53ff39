package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.config.ConnectionShares;
import dev.daemonkit.internal.config.DaemonSpec;
import dev.daemonkit.internal.config.LauncherSettings;
import dev.daemonkit.internal.config.RunningConfig;
import dev.daemonkit.internal.plugins.FrameworkThreads;
import dev.daemonkit.internal.plugins.PluginFailure;
import dev.daemonkit.internal.plugins.PluginShelf;
import dev.daemonkit.internal.transport.ConnectionBudget;
import dev.daemonkit.internal.transport.DaemonSockets.HandOver;
import dev.daemonkit.internal.transport.ListenerRegistry;
import dev.daemonkit.internal.transport.SocketActivation;
import dev.daemonkit.internal.transport.Transport;
import dev.daemonkit.logging.LoggingSystem;
import dev.daemonkit.timers.EventLoopTimerWheels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every daemon of one process: starts them (stopping with a {@link ConfigError} before anything
 * is bound when a config is wrong), takes the operator's commands, and stops them all gracefully.
 * The work is done by its parts: the {@link DaemonTable} of daemons, the {@link PluginShelf} of
 * loaded plugins, the {@link Supervisor} (restart policy), {@link HotDeploy} and {@link ConfigReload}.
 *
 * <p>Every change of the set of daemons runs on one control thread, so start, stop, restart,
 * reload, hot deploy and supervision never race each other; the public methods hand work to it.
 */
public final class Launcher {
    private static final Logger log = LoggerFactory.getLogger(Launcher.class);

    private final RunningConfig running;
    private final LoggingSystem logging;
    private volatile ReloadListener reloadListener = ReloadListener.NONE;
    private final ControlThread control = new ControlThread();
    private final ExecutorService lifecycle = FrameworkThreads.cachedPool("daemonkit-lifecycle");
    private final PluginShelf shelf;
    private final DaemonTable table;
    private final Unloader unloader;

    // Made by start, on the control thread.
    private volatile FrameworkServices services;
    private ListenerRegistry registry;
    private Supervisor supervisor;
    private HotDeploy hotDeploy;
    private ConfigReload reload;

    private volatile boolean started;
    private volatile boolean stopping;

    public Launcher(
            ConfigLoader config, Path configFile, boolean configExplicit, Path pluginsDir, LoggingSystem logging) {
        this.running = new RunningConfig(config, configFile, configExplicit);
        this.logging = logging;
        this.shelf = PluginShelf.open(
                pluginsDir, Path.of(System.getProperty("java.io.tmpdir")), Launcher.class.getClassLoader());
        this.table = new DaemonTable(logging);
        this.unloader = new Unloader(lifecycle, this::wheels);
    }

    /**
     * Starts everything and returns a one-line summary for the log. Throws {@link ConfigError}
     * (after releasing what it created) when the config is wrong, and {@link NothingBound} when every
     * enabled daemon failed because its address is in use (a second launcher on the same config); a
     * daemon that fails on its own is FAILED and the others run.
     */
    public String start() {
        long t0 = System.nanoTime();
        try {
            control.call(() -> {
                startUnchecked();
                return null;
            });
        } catch (RuntimeException | Error e) {
            releaseAll();
            throw e;
        }
        started = true;
        return table.startSummary(
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                shelf.failures().size());
    }

    private void startUnchecked() {
        LauncherSettings settings = running.settings();
        shelf.loadAll();
        ConfigLoader.Resolution resolution = running.loader().resolveDaemons(shelf.references());
        ConfigReload.recordUnresolved(resolution, !shelf.failures().isEmpty(), table);

        ConnectionBudget budget = new ConnectionBudget(
                ConnectionShares.budget(running.loader().framework()).connections());
        services = FrameworkServices.create(settings, budget, lifecycle);
        // Sockets systemd passed (socket activation) are adopted instead of bound: docs/operations.md, "systemd".
        registry = new ListenerRegistry(
                services.transport(), budget, SocketActivation.fromEnvironment(System.getenv(), services.transport()));
        supervisor = new Supervisor(control.executor(), table, services, registry);
        hotDeploy = new HotDeploy(shelf, table, supervisor, running, unloader, services.transport());
        reload = new ConfigReload(running, shelf, table, supervisor, hotDeploy, registry, logging, services.tls());

        for (DaemonSpec spec : resolution.daemons()) {
            DaemonSlot slot = new DaemonSlot(spec, shelf.plugin(spec.plugin()));
            table.add(slot);
            slot.current = supervisor.newInstance(slot, spec, slot.plugin);
        }
        List<DaemonSlot> slots = table.slots();
        // Phase 1: every daemon declares its listeners. Config errors stop the launch here, before any bind.
        List<String> configErrors = new ArrayList<>();
        for (DaemonSlot slot : slots) {
            try {
                slot.current.configure();
            } catch (ConfigError e) {
                configErrors.add(e.getMessage());
            }
        }
        configErrors.addAll(
                DeclaredAddress.clashes(slots.stream().map(s -> s.current).toList()));
        if (!configErrors.isEmpty()) {
            throw new ConfigError(
                    configErrors.size() == 1
                            ? configErrors.get(0)
                            : configErrors.size() + " config problems:\n  - " + String.join("\n  - ", configErrors));
        }
        // Phase 2: bind; a daemon whose port is taken fails alone (and its restart policy applies).
        for (DaemonSlot slot : slots) {
            slot.current.start(HandOver.NONE);
        }
        table.publish();
        registry.reportUnclaimed();
        if (!slots.isEmpty() && slots.stream().allMatch(s -> s.current.failedToBind())) {
            String why = slots.stream()
                    .map(s -> "daemon '" + s.name + "': " + s.current.failure())
                    .collect(Collectors.joining("\n  - "));
            throw new NothingBound("no daemon could bind its address, so this launcher exits:\n  - " + why
                    + "\nAnother launcher is probably running with this config"
                    + " (bin/daemonkit status asks it); stop it first, or give these daemons other ports.");
        }
        if (settings.plugins().watch()) {
            hotDeploy.watchEvery(settings.plugins().scanInterval(), control.executor());
        }
    }

    /**
     * Marks the launcher as stopping: the readiness probe answers 503 from now on, while the daemons
     * serve on until {@link #stop}. Called on TERM before {@code daemonkit.shutdown.delay}; any
     * thread (a signal handler's), cheap, idempotent and never undone.
     */
    public void beginStop() {
        stopping = true;
    }

    /** True from {@link #beginStop} (or {@link #stop}) on. */
    public boolean stopping() {
        return stopping;
    }

    /** True once {@link #start} has returned normally. */
    public boolean started() {
        return started;
    }

    /** Stops every daemon in parallel, each draining for up to the grace period, then the loops. */
    public void stop() {
        stopping = true;
        if (control.isShutdown()) {
            return;
        }
        long t0 = System.nanoTime();
        LauncherSettings.Shutdown shutdown = running.settings().shutdown();
        List<CompletableFuture<Void>> stops;
        try {
            stops = control.call(() -> {
                quiesce();
                log.info(
                        "Daemonkit stopping: {} daemon(s), grace {} ms",
                        table.slots().size(),
                        shutdown.grace().toMillis());
                List<CompletableFuture<Void>> all = new ArrayList<>();
                for (DaemonSlot slot : table.slots()) {
                    if (slot.current != null) {
                        all.add(slot.current.stop(shutdown.grace(), shutdown.quietPeriod()));
                    }
                }
                table.publish();
                return all;
            });
        } catch (RuntimeException e) {
            stops = List.of();
        }
        try {
            CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
                    .get(shutdown.grace().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("not every daemon stopped within the grace period: {}", e.toString());
        }
        table.publish();
        releaseAll();
        log.info("Daemonkit stopped in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    /** No look at the plugins folder and no restart from now on (on the control thread). */
    private void quiesce() {
        if (hotDeploy != null) {
            hotDeploy.stop();
        }
        if (supervisor != null) {
            supervisor.stop();
        }
    }

    private void releaseAll() {
        try {
            control.call(() -> {
                quiesce();
                for (DaemonSlot slot : table.slots()) {
                    if (slot.current != null) {
                        slot.current.abandon();
                    }
                }
                if (registry != null) {
                    registry.closeAll();
                }
                return null;
            });
        } catch (RuntimeException e) {
            log.debug("releasing daemons failed", e);
        }
        control.shutdownNow();
        if (services != null) {
            services.close();
        }
        shelf.close();
        lifecycle.shutdown();
    }

    /** Starts a stopped or failed daemon (clears its restart history). */
    public CompletableFuture<String> startDaemon(String name) {
        return control.async(() -> {
            DaemonSlot slot = slotOrThrow(name);
            DaemonState s = slot.state();
            if (s == DaemonState.RUNNING || s == DaemonState.STARTING) {
                return CompletableFuture.completedFuture("daemon '" + name + "' is already " + s);
            }
            if (s == DaemonState.STOPPING) {
                throw new IllegalStateException("daemon '" + name + "' is stopping; try again when it is STOPPED");
            }
            supervisor.release(slot);
            DaemonInstance i = supervisor.start(slot);
            return CompletableFuture.completedFuture(
                    "daemon '" + name + "' " + i.state() + (i.failure() == null ? "" : ": " + i.failure()));
        });
    }

    /** Stops a daemon; it stays stopped (no automatic restart) until started again. */
    public CompletableFuture<String> stopDaemon(String name) {
        return control.async(() -> {
            DaemonSlot slot = slotOrThrow(name);
            supervisor.hold(slot);
            DaemonInstance i = slot.current;
            if (i == null || i.state().isTerminal()) {
                table.publish();
                return CompletableFuture.completedFuture("daemon '" + name + "' is already " + slot.state());
            }
            LauncherSettings.Shutdown shutdown = running.settings().shutdown();
            CompletableFuture<Void> stopped = i.stop(shutdown.grace(), shutdown.quietPeriod());
            table.publish();
            return stopped.thenApply(v -> {
                table.publish();
                return "daemon '" + name + "' STOPPED";
            });
        });
    }

    /** Stops (draining) and starts a daemon again, with a fresh instance. */
    public CompletableFuture<String> restartDaemon(String name) {
        return stopDaemon(name).thenCompose(ignored -> startDaemon(name));
    }

    private DaemonSlot slotOrThrow(String name) {
        DaemonSlot slot = table.get(name);
        if (slot == null) {
            List<String> names = table.slots().stream().map(s -> s.name).toList();
            throw new UnknownDaemon("no daemon named '" + name + "' (daemons: " + names + ")");
        }
        return slot;
    }

    /**
     * Re-reads the config file and the plugins folder and applies what changed. A config that does
     * not validate is rejected as a whole (the running config stays) with the reason.
     */
    public CompletableFuture<ReloadReport> reload() {
        return control.async(() -> {
            ReloadListener listener = reloadListener;
            listener.reloading();
            try {
                return CompletableFuture.completedFuture(reload.reloadNow());
            } finally {
                listener.reloaded();
            }
        });
    }

    /** Replaces the reload listener (one at a time; the launcher has none at first). */
    public void onReload(ReloadListener listener) {
        reloadListener = listener;
    }

    /** One look at the plugins folder now, as the watcher's (a test drives looks itself with this). */
    void lookAtPlugins() {
        control.call(() -> hotDeploy.lookNow(false));
    }

    /** For tests: what the launcher has loaded, and how often it looked at the folder. */
    PluginShelf shelf() {
        return shelf;
    }

    /** Every enabled daemon failed at start because its address is in use: the launcher would serve nothing. */
    public static final class NothingBound extends RuntimeException {
        NothingBound(String message) {
            super(message, null, false, false);
        }
    }

    /** An operator named a daemon that does not exist. */
    public static final class UnknownDaemon extends RuntimeException {
        UnknownDaemon(String message) {
            super(message, null, false, false);
        }
    }

    /** Changes a level now: see {@link LoggingSystem#setLevel}. */
    public void setLevel(String daemon, String logger, String level) {
        if (logging == null) {
            throw new IllegalStateException("no logging system in this launcher");
        }
        logging.setLevel(daemon, logger, level);
    }

    /** The table of daemons, to read their published status (only the control thread changes it). */
    public DaemonTable daemons() {
        return table;
    }

    /** The current instance of a daemon as last published, or null (for tests and the admin endpoint). */
    public DaemonInstance daemon(String name) {
        DaemonStatus s = table.status(name);
        return s == null ? null : s.instance();
    }

    public List<PluginFailure> pluginFailures() {
        return shelf.failures();
    }

    /** Looks at the plugins folder that failed (listing it or reading a source), since the start. */
    public long pluginScanErrors() {
        return shelf.scanErrors();
    }

    /** The shared event loops (null before start). */
    public Transport transport() {
        return services == null ? null : services.transport();
    }

    /** The TLS listeners' certificate watch (null before start). */
    public dev.daemonkit.internal.transport.TlsWatch tls() {
        return services == null ? null : services.tls();
    }

    /** The process's connection budget (null before start). */
    public ConnectionBudget connectionBudget() {
        return services == null ? null : services.connections();
    }

    /** The timer wheels of the shared event loops (the admin endpoint's connections use them). */
    public EventLoopTimerWheels wheels() {
        return services == null ? null : services.wheels();
    }

    public LauncherSettings settings() {
        return running.settings();
    }

    public Unloader unloader() {
        return unloader;
    }
}
