package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.config.DaemonSpec;
import dev.daemonkit.internal.config.RunningConfig;
import dev.daemonkit.internal.plugins.InstalledPlugin;
import dev.daemonkit.internal.plugins.LoadedSource;
import dev.daemonkit.internal.plugins.PluginShelf;
import dev.daemonkit.internal.transport.DaemonSockets.HandOver;
import dev.daemonkit.internal.transport.Transport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the plugins folder while daemons run: a new plugin file starts its daemons, a replaced one
 * swaps each daemon to the new version (the new instance takes over the listeners, the old one
 * retires with its open connections), a removed one stops its daemons; an old version's class loader
 * is unloaded once every instance that ran it has ended. The {@link PluginShelf} says what changed.
 * Runs on the launcher's control thread.
 */
final class HotDeploy {
    private static final Logger log = LoggerFactory.getLogger(HotDeploy.class);

    private final PluginShelf shelf;
    private final DaemonTable table;
    private final Supervisor supervisor;
    private final RunningConfig running;
    private final Unloader unloader;
    private final Transport transport;
    private ScheduledFuture<?> watcher;
    private volatile boolean stopping;

    HotDeploy(
            PluginShelf shelf,
            DaemonTable table,
            Supervisor supervisor,
            RunningConfig running,
            Unloader unloader,
            Transport transport) {
        this.shelf = shelf;
        this.table = table;
        this.supervisor = supervisor;
        this.running = running;
        this.unloader = unloader;
        this.transport = transport;
    }

    /** Looks at the folder every {@code interval} on {@code control}, from now until {@link #stop}. */
    void watchEvery(Duration interval, ScheduledExecutorService control) {
        long every = interval.toMillis();
        watcher = control.scheduleWithFixedDelay(this::watch, every, every, TimeUnit.MILLISECONDS);
    }

    /** No look from now on. */
    void stop() {
        stopping = true;
        if (watcher != null) {
            watcher.cancel(false);
        }
    }

    private void watch() {
        try {
            lookNow(false);
        } catch (RuntimeException | Error e) {
            log.error("scanning the plugins folder failed; will try again", e);
        }
    }

    /**
     * One look at the folder, acting on what changed ({@code immediately}: a changed file is loaded
     * at this look, for a reload, instead of once it has been the same at two). Returns the problem
     * that kept this look from reading the folder or a file (nothing was changed for it), or null.
     */
    String lookNow(boolean immediately) {
        if (stopping) {
            return null;
        }
        PluginShelf.Look look = shelf.look(immediately);
        for (PluginShelf.Ready r : look.ready()) {
            LoadedSource loaded = shelf.get(r.path());
            if (loaded == null) {
                add(r.path(), r.fingerprint());
            } else {
                replace(loaded, r.path(), r.fingerprint());
            }
        }
        for (LoadedSource gone : look.gone()) {
            remove(gone);
        }
        if (look.changed()) {
            table.publish();
        }
        return look.problem();
    }

    private ConfigLoader.Resolution resolve() {
        return running.loader().resolveDaemons(shelf.references());
    }

    private void add(Path path, String fp) {
        LoadedSource loaded = shelf.load(path, fp, null);
        if (loaded == null) {
            return;
        }
        shelf.put(loaded);
        ConfigLoader.Resolution resolution;
        try {
            resolution = resolve();
        } catch (ConfigError e) {
            log.error("plugin {} loaded, but its daemons do not start: {}", path, e.getMessage());
            return;
        }
        Set<String> names = new HashSet<>();
        loaded.plugins().forEach(p -> names.add(p.name()));
        for (DaemonSpec spec : resolution.daemons()) {
            if (names.contains(spec.plugin()) && table.get(spec.name()) == null) {
                log.info("hot deploy: starting daemon '{}' from new plugin file {}", spec.name(), path.getFileName());
                startNew(spec);
            }
        }
        table.unresolved(resolution.unknownPlugins());
    }

    private void startNew(DaemonSpec spec) {
        DaemonSlot slot = new DaemonSlot(spec, shelf.plugin(spec.plugin()));
        table.add(slot);
        supervisor.start(slot);
    }

    private void remove(LoadedSource source) {
        log.info("hot deploy: {} was removed; stopping its daemons", source.source());
        shelf.remove(source);
        List<DaemonInstance> instances = new ArrayList<>();
        for (DaemonSlot slot : table.slots()) {
            if (source.plugins().contains(slot.plugin)) {
                if (slot.current != null) {
                    instances.add(slot.current);
                }
                supervisor.stopAndRemove(slot, running.settings().shutdown());
            }
        }
        unloader.unloadWhenDone(source, instances, transport);
    }

    private void replace(LoadedSource old, Path path, String fp) {
        LoadedSource fresh = shelf.load(path, fp, old);
        if (fresh == null) {
            log.error("hot deploy: the new {} could not be loaded (see above); the running version stays", path);
            return;
        }
        shelf.put(fresh);
        ConfigLoader.Resolution resolution;
        try {
            resolution = resolve();
        } catch (ConfigError e) {
            shelf.refuse(fresh, old, fp);
            log.error(
                    "hot deploy: the new {} does not fit the config ({}); the running version stays",
                    path,
                    e.getMessage());
            return;
        }
        Map<String, DaemonSpec> specs = new LinkedHashMap<>();
        resolution.daemons().forEach(s -> specs.put(s.name(), s));
        List<DaemonInstance> oldInstances = new ArrayList<>();
        for (DaemonSlot slot : table.slots()) {
            if (!old.plugins().contains(slot.plugin)) {
                continue;
            }
            if (slot.current != null) {
                oldInstances.add(slot.current);
            }
            DaemonSpec spec = specs.get(slot.name);
            InstalledPlugin next = spec == null
                    ? null
                    : fresh.plugins().stream()
                            .filter(p -> p.name().equals(spec.plugin()))
                            .findFirst()
                            .orElse(null);
            if (next == null) {
                log.info(
                        "hot deploy: the new {} no longer provides daemon '{}'; stopping it",
                        path.getFileName(),
                        slot.name);
                supervisor.stopAndRemove(slot, running.settings().shutdown());
            } else {
                swap(slot, spec, next);
            }
        }
        for (DaemonSpec spec : resolution.daemons()) {
            boolean fromFresh = fresh.plugins().stream().anyMatch(p -> p.name().equals(spec.plugin()));
            if (fromFresh && table.get(spec.name()) == null) {
                startNew(spec);
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
        DaemonInstance fresh = supervisor.newInstance(slot, spec, next);
        try {
            fresh.configure();
        } catch (ConfigError e) {
            fresh.markFailed("its config is wrong: " + e.getMessage(), null);
        }
        if (fresh.state() == DaemonState.STARTING) {
            // Waits for a start that finishes later (at most its start-timeout); the old version serves meanwhile.
            fresh.start(oldRunning ? old.handOver() : HandOver.NONE).join();
        }
        if (fresh.state() != DaemonState.RUNNING) {
            if (oldRunning) {
                old.reattach();
                log.error(
                        "hot deploy: version {} of daemon '{}' failed ({}); version {} keeps serving",
                        next.version(),
                        slot.name,
                        fresh.failure(),
                        old.plugin().version());
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
        log.info(
                "hot deploy: daemon '{}' now runs version {} from {}; new connections go to it",
                slot.name,
                next.version(),
                next.source().getFileName());
        if (oldRunning) {
            old.retire(running.settings().shutdown().grace());
        }
    }
}
