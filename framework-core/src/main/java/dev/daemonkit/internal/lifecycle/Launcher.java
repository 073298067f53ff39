package dev.daemonkit.internal.lifecycle;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import com.typesafe.config.Config;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.config.DaemonSpec;
import dev.daemonkit.internal.config.LauncherSettings;
import dev.daemonkit.internal.plugins.InstalledPlugin;
import dev.daemonkit.internal.plugins.PluginClassLoader;
import dev.daemonkit.internal.plugins.PluginFailure;
import dev.daemonkit.internal.plugins.PluginScanner;
import dev.daemonkit.internal.transport.Transport;
import dev.daemonkit.logging.LoggingSystem;
import dev.daemonkit.timers.EventLoopTimerWheels;
import dev.daemonkit.timers.TimerWheelSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every daemon of one process: loads the plugins, resolves and validates every daemon's config
 * (stopping with a {@link ConfigError} before anything is bound), configures and binds each daemon
 * independently, and stops them all gracefully.
 */
public final class Launcher {
    private static final Logger log = LoggerFactory.getLogger(Launcher.class);

    private final ConfigLoader config;
    private final LauncherSettings settings;
    private final Path pluginsDir;
    private final LoggingSystem logging;
    private final Map<String, DaemonInstance> daemons = new LinkedHashMap<>();
    private final List<PluginFailure> pluginFailures = new ArrayList<>();
    private final List<String> unresolved = new ArrayList<>();
    private Map<String, InstalledPlugin> plugins = Map.of();
    private Transport transport;
    private EventLoopTimerWheels wheels;
    private final ExecutorService lifecycle = Executors.newCachedThreadPool(new DefaultThreadFactory("daemonkit-lifecycle", true));

    public Launcher(ConfigLoader config, Path pluginsDir, LoggingSystem logging) {
        this.config = config;
        this.settings = config.launcherSettings();
        this.pluginsDir = pluginsDir;
        this.logging = logging;
    }

    /**
     * Starts everything. Throws {@link ConfigError} (after releasing what it created) when the config
     * is wrong; a daemon that fails on its own is FAILED and the others run.
     */
    public void start() {
        long t0 = System.nanoTime();
        try {
            startUnchecked();
        } catch (RuntimeException | Error e) {
            releaseAll();
            throw e;
        }
        long running = daemons.values().stream().filter(d -> d.state() == dev.daemonkit.api.DaemonState.RUNNING).count();
        int failed = daemons.size() - (int) running + unresolved.size();
        log.info("Daemonkit started in {} ms: {} daemon(s) running{}", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                running, failed + pluginFailures.size() == 0 ? ""
                        : ", " + failed + " failed, " + pluginFailures.size() + " plugin(s) not loaded (see the errors above)");
    }

    private void startUnchecked() {
        PluginScanner.Result scan = new PluginScanner(Launcher.class.getClassLoader()).scan(pluginsDir);
        plugins = scan.plugins();
        pluginFailures.addAll(scan.failures());
        Map<String, Config> references = new LinkedHashMap<>();
        plugins.forEach((name, p) -> references.put(name, p.reference()));

        ConfigLoader.Resolution resolution = config.resolveDaemons(references);
        if (!resolution.unknownPlugins().isEmpty()) {
            if (pluginFailures.isEmpty()) {
                throw new ConfigError(String.join("\n", resolution.unknownPlugins()));
            }
            // A broken jar may be the plugin these blocks name: report them as failed, not as a typo.
            for (String message : resolution.unknownPlugins()) {
                log.error("daemon not started: {} (Some plugin files failed to load, see above.)", message);
                unresolved.add(message);
            }
        }

        transport = Transport.create(settings.transport(), settings.ioThreads());
        wheels = EventLoopTimerWheels.create(transport.workers(),
                new TimerWheelSettings(settings.timerTick(), settings.wheelSize()));
        Injector root = Guice.createInjector(Stage.PRODUCTION, new AbstractModule() {
            @Override
            protected void configure() {
                bind(LauncherSettings.class).toInstance(settings);
            }
        });
        FrameworkServices services = new FrameworkServices(settings, transport, wheels, root, lifecycle);

        for (DaemonSpec spec : resolution.daemons()) {
            if (logging != null) {
                logging.addDaemon(spec.name(), spec.block().getConfig("logging"));
            }
            daemons.put(spec.name(), new DaemonInstance(spec, plugins.get(spec.plugin()), services));
        }
        // Phase 1: every daemon declares its listeners. Config errors stop the launch here, before any bind.
        List<String> configErrors = new ArrayList<>();
        for (DaemonInstance d : daemons.values()) {
            try {
                d.configure();
            } catch (ConfigError e) {
                configErrors.add(e.getMessage());
            }
        }
        Map<String, DaemonInstance.DeclaredAddress> claimed = new HashMap<>();
        for (DaemonInstance d : daemons.values()) {
            for (DaemonInstance.DeclaredAddress a : d.declaredAddresses()) {
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
        // Phase 2: bind; a daemon whose port is taken fails alone.
        for (DaemonInstance d : daemons.values()) {
            d.bind();
        }
    }

    /** Stops every daemon in parallel, each draining for up to the grace period, then the loops. */
    public void stop() {
        long t0 = System.nanoTime();
        log.info("Daemonkit stopping: {} daemon(s), grace {} ms", daemons.size(), settings.grace().toMillis());
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (DaemonInstance d : daemons.values()) {
            stops.add(d.stop(settings.grace(), settings.quietPeriod()));
        }
        try {
            CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
                    .get(settings.grace().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("not every daemon stopped within the grace period: {}", e.toString());
        }
        releaseAll();
        log.info("Daemonkit stopped in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    private void releaseAll() {
        for (DaemonInstance d : daemons.values()) {
            d.abandon();
        }
        if (wheels != null) {
            wheels.close();
            wheels = null;
        }
        if (transport != null) {
            transport.close();
            transport = null;
        }
        lifecycle.shutdown();
        Map<PluginClassLoader, Boolean> loaders = new IdentityHashMap<>();
        plugins.values().forEach(p -> loaders.put(p.loader(), true));
        for (PluginClassLoader l : loaders.keySet()) {
            try {
                l.close();
            } catch (IOException e) {
                log.debug("closing {} failed", l, e);
            }
        }
    }

    public Map<String, DaemonInstance> daemons() {
        return Map.copyOf(daemons);
    }

    public DaemonInstance daemon(String name) {
        return daemons.get(name);
    }

    public List<PluginFailure> pluginFailures() {
        return List.copyOf(pluginFailures);
    }

    public List<String> unresolvedDaemons() {
        return List.copyOf(unresolved);
    }

    public Transport transport() {
        return transport;
    }
}
