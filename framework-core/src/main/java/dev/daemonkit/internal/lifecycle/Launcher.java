package dev.daemonkit.internal.lifecycle;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import com.typesafe.config.Config;
import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.config.ConnectionShares;
import dev.daemonkit.internal.config.DaemonSpec;
import dev.daemonkit.internal.config.LauncherSettings;
import dev.daemonkit.internal.plugins.InstalledPlugin;
import dev.daemonkit.internal.plugins.LoadedSource;
import dev.daemonkit.internal.plugins.PluginCopies;
import dev.daemonkit.internal.plugins.PluginFailure;
import dev.daemonkit.internal.plugins.PluginScanner;
import dev.daemonkit.internal.transport.ConnectionBudget;
import dev.daemonkit.internal.transport.DaemonSockets.HandOver;
import dev.daemonkit.internal.transport.ListenerRegistry;
import dev.daemonkit.internal.transport.Transport;
import dev.daemonkit.logging.LoggingSystem;
import dev.daemonkit.timers.EventLoopTimerWheels;
import dev.daemonkit.timers.TimerWheelSettings;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every daemon of one process. Loads the plugins, resolves and validates every daemon's config
 * (stopping with a {@link ConfigError} before anything is bound), configures and binds each daemon
 * independently, supervises them (restart policy), applies reloads and plugin changes (hot deploy),
 * and stops them all gracefully.
 *
 * <p>Every change of the set of daemons runs on one control thread, so start, stop, restart,
 * reload, hot deploy and supervision never race each other; the public methods hand work to it.
 */
public final class Launcher {
    private static final Logger log = LoggerFactory.getLogger(Launcher.class);

    private final Path configFile;
    private final boolean configExplicit;
    /** Whether the config file existed at start: then a reload that does not find it is refused. */
    private final boolean configExisted;
    private final Path pluginsDir;
    private final LoggingSystem logging;
    private volatile ConfigLoader config;
    private volatile LauncherSettings settings;

