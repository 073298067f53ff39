package dev.daemonkit.internal.lifecycle;

import com.typesafe.config.Config;
import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.config.DaemonSettings;
import dev.daemonkit.internal.config.DaemonSpec;
import dev.daemonkit.internal.config.LauncherSettings;
import dev.daemonkit.internal.config.RunningConfig;
import dev.daemonkit.internal.plugins.PluginShelf;
import dev.daemonkit.internal.transport.BoundListener;
import dev.daemonkit.internal.transport.DaemonSockets.HandOver;
import dev.daemonkit.internal.transport.ListenerRegistry;
import dev.daemonkit.internal.transport.TlsWatch;
import dev.daemonkit.logging.LoggingSystem;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a reload (SIGHUP, {@code bin/daemonkit reload}): re-reads the config file and the plugins
 * folder and applies what changed, prepare-then-switch. Everything is checked first: the new config
 * whole, then each daemon to start or restart gets its new instance configured and its new addresses
 * bound; any problem rejects the reload with a {@link ConfigError} and the running daemons never
 * notice. Only then are daemons updated in place (limits), offered the new block (the plugin's reload
 * hook), switched to their new instance, started or stopped. Runs on the launcher's control thread.
 */
final class ConfigReload {
    private static final Logger log = LoggerFactory.getLogger(ConfigReload.class);
    private static final String MOVE_A_PORT = " Choose another port (to move a port from one daemon to another,"
            + " free it with one reload and take it with the next)";

    private final RunningConfig running;
    private final PluginShelf shelf;
    private final DaemonTable table;
    private final Supervisor supervisor;
    private final HotDeploy hotDeploy;
    private final ListenerRegistry registry;
    private final LoggingSystem logging;
    private final TlsWatch tls;

    ConfigReload(
            RunningConfig running,
            PluginShelf shelf,
            DaemonTable table,
            Supervisor supervisor,
            HotDeploy hotDeploy,
            ListenerRegistry registry,
            LoggingSystem logging,
            TlsWatch tls) {
        this.tls = tls;
        this.running = running;
        this.shelf = shelf;
        this.table = table;
        this.supervisor = supervisor;
        this.hotDeploy = hotDeploy;
        this.registry = registry;
        this.logging = logging;
    }

    /**
     * Records the daemons whose plugin is not installed. With no plugin file failing, that is a typo
     * in the config: a {@link ConfigError}. With one failing, it may be the plugin those daemons name:
     * they are reported as not started instead.
     */
    static void recordUnresolved(ConfigLoader.Resolution resolution, boolean somePluginFailed, DaemonTable table) {
        if (!resolution.unknownPlugins().isEmpty() && !somePluginFailed) {
            throw new ConfigError(String.join("\n", resolution.unknownPlugins()));
        }
        for (String message : resolution.unknownPlugins()) {
            log.error("daemon not started: {} (Some plugin files failed to load, see above.)", message);
        }
        table.unresolved(resolution.unknownPlugins());
    }

    /** One daemon a reload starts, restarts or updates, with its prepared new instance. */
    private static final class Change {
        enum Kind {
            START,
            RESTART,
            IN_PLACE,
            OFFER
        }

        final Kind kind;
        final DaemonSlot slot;
        final DaemonSpec spec;
        DaemonInstance fresh;
        final List<BoundListener> reserved = new ArrayList<>();

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

