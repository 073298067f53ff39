package dev.daemonkit.internal.plugins;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.daemonkit.api.DaemonPlugin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and loads plugin sources, one at a time ({@link PluginShelf} keeps what is loaded). Each {@code *.jar} file, and each folder of jars, is one source
 * with its own {@link PluginClassLoader}; {@link ServiceLoader} finds its {@link DaemonPlugin}
 * providers. A source is loaded from a private copy, so the file in {@code plugins/} can be replaced
 * or deleted while its classes are in use (a class loader reading a jar that is being overwritten
 * would fail in odd places). A broken source (not a jar, a provider class missing, a constructor that
 * throws, a bad reference.conf) becomes a {@link PluginFailure} and never affects the others.
 */
public final class PluginScanner {
    private static final Logger log = LoggerFactory.getLogger(PluginScanner.class);
    private static final Pattern PLUGIN_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    static final String SERVICE_FILE = "META-INF/services/" + DaemonPlugin.class.getName();
    private static final AtomicLong COPIES = new AtomicLong();

    private final ClassLoader framework;
    private final Path copies;

    /** @param copies folder for private copies of loaded sources (created when needed) */
    public PluginScanner(ClassLoader framework, Path copies) {
        this.framework = framework;
        this.copies = copies;
        SharedClassInit.run(framework); // before any plugin code runs: see SharedClassInit
    }

    /**
     * The plugin sources in {@code dir}: jar files and folders, sorted; hidden files are skipped. For
     * the start only: a folder that is missing or cannot be listed yields an empty list (logged).
     */
    public static List<Path> sources(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try {
            return list(dir);
        } catch (IOException e) {
            log.error("plugins folder {} cannot be listed: {}", dir, e.toString());
            return List.of();
        }
    }

    /**
     * The plugin sources in {@code dir}, like {@link #sources}, but any error (the folder missing,
     * unreadable, or an entry whose type cannot be read, e.g. when the process is out of file
     * descriptors) is thrown, never returned as an empty or shorter list: the watcher would read
     * that as plugins removed.
     */
    public static List<Path> list(Path dir) throws IOException {
        if (!Files.readAttributes(dir, BasicFileAttributes.class).isDirectory()) {
            throw new NotDirectoryException(dir.toString());
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Iterator<Path> it = s.iterator(); it.hasNext(); ) {
                Path p = it.next();
                String name = p.getFileName().toString();
                if (name.startsWith(".")) {
                    continue;
                }
                if (name.endsWith(".jar") || isDirectory(p)) {
                    out.add(p);
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        out.sort(null);
        return out;
    }

    /** Whether {@code p} is a folder; false if it vanished meanwhile; an error reading its type is thrown. */
    private static boolean isDirectory(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class).isDirectory();
        } catch (NoSuchFileException gone) {
            return false;
        }
    }

    /** Size and modification time of the source's jars: changes when a jar is written or replaced. */
    public static String fingerprint(Path source) {
        try {
            return fingerprintOrThrow(source);
        } catch (IOException e) {
            return "unreadable:" + e.getMessage();
        }
    }