    private final ScheduledExecutorService control =
            Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("daemonkit-control", true));
    private final ExecutorService lifecycle = Executors.newCachedThreadPool(new DefaultThreadFactory("daemonkit-lifecycle", true));
    private final PluginScanner scanner;
    private final PluginCopies copies;

    // Below: touched on the control thread only (except volatile views).
    private final Map<String, DaemonSlot> slots = new LinkedHashMap<>();
    private final Map<Path, LoadedSource> sources = new LinkedHashMap<>();
    private final Map<Path, String> lastSeen = new HashMap<>();
    private final Map<Path, String> failedFingerprints = new HashMap<>();
    /** The plugin folder problems reported and not yet gone, by path (the folder or one source). */
    private final Map<Path, String> scanProblems = new HashMap<>();
    private final java.util.concurrent.atomic.LongAdder pluginScanErrors = new java.util.concurrent.atomic.LongAdder();
    private volatile List<PluginFailure> pluginFailures = List.of();
    private volatile List<String> unresolved = List.of();
    private volatile List<SlotView> views = List.of();
    private Transport transport;
    private EventLoopTimerWheels wheels;
    private ListenerRegistry registry;
    private volatile ConnectionBudget connectionBudget;
    private FrameworkServices services;
    private ScheduledFuture<?> watcher;
    private final Unloader unloader;
    private volatile boolean stopping;
    private final List<LauncherListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Told about slots coming and going (metrics); called on the control thread. */
    public interface LauncherListener {
        void slotAdded(SlotView slot);

        void slotRemoved(String name);
    }

    public Launcher(ConfigLoader config, Path configFile, boolean configExplicit, Path pluginsDir, LoggingSystem logging) {
        this.config = config;
        this.configFile = configFile;
        this.configExplicit = configExplicit;
        this.configExisted = Files.exists(configFile);
        this.settings = config.launcherSettings();
        this.pluginsDir = pluginsDir;
        this.logging = logging;
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        PluginCopies.removeLeftovers(tmp);
        try {
            this.copies = PluginCopies.create(tmp);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a folder for plugin copies in " + tmp + ": " + e
                    + ". Make it writable, or point java.io.tmpdir elsewhere (DAEMONKIT_OPTS=\"-Djava.io.tmpdir=DIR\")", e);
        }
        this.scanner = new PluginScanner(Launcher.class.getClassLoader(), copies.dir());
        this.unloader = new Unloader(lifecycle);
    }

    /** Runs {@code work} on the control thread and waits for it; exceptions are rethrown as they are. */
    private <T> T onControl(Callable<T> work) {
        try {
            return control.submit(work).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private <T> CompletableFuture<T> async(Supplier<CompletableFuture<T>> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            control.execute(() -> {
                try {
                    work.get().whenComplete((v, e) -> {
                        if (e != null) {
                            result.completeExceptionally(e);
                        } else {
                            result.complete(v);
                        }
                    });
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.completeExceptionally(new IllegalStateException("the launcher is stopping"));
        }
        return result;
    }

    // ------------------------------------------------------------------ start and stop

    /**
     * Starts everything and returns a one-line summary for the log. Throws {@link ConfigError}
     * (after releasing what it created) when the config is wrong, and {@link NothingBound} when every
     * enabled daemon failed because its address is in use (a second launcher on the same config); a
     * daemon that fails on its own is FAILED and the others run.
     */
    public String start() {
        long t0 = System.nanoTime();
        try {
            onControl(() -> {
                startUnchecked();
                return null;
            });
        } catch (RuntimeException | Error e) {
            releaseAll();
            throw e;
        }
        long running = views.stream().filter(v -> v.state() == DaemonState.RUNNING).count();
        long failed = views.size() - running + unresolved.size();
        return "Daemonkit started in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms: " + running
                + " daemon(s) running" + (failed + pluginFailures.size() == 0 ? ""
                        : ", " + failed + " not running, " + pluginFailures.size() + " plugin file(s) not loaded (see the errors above)");
    }

    private void startUnchecked() {
        PluginScanner.Result scan = scanner.scan(pluginsDir);
        for (LoadedSource s : scan.sources()) {
            sources.put(s.source(), s);
        }
        for (Path p : PluginScanner.sources(pluginsDir)) {
            String fp = PluginScanner.fingerprint(p);
            lastSeen.put(p, fp);
            if (!sources.containsKey(p)) {
                failedFingerprints.put(p, fp);
            }
        }
        pluginFailures = List.copyOf(scan.failures());
        ConfigLoader.Resolution resolution = config.resolveDaemons(references());
        checkUnknown(resolution, !scan.failures().isEmpty());

        transport = Transport.create(settings.transport(), settings.ioThreads());
        wheels = EventLoopTimerWheels.create(transport.workers(),
                new TimerWheelSettings(settings.timerTick(), settings.wheelSize()));
        connectionBudget = new ConnectionBudget(ConnectionShares.budget(config.framework()).connections());
        registry = new ListenerRegistry(transport, connectionBudget);
        LauncherSettings launcherSettings = settings;
        Injector root = Guice.createInjector(Stage.PRODUCTION, new AbstractModule() {
            @Override
            protected void configure() {
                bind(LauncherSettings.class).toInstance(launcherSettings);
            }
        });
        services = new FrameworkServices(settings, transport, wheels, root, lifecycle, connectionBudget);

        for (DaemonSpec spec : resolution.daemons()) {
            DaemonSlot slot = addSlot(spec, plugin(spec.plugin()));
            slot.current = newInstance(slot);
        }
        // Phase 1: every daemon declares its listeners. Config errors stop the launch here, before any bind.
        List<String> configErrors = new ArrayList<>();
        for (DaemonSlot slot : slots.values()) {
            try {
                slot.current.configure();
            } catch (ConfigError e) {
                configErrors.add(e.getMessage());
            }
        }
        Map<String, DaemonInstance.DeclaredAddress> claimed = new HashMap<>();
        for (DaemonSlot slot : slots.values()) {
            for (DaemonInstance.DeclaredAddress a : slot.current.declaredAddresses()) {
                if (a.address().getPort() == 0) {
                    continue; // an ephemeral port never clashes
                }
                DaemonInstance.DeclaredAddress other = claimed.putIfAbsent(a.label(), a);
                if (other != null) {
                    configErrors.add("two listeners on " + a.label() + ": " + other.where() + " and " + a.where()
                            + ". Give each its own port.");
                }
            }
        }
        if (!configErrors.isEmpty()) {
            throw new ConfigError(configErrors.size() == 1 ? configErrors.get(0)
                    : configErrors.size() + " config problems:\n  - " + String.join("\n  - ", configErrors));
        }
        // Phase 2: bind; a daemon whose port is taken fails alone (and its restart policy applies).
        for (DaemonSlot slot : slots.values()) {
            slot.current.start(HandOver.NONE);
        }
        refreshViews();
        if (!slots.isEmpty() && slots.values().stream().allMatch(s -> s.current.failedToBind())) {
            List<String> why = new ArrayList<>();
            for (DaemonSlot slot : slots.values()) {
                why.add("daemon '" + slot.name + "': " + slot.current.failure());
            }
            throw new NothingBound("no daemon could bind its address, so this launcher exits:\n  - "
                    + String.join("\n  - ", why) + "\nAnother launcher is probably running with this config"
                    + " (bin/daemonkit status asks it); stop it first, or give these daemons other ports.");
        }
        if (settings.watchPlugins()) {
            long every = settings.scanInterval().toMillis();
            watcher = control.scheduleWithFixedDelay(this::watchPlugins, every, every, TimeUnit.MILLISECONDS);
        }
    }

    private void checkUnknown(ConfigLoader.Resolution resolution, boolean someFailed) {
        if (resolution.unknownPlugins().isEmpty()) {
            unresolved = List.of();
            return;
        }
        if (!someFailed) {
            throw new ConfigError(String.join("\n", resolution.unknownPlugins()));
        }
        // A broken jar may be the plugin these blocks name: report them as not started, not as a typo.
        for (String message : resolution.unknownPlugins()) {
            log.error("daemon not started: {} (Some plugin files failed to load, see above.)", message);
        }
        unresolved = List.copyOf(resolution.unknownPlugins());
    }

    /** Stops every daemon in parallel, each draining for up to the grace period, then the loops. */
    public void stop() {
        if (control.isShutdown()) {
            return;
        }
        long t0 = System.nanoTime();
        stopping = true;
        List<CompletableFuture<Void>> stops;
        try {
            stops = onControl(() -> {
                if (watcher != null) {
                    watcher.cancel(false);
                }
                log.info("Daemonkit stopping: {} daemon(s), grace {} ms", slots.size(), settings.grace().toMillis());
                List<CompletableFuture<Void>> all = new ArrayList<>();
                for (DaemonSlot slot : slots.values()) {
                    slot.cancelPendingRestart();
                    if (slot.current != null) {
                        all.add(slot.current.stop(settings.grace(), settings.quietPeriod()));
                    }
                }
                return all;
            });
        } catch (RuntimeException e) {
            stops = List.of();
        }
        try {
            CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
                    .get(settings.grace().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("not every daemon stopped within the grace period: {}", e.toString());
        }
        refreshViews();
        releaseAll();
        log.info("Daemonkit stopped in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    private void releaseAll() {
        stopping = true;
        try {
            onControl(() -> {
                for (DaemonSlot slot : slots.values()) {
                    slot.cancelPendingRestart();
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
        if (wheels != null) {
            wheels.close();
        }
        if (transport != null) {
            transport.close();
        }
        for (LoadedSource s : sources.values()) {
            PluginScanner.discard(s);
        }
        lifecycle.shutdown();
        copies.close();
    }

    // ------------------------------------------------------------------ slots and supervision

    private Map<String, Config> references() {
        Map<String, Config> refs = new LinkedHashMap<>();
        for (LoadedSource s : sources.values()) {
            for (InstalledPlugin p : s.plugins()) {
                refs.put(p.name(), p.reference());
            }
        }
        return refs;
    }

    private InstalledPlugin plugin(String name) {
        for (LoadedSource s : sources.values()) {
            for (InstalledPlugin p : s.plugins()) {
                if (p.name().equals(name)) {
                    return p;
                }
            }
        }
        throw new IllegalStateException("no installed plugin " + name);
    }

    private DaemonSlot addSlot(DaemonSpec spec, InstalledPlugin plugin) {
        return register(new DaemonSlot(spec, plugin));
    }

    private DaemonSlot register(DaemonSlot slot) {
        if (logging != null) {
            logging.addDaemon(slot.name, slot.spec.block().getConfig("logging"));
        }
        slots.put(slot.name, slot);
        SlotView view = new SlotView(slot);
        for (LauncherListener l : listeners) {
            l.slotAdded(view);
        }
        return slot;
    }

    private void removeSlot(DaemonSlot slot) {
        slots.remove(slot.name);
        slot.cancelPendingRestart();
        for (LauncherListener l : listeners) {
            l.slotRemoved(slot.name);
        }
        if (logging != null) {
            logging.removeDaemon(slot.name);
        }
    }

    private DaemonInstance newInstance(DaemonSlot slot) {
        return new DaemonInstance(slot.spec, slot.plugin, services, registry,
                failed -> control.execute(() -> onFailed(slot, failed)));
    }

    /** Creates, configures and binds a new instance for the slot (a start or a restart). */
    private DaemonInstance startSlot(DaemonSlot slot) {
        DaemonInstance instance = newInstance(slot);
        slot.current = instance;
        try {
            instance.configure();
        } catch (ConfigError e) {
            instance.markFailed("its config is wrong: " + e.getMessage(), null);
            return instance;
        }
        instance.start(HandOver.NONE);
        refreshViews();
        return instance;
    }

    /** The restart policy, on the control thread, when an instance became FAILED. */
    private void onFailed(DaemonSlot slot, DaemonInstance failed) {
        refreshViews();
        if (slot.current != failed || slots.get(slot.name) != slot) {
            return;   // an older version, or a slot already removed
        }
        slot.lastFailure = failed.failure();
        slot.lastFailureMillis = System.currentTimeMillis();
        if (stopping || slot.held) {
            return;
        }
        var policy = slot.spec.settings().restart();
        if (!policy.onFailure()) {
            log.error("daemon '{}' stays FAILED (restart policy: never). Fix the cause, then: daemonkit restart {}",
                    slot.name, slot.name);
            return;
        }
        long now = System.currentTimeMillis();
        while (!slot.recentRestarts.isEmpty() && now - slot.recentRestarts.peekFirst() > policy.window().toMillis()) {
            slot.recentRestarts.removeFirst();
        }
        if (slot.recentRestarts.size() >= policy.maxRestarts()) {
            slot.held = true;
            slot.lastFailure = "gave up after " + slot.recentRestarts.size() + " restart(s) within "
                    + policy.window().toSeconds() + " s; last failure: " + failed.failure();
            log.error("daemon '{}' FAILED for good: {}. The other daemons keep running. Fix the cause, then:"
                    + " daemonkit restart {}", slot.name, slot.lastFailure, slot.name);
            refreshViews();
            return;
        }
        int attempt = slot.recentRestarts.size() + 1;
        Duration delay = policy.backoff(attempt);
        log.warn("daemon '{}' failed; restart {} of at most {} in {} ms", slot.name, attempt, policy.maxRestarts(),
                delay.toMillis());
        slot.pendingRestart = control.schedule(() -> {
            slot.pendingRestart = null;
            if (stopping || slot.held || slots.get(slot.name) != slot) {
                return;
            }
            slot.recentRestarts.addLast(System.currentTimeMillis());
            slot.restarts++;
            startSlot(slot);
        }, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    // ------------------------------------------------------------------ operator commands

    /** Starts a stopped or failed daemon (clears its restart history). */
    public CompletableFuture<String> startDaemon(String name) {
        return async(() -> {
            DaemonSlot slot = slotOrThrow(name);
            DaemonState s = slot.state();
            if (s == DaemonState.RUNNING || s == DaemonState.STARTING) {
                return CompletableFuture.completedFuture("daemon '" + name + "' is already " + s);
            }
            if (s == DaemonState.STOPPING) {
                throw new IllegalStateException("daemon '" + name + "' is stopping; try again when it is STOPPED");
            }
            slot.cancelPendingRestart();
            slot.held = false;
            slot.recentRestarts.clear();
            DaemonInstance i = startSlot(slot);
            return CompletableFuture.completedFuture("daemon '" + name + "' " + i.state()
                    + (i.failure() == null ? "" : ": " + i.failure()));
        });
    }

    /** Stops a daemon; it stays stopped (no automatic restart) until started again. */
    public CompletableFuture<String> stopDaemon(String name) {
        return async(() -> {
            DaemonSlot slot = slotOrThrow(name);
            slot.held = true;
            slot.cancelPendingRestart();
            DaemonInstance i = slot.current;
            if (i == null || i.state().isTerminal()) {
                return CompletableFuture.completedFuture("daemon '" + name + "' is already " + slot.state());
            }
            return i.stop(settings.grace(), settings.quietPeriod()).thenApply(v -> {
                refreshViews();
                return "daemon '" + name + "' STOPPED";
            });
        });
    }

    /** Stops (draining) and starts a daemon again, with a fresh instance. */
    public CompletableFuture<String> restartDaemon(String name) {
        return stopDaemon(name).thenCompose(ignored -> startDaemon(name));
    }

    private DaemonSlot slotOrThrow(String name) {
        DaemonSlot slot = slots.get(name);
        if (slot == null) {
            throw new UnknownDaemon("no daemon named '" + name + "' (daemons: " + slots.keySet() + ")");
        }
        return slot;
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

    public boolean isDaemon(String name) {
        return views.stream().anyMatch(v -> v.name().equals(name));
    }

    // ------------------------------------------------------------------ reload

    /**
     * Re-reads the config file and the plugins folder and applies what changed. A config that does
     * not validate is rejected as a whole (the running config stays) with the reason.
     */
    public CompletableFuture<ReloadReport> reload() {
        return async(() -> CompletableFuture.completedFuture(reloadNow()));
    }

    /** What a reload did, for the operator. */
    public record ReloadReport(List<String> started, List<String> restarted, List<String> updated,
                               List<String> stopped, List<String> notes) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("reloaded:");
            if (started.isEmpty() && restarted.isEmpty() && updated.isEmpty() && stopped.isEmpty()) {
                sb.append(" nothing changed");
            }
            append(sb, "started", started);
            append(sb, "restarted", restarted);
            append(sb, "updated in place", updated);
            append(sb, "stopped", stopped);
            for (String n : notes) {
                sb.append("\n  note: ").append(n);
            }
            return sb.toString();
        }

        private static void append(StringBuilder sb, String what, List<String> names) {
            if (!names.isEmpty()) {
                sb.append("\n  ").append(what).append(": ").append(String.join(", ", names));
            }
        }
    }

    private ReloadReport reloadNow() {
        ConfigLoader fresh;
        LauncherSettings freshSettings;
        try {
            if (!Files.exists(configFile) && (configExplicit || configExisted)) {
                throw new ConfigError("config file " + configFile + " does not exist any more (deleted or moved?)."
                        + " Put it back, then reload again; until then the daemons run on as they are");
            }
            fresh = ConfigLoader.load(configFile, configExplicit, Launcher.class.getClassLoader());
            freshSettings = fresh.launcherSettings();
        } catch (ConfigError e) {
            log.error("reload rejected, the running config stays: {}", e.getMessage());
            throw e;
        }
        String scanProblem = watchPluginsNow(true);
        ConfigLoader.Resolution resolution;
        try {
            resolution = fresh.resolveDaemons(references());
            if (!resolution.unknownPlugins().isEmpty() && pluginFailures.isEmpty()) {
                throw new ConfigError(String.join("\n", resolution.unknownPlugins()));
            }
        } catch (ConfigError e) {
            log.error("reload rejected, the running config stays: {}", e.getMessage());
            throw e;
        }

        // Plan and prepare without changing anything: every daemon the reload would start or restart
        // gets its new instance configured and its new addresses checked and bound first; any problem
        // rejects the reload as a whole and the running daemons never notice.
        List<Change> changes = new ArrayList<>();
        for (DaemonSpec spec : resolution.daemons()) {
            DaemonSlot slot = slots.get(spec.name());
            if (slot == null) {
                changes.add(new Change(Change.Kind.START, new DaemonSlot(spec, plugin(spec.plugin())), spec));
                continue;
            }
            if (slot.spec.block().equals(spec.block())) {
                continue;
            }
            boolean samePlugin = slot.spec.plugin().equals(spec.plugin());
            DaemonInstance current = slot.current;
            boolean running = current != null && current.state() == DaemonState.RUNNING;
            Change.Kind kind = !samePlugin || !running ? Change.Kind.RESTART
                    : withoutFrameworkKeys(slot.spec.block()).equals(withoutFrameworkKeys(spec.block())) ? Change.Kind.IN_PLACE
                    : Change.Kind.OFFER;
            changes.add(new Change(kind, slot, spec));
        }
        Set<String> wanted = new HashSet<>();
        resolution.daemons().forEach(s -> wanted.add(s.name()));
        try {
            prepare(changes, wanted);
        } catch (RuntimeException | Error e) {
            for (Change c : changes) {
                c.abandon(registry);
            }
            if (e instanceof ConfigError) {
                log.error("reload rejected, the running config stays: {}", e.getMessage());
            }
            throw e;
        }

        List<String> notes = new ArrayList<>();
        if (scanProblem != null) {
            notes.add("the plugins folder could not be read, so the plugin files stay as they were: " + scanProblem);
        }
        LauncherSettings old = settings;
        if (!old.transport().equals(freshSettings.transport()) || old.ioThreads() != freshSettings.ioThreads()
                || !old.timerTick().equals(freshSettings.timerTick()) || old.wheelSize() != freshSettings.wheelSize()
                || !old.admin().equals(freshSettings.admin())) {
            notes.add("daemonkit.transport, .timers and .admin changes take effect at the next launcher start");
        }
        Config oldLogging = config.framework().getConfig("logging");
        Config newLogging = fresh.framework().getConfig("logging");
        if (!oldLogging.equals(newLogging) && logging != null) {
            applyGlobalLevels(oldLogging, newLogging, notes);
        }
        config = fresh;
        settings = new LauncherSettings(freshSettings.grace(), freshSettings.quietPeriod(), old.ioThreads(),
                old.transport(), old.timerTick(), old.wheelSize(), old.admin(), freshSettings.watchPlugins(),
                freshSettings.scanInterval(), freshSettings.watchdog(), freshSettings.watchdogThreshold());
        checkUnknown(resolution, !pluginFailures.isEmpty());

        List<String> started = new ArrayList<>();
        List<String> restarted = new ArrayList<>();
        List<String> updated = new ArrayList<>();
        List<String> stopped = new ArrayList<>();
        for (Change c : changes) {
            DaemonSpec spec = c.spec;
            DaemonSlot slot = c.slot;
            if (c.kind == Change.Kind.START) {
                register(slot);
                slot.current = c.fresh;
                c.fresh.start(HandOver.NONE);
                c.releaseReserved(registry);
                started.add(spec.name());
                continue;
            }
            if (logging != null) {
                logging.addDaemon(spec.name(), spec.block().getConfig("logging"));
            }
            DaemonInstance current = slot.current;
            if (c.kind == Change.Kind.IN_PLACE) {
                current.connections().update(spec.settings());
                slot.spec = spec;
                updated.add(spec.name());
                log.info("daemon '{}': new limits applied in place", spec.name());
            } else if (c.kind == Change.Kind.OFFER && current.offerReload(spec.block())) {
                c.abandon(registry);
                current.connections().update(spec.settings());
                slot.spec = spec;
                updated.add(spec.name());
                log.info("daemon '{}' applied its new config itself", spec.name());
            } else {
                switchOver(c, notes);
                restarted.add(spec.name());
            }
        }
        for (DaemonSlot slot : List.copyOf(slots.values())) {
            if (!wanted.contains(slot.name)) {
                stopAndRemove(slot);
                stopped.add(slot.name);
            }
        }
        refreshViews();
        ReloadReport report = new ReloadReport(started, restarted, updated, stopped, notes);
        log.info("{}", report);
        return report;
    }

    /** One daemon a reload starts, restarts or updates, with its prepared new instance. */
    private static final class Change {
        enum Kind { START, RESTART, IN_PLACE, OFFER }

        final Kind kind;
        final DaemonSlot slot;
        final DaemonSpec spec;
        DaemonInstance fresh;
        final List<dev.daemonkit.internal.transport.BoundListener> reserved = new ArrayList<>();

        Change(Kind kind, DaemonSlot slot, DaemonSpec spec) {
            this.kind = kind;
            this.slot = slot;
            this.spec = spec;
        }

        /** Closes the sockets bound for the new instance that it did not take. */
        void releaseReserved(ListenerRegistry registry) {
            reserved.forEach(registry::releaseUnattached);
            reserved.clear();
        }

        void abandon(ListenerRegistry registry) {
            if (fresh != null) {
                fresh.abandon();
                fresh = null;
            }
            releaseReserved(registry);
        }
    }

    /**
     * Configures the new instance of every change that may need one and binds its new addresses.
     * Throws a {@link ConfigError} naming daemon, key, address and holder for anything that would
     * not start; the caller then abandons what was prepared.
     */
    private void prepare(List<Change> changes, Set<String> wanted) {
        List<String> errors = new ArrayList<>();
        for (Change c : changes) {
            if (c.kind == Change.Kind.IN_PLACE) {
                continue;
            }
            DaemonSlot slot = c.slot;
            InstalledPlugin plugin = plugin(c.spec.plugin());
            DaemonInstance fresh = new DaemonInstance(c.spec, plugin, services, registry,
                    failed -> control.execute(() -> onFailed(slot, failed)));
            c.fresh = fresh;
            try {
                fresh.configure();
            } catch (ConfigError e) {
                errors.add(e.getMessage());
                continue;
            }
            if (fresh.state() != DaemonState.STARTING) {
                errors.add("daemon '" + c.spec.name() + "' would not start with the new config: " + fresh.failure());
            }
        }
        if (!errors.isEmpty()) {
            throw rejection(errors);
        }
        // Every address of the config after the reload: daemons that keep their instance keep theirs.
        Map<String, DaemonInstance.DeclaredAddress> claimed = new HashMap<>();
        Map<String, String> kept = new HashMap<>();   // address label -> the daemon that keeps it, and how
        Set<String> replaced = new HashSet<>();
        changes.stream().filter(c -> c.fresh != null).forEach(c -> replaced.add(c.spec.name()));
        for (DaemonSlot slot : slots.values()) {
            DaemonInstance i = slot.current;
            if (wanted.contains(slot.name) && !replaced.contains(slot.name) && i != null) {
                // A stopped or failed daemon keeps its addresses too: it may be started again.
                String how = i.state() == DaemonState.RUNNING ? "listens there" : "is configured there (it is " + i.state() + ")";
                for (DaemonInstance.DeclaredAddress a : i.declaredAddresses()) {
                    if (a.address().getPort() != 0) {
                        claimed.put(a.label(), a);
                        kept.put(a.label(), "daemon '" + slot.name + "' of this launcher " + how);
                    }
                }
            }
        }
        for (Change c : changes) {
            if (c.fresh == null) {
                continue;
            }
            for (DaemonInstance.DeclaredAddress a : c.fresh.declaredAddresses()) {
                if (a.address().getPort() == 0) {
                    continue;   // an ephemeral port never clashes
                }
                DaemonInstance.DeclaredAddress other = claimed.putIfAbsent(a.label(), a);
                if (other != null && kept.containsKey(a.label())) {
                    errors.add("daemon '" + c.spec.name() + "' cannot move to " + a.label() + " (" + a.where()
                            + "): " + kept.get(a.label()) + " (" + other.where()
                            + "). Choose another port.");
                    continue;
                }
                if (other != null) {
                    errors.add("two listeners on " + a.label() + ": " + other.where() + " and " + a.where()
                            + ". Give each its own port.");
                    continue;
                }
                String problem = a.transport().equals("udp") ? checkDatagram(c, a) : reserve(c, a);
                if (problem != null) {
                    errors.add("daemon '" + c.spec.name() + "' cannot move to " + a.label() + " (" + a.where() + "): "
                            + problem);
                }
            }
        }
        if (!errors.isEmpty()) {
            throw rejection(errors);
        }
    }

    private static ConfigError rejection(List<String> errors) {
        return new ConfigError(errors.size() == 1 ? errors.get(0)
                : errors.size() + " problems:\n  - " + String.join("\n  - ", errors));
    }

    /** Binds a new TCP address of a prepared instance now; returns what holds it if it cannot be bound. */
    private String reserve(Change c, DaemonInstance.DeclaredAddress a) {
        String holder = registry.holder(a.address());
        if (holder != null && holder.equals(c.spec.name())) {
            return null;   // its own socket: the new instance takes it over
        }
        if (holder != null) {
            return "daemon '" + holder + "' of this launcher listens there. Choose another port (to move a port from"
                    + " one daemon to another, free it with one reload and take it with the next)";
        }
        try {
            c.reserved.add(registry.reserve(a.address(), c.spec.name()));
            return null;
        } catch (ListenerRegistry.AddressTaken e) {
            return e.getMessage();
        } catch (ListenerRegistry.BindFailed e) {
            return inUse(a, e.getCause());
        }
    }

    /** A UDP address of a prepared instance: free (tried with a bind), or held by its own old instance. */
    private String checkDatagram(Change c, DaemonInstance.DeclaredAddress a) {
        for (DaemonSlot slot : slots.values()) {
            DaemonInstance i = slot.current;
            if (i == null || i.state().isTerminal()) {
                continue;
            }
            for (var l : i.listeners()) {
                if (l.transport().equals("udp") && a.address().equals(l.address())) {
                    return slot.name.equals(c.spec.name()) ? null : "daemon '" + slot.name + "' of this launcher listens there."
                            + " Choose another port (to move a port from one daemon to another, free it with one reload"
                            + " and take it with the next)";
                }
            }
        }
        try (java.net.DatagramSocket probe = new java.net.DatagramSocket(a.address())) {
            return null;
        } catch (IOException e) {
            return inUse(a, e);
        }
    }

    private String inUse(DaemonInstance.DeclaredAddress a, Throwable cause) {
        String message = String.valueOf(cause.getMessage());
        if (!(cause instanceof java.net.BindException) && !message.contains("in use")) {
            return "it cannot be bound (" + message + ")";
        }
        for (SlotView v : views) {
            DaemonInstance i = v.instance();
            if (i != null && !i.state().isTerminal()) {
                for (var l : i.listeners()) {
                    InetSocketAddress b = l.boundAddress();
                    if (b != null && b.getPort() == a.address().getPort() && l.transport().equals(a.transport())) {
                        return "it is in use: daemon '" + v.name() + "' of this launcher listens on " + l
                                + ". Choose another port";
                    }
                }
            }
        }
        return "it is in use by another process. Stop the process holding it or choose another port";
    }

    /**
     * Switches a restarted daemon to its prepared instance, as a hot swap does: the new instance takes
     * over the old one's sockets (or the ones reserved for it), then the old one stops, closing only
     * the sockets the new config no longer uses. If the new instance fails even so, the old one serves on.
     */
    private void switchOver(Change c, List<String> notes) {
        DaemonSlot slot = c.slot;
        slot.cancelPendingRestart();
        slot.held = false;
        slot.recentRestarts.clear();
        DaemonInstance old = slot.current;
        DaemonInstance fresh = c.fresh;
        boolean oldRunning = old != null && old.state() == DaemonState.RUNNING;
        fresh.start(oldRunning ? old.handOver() : HandOver.NONE).join();   // the old one serves while the new one gets ready
        c.releaseReserved(registry);
        if (fresh.state() != DaemonState.RUNNING && oldRunning) {
            old.reattach();
            log.error("reload: daemon '{}' failed with its new config ({}); it serves on with the old one", slot.name,
                    fresh.failure());
            notes.add("daemon '" + slot.name + "' keeps its old config: the new one failed: " + fresh.failure());
            return;
        }
        slot.current = fresh;
        slot.spec = c.spec;
        slot.plugin = fresh.plugin();
        if (oldRunning) {
            old.replaced(settings.grace(), settings.quietPeriod());
        }
    }

    private void applyGlobalLevels(Config oldLogging, Config newLogging, List<String> notes) {
        if (!oldLogging.getString("level").equals(newLogging.getString("level"))) {
            logging.setLevel(null, null, newLogging.getString("level"));
        }
        Map<String, Object> was = oldLogging.getObject("loggers").unwrapped();
        Map<String, Object> now = newLogging.getObject("loggers").unwrapped();
        for (var e : now.entrySet()) {
            if (!Objects.equals(was.get(e.getKey()), e.getValue())) {
                logging.setLevel(null, e.getKey(), String.valueOf(e.getValue()));
            }
        }
        for (String gone : was.keySet()) {
            if (!now.containsKey(gone)) {
                logging.setLevel(null, gone, "inherit");
            }
        }
        Config oldRest = oldLogging.withoutPath("level").withoutPath("loggers");
        Config newRest = newLogging.withoutPath("level").withoutPath("loggers");
        if (!oldRest.equals(newRest)) {
            notes.add("daemonkit.logging outputs (files, formats, rolling) change at the next launcher start; levels changed now");
        }
    }

    private static Config withoutFrameworkKeys(Config block) {
        Config c = block;
        for (String key : List.of("max-connections", "idle-timeout", "request-timeout", "inbound", "write-buffer", "restart",
                "logging")) {
            c = c.withoutPath(key);
        }
        return c;
    }

    private CompletableFuture<Void> stopAndRemove(DaemonSlot slot) {
        slot.held = true;
        removeSlot(slot);
        DaemonInstance i = slot.current;
        if (i == null || i.state().isTerminal()) {
            return CompletableFuture.completedFuture(null);
        }
        return i.stop(settings.grace(), settings.quietPeriod());
    }

    // ------------------------------------------------------------------ hot deploy

    private void watchPlugins() {
        try {
            watchPluginsNow(false);
        } catch (RuntimeException | Error e) {
            log.error("scanning {} failed; will try again", pluginsDir, e);
        }
    }

    /**
     * One look at the plugins folder. A new or changed source is loaded once its fingerprint has
     * been the same at two looks in a row ({@code immediately}: at this look, for reload).
     *
     * <p>A look that cannot read the folder, or a source's files, changes nothing: an I/O error
     * (out of file descriptors, a stale mount) must never read as "every plugin removed". Each such
     * problem is logged once when it appears and once when it is gone, and every failed look is
     * counted ({@link #pluginScanErrors()}). Returns the problem of this look, or null.
     */
    private String watchPluginsNow(boolean immediately) {
        if (stopping) {
            return null;
        }
        List<Path> present;
        try {
            present = PluginScanner.list(pluginsDir);
        } catch (java.nio.file.NoSuchFileException e) {
            if (sources.isEmpty()) {
                scanProblems(Map.of());   // no folder and nothing loaded from it: nothing to keep
                return null;
            }
            return scanFailed(Map.of(pluginsDir, "plugins folder " + pluginsDir + " does not exist any more; the "
                    + sources.size() + " plugin file(s) loaded from it stay loaded and their daemons keep running."
                    + " To remove a plugin, delete its file from the folder, not the folder"));
        } catch (IOException | RuntimeException e) {
            return scanFailed(Map.of(pluginsDir, "plugins folder " + pluginsDir + " cannot be listed (" + e
                    + "); hot deploy changes nothing until it can, every daemon keeps running"));
        }
        Map<Path, String> problems = new LinkedHashMap<>();
        boolean changed = false;
        for (Path path : present) {
            String fp;
            try {
                fp = PluginScanner.fingerprintOrThrow(path);
            } catch (IOException | RuntimeException e) {
                problems.put(path, "plugin file " + path + " cannot be read (" + e + "); what runs from it stays as it is"
                        + " until it can");
                continue;
            }
            LoadedSource loaded = sources.get(path);
            String previous = lastSeen.put(path, fp);
            if (loaded != null && loaded.fingerprint().equals(fp)) {
                continue;
            }
            if (fp.equals(failedFingerprints.get(path))) {
                continue;   // this very file failed before: wait for a new version
            }
            if (!immediately && !fp.equals(previous)) {
                continue;   // still changing (being copied?): look again next time
            }
            changed = true;
            if (loaded == null) {
                addSource(path, fp);
            } else {
                replaceSource(loaded, path, fp);
            }
        }
        for (Path gone : List.copyOf(sources.keySet())) {
            if (!present.contains(gone)) {
                changed = true;
                removeSource(sources.get(gone));
            }
        }
        lastSeen.keySet().retainAll(present);
        failedFingerprints.keySet().retainAll(present);
        if (changed) {
            refreshViews();
        }
        return problems.isEmpty() ? scanProblems(problems) : scanFailed(problems);
    }

    private String scanFailed(Map<Path, String> problems) {
        pluginScanErrors.increment();
        scanProblems(problems);
        return String.join("; ", problems.values());
    }

    /** Logs each problem when it appears and says so when one is gone; returns null. */
    private String scanProblems(Map<Path, String> now) {
        for (var e : now.entrySet()) {
            if (!e.getValue().equals(scanProblems.get(e.getKey()))) {
                log.error("hot deploy: {}. Counted in daemonkit_plugin_scan_errors_total; logged again only once it"
                        + " is readable.", e.getValue());
            }
        }
        for (Path p : scanProblems.keySet()) {
            if (!now.containsKey(p)) {
                log.info("hot deploy: {} can be read again; watching it as before", p);
            }
        }
        scanProblems.clear();
        scanProblems.putAll(now);
        return null;
    }

    /** Looks at the plugins folder that failed (listing or reading a source), since the start. */
    public long pluginScanErrors() {
        return pluginScanErrors.sum();
    }

    private LoadedSource loadChecked(Path path, String fp, LoadedSource replacing) {
        LoadedSource loaded = scanner.load(path);
        List<PluginFailure> failures = new ArrayList<>(loaded.failures());
        List<InstalledPlugin> kept = new ArrayList<>();
        for (InstalledPlugin p : loaded.plugins()) {
            boolean taken = sources.values().stream().filter(s -> s != replacing)
                    .flatMap(s -> s.plugins().stream()).anyMatch(o -> o.name().equals(p.name()));
            if (taken) {
                PluginFailure f = new PluginFailure(path, "it provides plugin '" + p.name()
                        + "', which another plugin file provides already. Remove one of them.");
                log.error("plugin {} not loaded: {}", path, f.reason());
                failures.add(f);
            } else {
                kept.add(p);
            }
        }
        List<PluginFailure> all = new ArrayList<>(pluginFailures);
        all.removeIf(f -> f.source().equals(path));
        all.addAll(failures);
        pluginFailures = List.copyOf(all);
        if (kept.isEmpty()) {
            PluginScanner.discard(loaded);
            failedFingerprints.put(path, fp);
            return null;
        }
        return new LoadedSource(path, loaded.fingerprint(), loaded.loader(), loaded.copy(), kept, loaded.failures());
    }

    private void addSource(Path path, String fp) {
        LoadedSource loaded = loadChecked(path, fp, null);
        if (loaded == null) {
            return;
        }
        sources.put(path, loaded);
        ConfigLoader.Resolution resolution;
        try {
            resolution = config.resolveDaemons(references());
        } catch (ConfigError e) {
            log.error("plugin {} loaded, but its daemons do not start: {}", path, e.getMessage());
            return;
        }
        Set<String> names = new HashSet<>();
        loaded.plugins().forEach(p -> names.add(p.name()));
        for (DaemonSpec spec : resolution.daemons()) {
            if (names.contains(spec.plugin()) && !slots.containsKey(spec.name())) {
                log.info("hot deploy: starting daemon '{}' from new plugin file {}", spec.name(), path.getFileName());
                startSlot(addSlot(spec, plugin(spec.plugin())));
            }
        }
        unresolved = List.copyOf(resolution.unknownPlugins());
    }

    private void removeSource(LoadedSource source) {
        log.info("hot deploy: {} was removed; stopping its daemons", source.source());
        sources.remove(source.source());
        List<DaemonInstance> instances = new ArrayList<>();
        for (DaemonSlot slot : List.copyOf(slots.values())) {
            if (source.plugins().contains(slot.plugin)) {
                if (slot.current != null) {
                    instances.add(slot.current);
                }
                stopAndRemove(slot);
            }
        }
        unloader.unloadWhenDone(source, instances, transport);
    }

    private void replaceSource(LoadedSource old, Path path, String fp) {
        LoadedSource fresh = loadChecked(path, fp, old);
        if (fresh == null) {
            log.error("hot deploy: the new {} could not be loaded (see above); the running version stays", path);
            return;
        }
        sources.put(path, fresh);
        ConfigLoader.Resolution resolution;
        try {
            resolution = config.resolveDaemons(references());
        } catch (ConfigError e) {
            sources.put(path, old);
            PluginScanner.discard(fresh);
            failedFingerprints.put(path, fp);
            log.error("hot deploy: the new {} does not fit the config ({}); the running version stays", path, e.getMessage());
            return;
        }
        Map<String, DaemonSpec> specs = new LinkedHashMap<>();
        resolution.daemons().forEach(s -> specs.put(s.name(), s));
        List<DaemonInstance> oldInstances = new ArrayList<>();
        for (DaemonSlot slot : List.copyOf(slots.values())) {
            if (!old.plugins().contains(slot.plugin)) {
                continue;
            }
            if (slot.current != null) {
                oldInstances.add(slot.current);
            }
            DaemonSpec spec = specs.get(slot.name);
            InstalledPlugin next = spec == null ? null
                    : fresh.plugins().stream().filter(p -> p.name().equals(spec.plugin())).findFirst().orElse(null);
            if (next == null) {
                log.info("hot deploy: the new {} no longer provides daemon '{}'; stopping it", path.getFileName(), slot.name);
                stopAndRemove(slot);
            } else {
                swap(slot, spec, next);
            }
        }
        for (DaemonSpec spec : resolution.daemons()) {
            boolean fromFresh = fresh.plugins().stream().anyMatch(p -> p.name().equals(spec.plugin()));
            if (fromFresh && !slots.containsKey(spec.name())) {
                startSlot(addSlot(spec, plugin(spec.plugin())));
            }
        }
        // The old version's class loader goes once every instance that ran it has ended (a daemon
        // whose new version failed keeps running the old one until it stops).
        unloader.unloadWhenDone(old, oldInstances, transport);
    }

    /**
     * Swaps one daemon to a new plugin version: the new instance takes over the listeners (new
     * connections go to it from that moment), the old one retires (its open connections finish on
     * it). If the new version fails, the old one keeps serving.
     */
    private void swap(DaemonSlot slot, DaemonSpec spec, InstalledPlugin next) {
        DaemonInstance old = slot.current;
        boolean oldRunning = old != null && old.state() == DaemonState.RUNNING;
        DaemonInstance fresh = new DaemonInstance(spec, next, services, registry,
                failed -> control.execute(() -> onFailed(slot, failed)));
        try {
            fresh.configure();
        } catch (ConfigError e) {
            fresh.markFailed("its config is wrong: " + e.getMessage(), null);
        }
        if (fresh.state() == DaemonState.STARTING) {
            fresh.start(oldRunning ? old.handOver() : HandOver.NONE).join();   // the old one serves while the new one gets ready
        }
        if (fresh.state() != DaemonState.RUNNING) {
            if (oldRunning) {
                old.reattach();
                log.error("hot deploy: version {} of daemon '{}' failed ({}); version {} keeps serving",
                        next.version(), slot.name, fresh.failure(), old.plugin().version());
                return;
            }
            slot.current = fresh;
            slot.plugin = next;
            slot.spec = spec;
            return;
        }
        slot.current = fresh;
        slot.plugin = next;
        slot.spec = spec;
        log.info("hot deploy: daemon '{}' now runs version {} from {}; new connections go to it", slot.name,
                next.version(), next.source().getFileName());
        if (oldRunning) {
            old.retire(settings.grace());
        }
    }

    // ------------------------------------------------------------------ views

    /** A snapshot of one daemon for status, health and metrics (safe from any thread). */
    public static final class SlotView {
        private final DaemonSlot slot;

        SlotView(DaemonSlot slot) {
            this.slot = slot;
        }

        public String name() {
            return slot.name;
        }

        public String plugin() {
            return slot.plugin.name();
        }

        public String version() {
            return slot.plugin.version();
        }

        public Path source() {
            return slot.plugin.source();
        }

        public DaemonState state() {
            return slot.state();
        }

        public int restarts() {
            return slot.restarts;
        }

        public String lastFailure() {
            return slot.lastFailure;
        }

        public long lastFailureMillis() {
            return slot.lastFailureMillis;
        }

        /** The current instance (may change at any time), or null. */
        public DaemonInstance instance() {
            return slot.current;
        }
    }

    private void refreshViews() {
        List<SlotView> v = new ArrayList<>();
        for (DaemonSlot slot : slots.values()) {
            v.add(new SlotView(slot));
        }
        views = List.copyOf(v);
    }

    public List<SlotView> views() {
        return views;
    }

    public void addListener(LauncherListener listener) {
        listeners.add(listener);
        for (SlotView v : views) {
            listener.slotAdded(v);
        }
    }

    /** The current instance of a daemon, or null (for tests and the admin endpoint). */
    public DaemonInstance daemon(String name) {
        for (SlotView v : views) {
            if (v.name().equals(name)) {
                return v.instance();
            }
        }
        return null;
    }

    public List<PluginFailure> pluginFailures() {
        return pluginFailures;
    }

    public List<String> unresolvedDaemons() {
        return unresolved;
    }

    public Transport transport() {
        return transport;
    }

    /** The process's connection budget (null before start). */
    public ConnectionBudget connectionBudget() {
        return connectionBudget;
    }

    public EventLoopTimerWheels wheels() {
        return wheels;
    }

    public LauncherSettings settings() {
        return settings;
    }

    public LoggingSystem logging() {
        return logging;
    }

    public Path pluginsDir() {
        return pluginsDir;
    }

    public Unloader unloader() {
        return unloader;
    }
}