    /** Reloads now; throws a {@link ConfigError} (logged) when the reload is rejected and nothing changed. */
    ReloadReport reloadNow() {
        ConfigLoader fresh;
        ConfigLoader.Resolution resolution;
        String scanProblem;
        try {
            fresh = running.reread(ConfigReload.class.getClassLoader());
            scanProblem = hotDeploy.lookNow(true);
            resolution = fresh.resolveDaemons(shelf.references());
            if (!resolution.unknownPlugins().isEmpty() && shelf.failures().isEmpty()) {
                throw new ConfigError(String.join("\n", resolution.unknownPlugins()));
            }
        } catch (ConfigError e) {
            log.error("reload rejected, the running config stays: {}", e.getMessage());
            throw e;
        }
        List<Change> changes = plan(resolution);
        Set<String> wanted = new HashSet<>();
        resolution.daemons().forEach(s -> wanted.add(s.name()));
        Runnable tlsSwap;
        try {
            prepare(changes, wanted);
            // Certificate files are read again at a reload too (not only when the watch sees them change); a
            // file that cannot be used rejects the reload. New instances read theirs when configured.
            Set<String> skip = new HashSet<>();
            changes.stream().filter(c -> c.fresh != null).forEach(c -> skip.add(c.spec.name()));
            table.slots().stream().filter(s -> !wanted.contains(s.name)).forEach(s -> skip.add(s.name));
            tlsSwap = tls.prepareReload(skip);
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
        if (running.settings().startOnlyDiffers(fresh.launcherSettings())) {
            notes.add("daemonkit.transport, .timers and .admin changes take effect at the next launcher start");
        }
        Config oldLogging = running.loader().framework().getConfig("logging");
        Config newLogging = fresh.framework().getConfig("logging");
        if (!oldLogging.equals(newLogging) && logging != null) {
            applyGlobalLevels(oldLogging, newLogging, notes);
        }
        running.switchTo(fresh);
        recordUnresolved(resolution, !shelf.failures().isEmpty(), table);
        ReloadReport report = apply(changes, wanted, notes);
        tlsSwap.run();
        log.info("{}", report);
        return report;
    }

    /** What each daemon of the new config needs; changes nothing. */
    private List<Change> plan(ConfigLoader.Resolution resolution) {
        List<Change> changes = new ArrayList<>();
        for (DaemonSpec spec : resolution.daemons()) {
            DaemonSlot slot = table.get(spec.name());
            if (slot == null) {
                changes.add(new Change(Change.Kind.START, new DaemonSlot(spec, shelf.plugin(spec.plugin())), spec));
                continue;
            }
            DaemonSettings.Difference difference = DaemonSettings.compare(slot.spec.block(), spec.block());
            if (difference == DaemonSettings.Difference.NONE) {
                continue;
            }
            boolean samePlugin = slot.spec.plugin().equals(spec.plugin());
            DaemonInstance current = slot.current;
            boolean isRunning = current != null && current.state() == DaemonState.RUNNING;
            Change.Kind kind = !samePlugin || !isRunning || difference == DaemonSettings.Difference.AT_START
                    ? Change.Kind.RESTART
                    : difference == DaemonSettings.Difference.IN_PLACE ? Change.Kind.IN_PLACE : Change.Kind.OFFER;
            changes.add(new Change(kind, slot, spec));
        }
        return changes;
    }

    /** The switch, once everything is prepared: nothing here is refused any more. */
    private ReloadReport apply(List<Change> changes, Set<String> wanted, List<String> notes) {
        List<String> started = new ArrayList<>();
        List<String> restarted = new ArrayList<>();
        List<String> updated = new ArrayList<>();
        List<String> stopped = new ArrayList<>();
        for (Change c : changes) {
            DaemonSpec spec = c.spec;
            DaemonSlot slot = c.slot;
            if (c.kind == Change.Kind.START) {
                table.add(slot);
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
        for (DaemonSlot slot : table.slots()) {
            if (!wanted.contains(slot.name)) {
                supervisor.stopAndRemove(slot, running.settings().shutdown());
                stopped.add(slot.name);
            }
        }
        table.publish();
        return new ReloadReport(started, restarted, updated, stopped, notes);
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
            DaemonInstance fresh = supervisor.newInstance(c.slot, c.spec, shelf.plugin(c.spec.plugin()));
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
        Map<String, DeclaredAddress> claimed = new HashMap<>();
        Map<String, String> kept = new HashMap<>(); // address label -> the daemon that keeps it, and how
        Set<String> replaced = new HashSet<>();
        changes.stream().filter(c -> c.fresh != null).forEach(c -> replaced.add(c.spec.name()));
        for (DaemonSlot slot : table.slots()) {
            DaemonInstance i = slot.current;
            if (wanted.contains(slot.name) && !replaced.contains(slot.name) && i != null) {
                // A stopped or failed daemon keeps its addresses too: it may be started again.
                String how = i.state() == DaemonState.RUNNING
                        ? "listens there"
                        : "is configured there (it is " + i.state() + ")";
                for (DeclaredAddress a : i.declaredAddresses()) {
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
            for (DeclaredAddress a : c.fresh.declaredAddresses()) {
                if (a.address().getPort() == 0) {
                    continue; // an ephemeral port never clashes
                }
                DeclaredAddress other = claimed.putIfAbsent(a.label(), a);
                if (other != null && kept.containsKey(a.label())) {
                    errors.add("daemon '" + c.spec.name() + "' cannot move to " + a.label() + " (" + a.where() + "): "
                            + kept.get(a.label()) + " (" + other.where() + "). Choose another port.");
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
        return new ConfigError(
                errors.size() == 1
                        ? errors.get(0)
                        : errors.size() + " problems:\n  - " + String.join("\n  - ", errors));
    }

    /** Binds a new TCP address of a prepared instance now; returns what holds it if it cannot be bound. */
    private String reserve(Change c, DeclaredAddress a) {
        String holder = registry.holder(a.address());
        if (holder != null && holder.equals(c.spec.name())) {
            return null; // its own socket: the new instance takes it over
        }
        if (holder != null) {
            return "daemon '" + holder + "' of this launcher listens there." + MOVE_A_PORT;
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
    private String checkDatagram(Change c, DeclaredAddress a) {
        for (DaemonSlot slot : table.slots()) {
            DaemonInstance i = slot.current;
            if (i == null || i.state().isTerminal()) {
                continue;
            }
            for (var l : i.listeners()) {
                if (l.transport().equals("udp") && a.address().equals(l.address())) {
                    return slot.name.equals(c.spec.name())
                            ? null
                            : "daemon '" + slot.name + "' of this launcher listens there." + MOVE_A_PORT;
                }
            }
        }
        try (DatagramSocket probe = new DatagramSocket(a.address())) {
            return null;
        } catch (IOException e) {
            return inUse(a, e);
        }
    }

    private String inUse(DeclaredAddress a, Throwable cause) {
        String message = String.valueOf(cause.getMessage());
        if (!(cause instanceof BindException) && !message.contains("in use")) {
            return "it cannot be bound (" + message + ")";
        }
        for (DaemonStatus v : table.statuses()) {
            DaemonInstance i = v.instance();
            if (i != null && !i.state().isTerminal()) {
                for (var l : i.listeners()) {
                    InetSocketAddress b = l.boundAddress();
                    if (b != null
                            && b.getPort() == a.address().getPort()
                            && l.transport().equals(a.transport())) {
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
        supervisor.release(slot);
        DaemonInstance old = slot.current;
        DaemonInstance fresh = c.fresh;
        boolean oldRunning = old != null && old.state() == DaemonState.RUNNING;
        // Waits for a start that finishes later (at most its start-timeout); the old instance serves meanwhile.
        fresh.start(oldRunning ? old.handOver() : HandOver.NONE).join();
        c.releaseReserved(registry);
        if (fresh.state() != DaemonState.RUNNING && oldRunning) {
            old.reattach();
            log.error(
                    "reload: daemon '{}' failed with its new config ({}); it serves on with the old one",
                    slot.name,
                    fresh.failure());
            notes.add("daemon '" + slot.name + "' keeps its old config: the new one failed: " + fresh.failure());
            return;
        }
        slot.current = fresh;
        slot.spec = c.spec;
        slot.plugin = fresh.plugin();
        if (oldRunning) {
            LauncherSettings.Shutdown shutdown = running.settings().shutdown();
            old.replaced(shutdown.grace(), shutdown.quietPeriod());
        }
    }

    /** Levels change now; the outputs (files, formats, rolling) only at the next start, which a note says. */
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
            notes.add(
                    "daemonkit.logging outputs (files, formats, rolling) change at the next launcher start; levels changed now");
        }
    }
}