    /**
     * Like {@link #fingerprint}, but a read error is thrown (the watcher then keeps what it runs)
     * instead of becoming a fingerprint that differs from the loaded one. A source that vanished has
     * the empty fingerprint.
     */
    public static String fingerprintOrThrow(Path source) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Path jar : jarsOf(source)) {
            BasicFileAttributes a = Files.readAttributes(jar, BasicFileAttributes.class);
            sb.append(jar.getFileName())
                    .append(':')
                    .append(a.size())
                    .append(':')
                    .append(a.lastModifiedTime().toMillis())
                    .append(';');
        }
        return sb.toString();
    }

    /** Closes a source's loader and deletes its private copy. */
    public static void discard(LoadedSource source) {
        if (source.loader() != null) {
            try {
                source.loader().close();
            } catch (IOException e) {
                log.debug("closing {} failed", source.loader(), e);
            }
        }
        deleteTree(source.copy());
    }

    /** Loads one source from a private copy. Never throws: problems are in the result's failures (and logged). */
    public LoadedSource load(Path source) {
        String fingerprint = fingerprint(source);
        List<PluginFailure> failures = new ArrayList<>();
        List<InstalledPlugin> plugins = new ArrayList<>();
        Path copy = null;
        PluginClassLoader loader = null;
        try {
            List<Path> jars = jarsOf(source);
            if (jars.isEmpty()) {
                failures.add(new PluginFailure(
                        source,
                        "the folder holds no .jar files. Put the plugin's jar and the"
                                + " libraries it bundles in it."));
                return done(source, fingerprint, null, null, plugins, failures);
            }
            for (Path jar : jars) {
                try (JarFile ignored = new JarFile(jar.toFile())) {
                    // readable
                } catch (IOException e) {
                    failures.add(new PluginFailure(
                            source,
                            (jar.equals(source) ? "" : jar.getFileName() + " ") + "is not a readable jar ("
                                    + e.getMessage() + "). Replace it with a jar built for Daemonkit."));
                    return done(source, fingerprint, null, null, plugins, failures);
                }
            }
            String id = source.getFileName().toString().replaceFirst("\\.jar$", "");
            copy = copies.resolve(id + "-" + COPIES.incrementAndGet());
            Files.createDirectories(copy);
            List<URL> urls = new ArrayList<>();
            for (Path jar : jars) {
                Path c = copy.resolve(jar.getFileName().toString());
                Files.copy(jar, c, StandardCopyOption.REPLACE_EXISTING);
                urls.add(c.toUri().toURL());
            }
            loader = new PluginClassLoader(id, urls, framework);
        } catch (IOException e) {
            failures.add(new PluginFailure(source, "cannot be read: " + e.getMessage() + "."));
            deleteTree(copy);
            return done(source, fingerprint, null, null, plugins, failures);
        }
        Config reference;
        try {
            reference = ConfigFactory.parseResources(loader, "reference.conf", ConfigParseOptions.defaults());
        } catch (ConfigException e) {
            failures.add(new PluginFailure(source, "its reference.conf cannot be parsed: " + e.getMessage() + "."));
            return done(source, fingerprint, loader, copy, plugins, failures);
        }
        int found = 0;
        Iterator<DaemonPlugin> it =
                ServiceLoader.load(DaemonPlugin.class, loader).iterator();
        while (true) {
            DaemonPlugin plugin;
            try {
                if (!it.hasNext()) {
                    break;
                }
                plugin = it.next();
            } catch (ServiceConfigurationError | LinkageError e) {
                failures.add(new PluginFailure(
                        source, "a provider in " + SERVICE_FILE + " cannot be created: " + describe(e) + "."));
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
                failures.add(new PluginFailure(
                        source,
                        plugin.getClass().getName() + ".name() returned '" + name
                                + "': a plugin name must be lower-case letters, digits and dashes."));
                continue;
            }
            if (plugins.stream().anyMatch(p -> p.name().equals(name))) {
                failures.add(new PluginFailure(source, "it lists two providers named '" + name + "'."));
                continue;
            }
            String version = versionOf(plugin.getClass());
            plugins.add(new InstalledPlugin(name, source, version, loader, plugin.getClass(), reference, plugin));
            log.info("plugin '{}' version {} loaded from {}", name, version, source);
        }
        if (found == 0) {
            failures.add(new PluginFailure(
                    source, "no DaemonPlugin found. Add " + SERVICE_FILE + " naming your plugin class."));
        }
        return done(source, fingerprint, loader, copy, plugins, failures);
    }

    private static LoadedSource done(
            Path source,
            String fingerprint,
            PluginClassLoader loader,
            Path copy,
            List<InstalledPlugin> plugins,
            List<PluginFailure> failures) {
        for (PluginFailure f : failures) {
            log.error("plugin {} not loaded: {} The other plugins are not affected.", f.source(), f.reason());
        }
        LoadedSource result =
                new LoadedSource(source, fingerprint, loader, copy, List.copyOf(plugins), List.copyOf(failures));
        if (plugins.isEmpty()) {
            discard(result);
            return new LoadedSource(source, fingerprint, null, null, List.of(), List.copyOf(failures));
        }
        return result;
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
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(source, BasicFileAttributes.class);
        } catch (NoSuchFileException gone) {
            return List.of();
        }
        if (!a.isDirectory()) {
            return List.of(source);
        }
        try (Stream<Path> s = Files.list(source)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jar"))
                    .sorted()
                    .toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            log.debug("deleting {} failed", dir, e);
        }
    }
}
