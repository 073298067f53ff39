package dev.daemonkit.api;

import com.google.inject.Module;

/**
 * The service a plugin jar provides: one kind of daemon. Listed by class name in
 * {@code META-INF/services/dev.daemonkit.api.DaemonPlugin}; a jar may list several.
 *
 * <p>The framework creates one instance of the provider class per daemon instance (it needs a public
 * no-argument constructor), injects its {@code @Inject} fields and methods from the daemon's injector,
 * and calls {@link #configure(DaemonContext)}.
 */
public interface DaemonPlugin {

    /**
     * The plugin's name: the default daemon instance's name, its config block {@code daemons.NAME}
     * (from the plugin's {@code reference.conf}), and the value of {@code plugin = NAME} that further
     * named instances use. Lower-case letters, digits and dashes.
     */
    String name();

    /**
     * Guice bindings of this plugin, installed into the daemon instance's own child injector.
     * Plugins never see each other's bindings. To combine several modules, use Guice's
     * {@code com.google.inject.util.Modules.combine}.
     */
    default Module module() {
        return binder -> {};
    }

    /**
     * Called by the framework, once per daemon instance, while the daemon is STARTING, on a launcher
     * thread; do not call it yourself. Declare listeners ({@link DaemonContext#listen}), timers,
     * lifecycle hooks and a start that finishes later ({@link DaemonContext#readyWhen}) here. Throwing
     * marks only this daemon FAILED; the others keep running. A
     * {@link com.typesafe.config.ConfigException} thrown here is reported as a configuration error.
     */
    void configure(DaemonContext daemon) throws Exception;
}
