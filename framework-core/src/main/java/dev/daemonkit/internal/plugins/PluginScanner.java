package dev.daemonkit.internal.plugins;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.daemonkit.api.DaemonPlugin;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scans the plugins folder. Each {@code *.jar} file, and each folder of jars, is one plugin source
 * with its own {@link PluginClassLoader}; {@link ServiceLoader} finds its {@link DaemonPlugin}
 * providers. A broken source (not a jar, a provider class missing, a constructor that throws, a bad
 * reference.conf, a duplicate name) becomes a {@link PluginFailure} and never affects the others.
 */
public final class PluginScanner {
    private static final Logger log = LoggerFactory.getLogger(PluginScanner.class);
    private static final Pattern PLUGIN_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    static final String SERVICE_FILE = "META-INF/services/" + DaemonPlugin.class.getName();

    private final ClassLoader framework;

    public PluginScanner(ClassLoader framework) {
        this.framework = framework;
    }

    /** What a scan found. */
    public record Result(Map<String, InstalledPlugin> plugins, List<PluginFailure> failures) {
    }

    public Result scan(Path dir) {
        Map<String, InstalledPlugin> plugins = new LinkedHashMap<>();
        List<PluginFailure> failures = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            log.warn("plugins folder {} does not exist: no plugins loaded. Create it and put plugin jars there.", dir);
            return new Result(plugins, failures);
        }
        List<Path> entries;
        try (Stream<Path> s = Files.list(dir)) {
            entries = s.sorted().toList();
        } catch (IOException e) {
            log.error("plugins folder {} cannot be listed: {}. No plugins loaded.", dir, e.toString());
            return new Result(plugins, failures);
        }
        for (Path entry : entries) {
            String file = entry.getFileName().toString();
            if (file.startsWith(".")) {
                continue;
            }
            if (Files.isDirectory(entry) || file.endsWith(".jar")) {
                load(entry, plugins, failures);
            } else {
                log.info("ignoring {}: a plugin is a .jar file or a folder of jars", entry);
            }
        }
        for (PluginFailure f : failures) {
            log.error("plugin {} not loaded: {} The other plugins are not affected.", f.source(), f.reason());
        }
        return new Result(plugins, failures);
    }

    private void load(Path source, Map<String, InstalledPlugin> plugins, List<PluginFailure> failures) {
        List<Path> jars;
        try {
            jars = jarsOf(source);
        } catch (IOException e) {
            failures.add(new PluginFailure(source, "cannot be read: " + e.getMessage() + "."));
            return;
        }
        if (jars.isEmpty()) {
            failures.add(new PluginFailure(source, "the folder holds no .jar files. Put the plugin's jar and the"
                    + " libraries it bundles in it."));
            return;
        }
        List<URL> urls = new ArrayList<>();
        for (Path jar : jars) {
            try (JarFile ignored = new JarFile(jar.toFile())) {
                urls.add(jar.toUri().toURL());
            } catch (IOException e) {
                failures.add(new PluginFailure(source, (jar.equals(source) ? "" : jar.getFileName() + " ")
                        + "is not a readable jar (" + e.getMessage() + "). Replace it with a jar built for Daemonkit."));
                return;
            }
        }
        String id = source.getFileName().toString().replaceFirst("\\.jar$", "");
        PluginClassLoader loader = new PluginClassLoader(id, urls, framework);
        Config reference;
        try {
            reference = ConfigFactory.parseResources(loader, "reference.conf",
                    ConfigParseOptions.defaults().setOriginDescription(source.getFileName() + "!/reference.conf"));
        } catch (ConfigException e) {
            failures.add(new PluginFailure(source, "its reference.conf cannot be parsed: " + e.getMessage() + "."));
            closeQuietly(loader);
            return;
        }
        int found = 0;
        Iterator<DaemonPlugin> it = ServiceLoader.load(DaemonPlugin.class, loader).iterator();
        while (true) {
            DaemonPlugin plugin;
            try {
                if (!it.hasNext()) {
                    break;
                }
                plugin = it.next();
            } catch (ServiceConfigurationError | LinkageError e) {
                failures.add(new PluginFailure(source, "a provider in " + SERVICE_FILE + " cannot be created: "
                        + describe(e) + "."));
                found++;
                continue;
            }
            found++;
            String name;
            try {
                name = plugin.name();
            } catch (RuntimeException | LinkageError e) {
                failures.add(new PluginFailure(source, plugin.getClass().getName() + ".name() threw " + e + "."));
                continue;
            }
            if (name == null || !PLUGIN_NAME.matcher(name).matches()) {
                failures.add(new PluginFailure(source, plugin.getClass().getName() + ".name() returned '" + name
                        + "': a plugin name must be lower-case letters, digits and dashes."));
                continue;
            }
            InstalledPlugin other = plugins.get(name);
            if (other != null) {
                failures.add(new PluginFailure(source, "it provides plugin '" + name + "', which "
                        + other.source() + " provides already. Remove one of them."));
                continue;
            }
            plugins.put(name, new InstalledPlugin(name, source, versionOf(plugin.getClass()), loader,
                    plugin.getClass(), reference, plugin));
            log.info("plugin '{}' version {} loaded from {}", name, versionOf(plugin.getClass()), source);
        }
        if (found == 0) {
            failures.add(new PluginFailure(source, "no DaemonPlugin found. Add " + SERVICE_FILE
                    + " naming your plugin class."));
        }
        if (plugins.values().stream().noneMatch(p -> p.loader() == loader)) {
            closeQuietly(loader);
        }
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(e.getMessage() == null ? e.toString() : e.getMessage());
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            sb.append("; caused by ").append(c);
        }
        return sb.toString();
    }

    private static String versionOf(Class<?> type) {
        Package p = type.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "unversioned" : v;
    }

    private static List<Path> jarsOf(Path source) throws IOException {
        if (!Files.isDirectory(source)) {
            return List.of(source);
        }
        try (Stream<Path> s = Files.list(source)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
    }

    private static void closeQuietly(PluginClassLoader loader) {
        try {
            loader.close();
        } catch (IOException e) {
            log.debug("closing {} failed", loader, e);
        }
    }
}
