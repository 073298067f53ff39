package dev.daemonkit.internal.lifecycle;

import com.google.inject.Injector;
import com.typesafe.config.ConfigException;
import dev.daemonkit.api.DaemonPlugin;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.plugins.InstalledPlugin;

/**
 * Creates a daemon's plugin object and its injector and runs its {@code configure}, on the plugin's
 * class loader (as the thread's context loader). A {@link ConfigError} (a bad address, a config key of
 * the wrong type) propagates, so a launch can stop before binding anything; any other failure is
 * returned, for the instance to become FAILED with it.
 */
final class PluginConfigure {
    /** Why configuring failed, with what was thrown. */
    record Failed(String reason, Throwable cause) {}

    private PluginConfigure() {}

    /** Null when {@code configure} returned normally. */
    static Failed run(String name, InstalledPlugin plugin, FrameworkServices services, InstanceContext context) {
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        t.setContextClassLoader(plugin.loader());
        try {
            DaemonPlugin instance;
            try {
                instance = plugin.newInstance();
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                return new Failed(
                        "its plugin class " + plugin.name() + " could not be created: " + Failures.rootMessage(e), e);
            }
            try {
                Injector injector =
                        services.rootInjector().createChildInjector(new DaemonModule(context), instance.module());
                context.injector(injector);
                injector.injectMembers(instance);
            } catch (RuntimeException | LinkageError e) {
                return new Failed("its Guice bindings failed: " + Failures.rootMessage(e), e);
            }
            context.declaring(true);
            try {
                instance.configure(context);
                return null;
            } catch (ConfigError e) {
                throw e;
            } catch (ConfigException e) {
                throw new ConfigError(
                        "daemon '" + name + "': " + e.getMessage() + ". Fix daemons." + name + " in the config.", e);
            } catch (Exception | LinkageError e) {
                return new Failed(
                        instance.getClass().getSimpleName() + ".configure threw " + Failures.rootMessage(e)
                                + Failures.where(e),
                        e);
            } finally {
                context.declaring(false);
            }
        } finally {
            t.setContextClassLoader(previous);
        }
    }
}
