package dev.daemonkit.internal.plugins;

import com.typesafe.config.Config;
import dev.daemonkit.api.DaemonPlugin;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Path;

/**
 * One plugin found in a jar (or folder of jars): its provider class, loader and reference.conf. A
 * jar listing several providers yields several of these sharing one loader.
 */
public final class InstalledPlugin {
    private final String name;
    private final Path source;
    private final String version;
    private final PluginClassLoader loader;
    private final Class<? extends DaemonPlugin> type;
    private final Config reference;
    private DaemonPlugin spare;

    InstalledPlugin(
            String name,
            Path source,
            String version,
            PluginClassLoader loader,
            Class<? extends DaemonPlugin> type,
            Config reference,
            DaemonPlugin first) {
        this.name = name;
        this.source = source;
        this.version = version;
        this.loader = loader;
        this.type = type;
        this.reference = reference;
        this.spare = first;
    }

    public String name() {
        return name;
    }

    public Path source() {
        return source;
    }

    public String version() {
        return version;
    }

    public PluginClassLoader loader() {
        return loader;
    }

    /** The plugin's own reference.conf (empty if it ships none). */
    public Config reference() {
        return reference;
    }

    /**
     * A fresh provider instance for one daemon instance. The instance made at discovery (to read
     * its name) is handed out first, so a plugin with one instance is constructed once.
     */
    public synchronized DaemonPlugin newInstance() throws ReflectiveOperationException {
        if (spare != null) {
            DaemonPlugin p = spare;
            spare = null;
            return p;
        }
        try {
            return type.getConstructor().newInstance();
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception ex ? new ReflectiveOperationException(ex.toString(), ex) : e;
        }
    }

    @Override
    public String toString() {
        return name + " (" + source.getFileName() + ")";
    }
}
