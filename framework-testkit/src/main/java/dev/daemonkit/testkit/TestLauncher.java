package dev.daemonkit.testkit;

import dev.daemonkit.api.Listener;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.lifecycle.DaemonInstance;
import dev.daemonkit.internal.lifecycle.Launcher;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real launcher in the test's JVM, with the plugin under test in a temporary home ({@code conf/daemonkit.conf},
 * {@code plugins/}). The plugin is packed as a jar into {@code plugins/} and loaded the production way, by its own
 * class loader that sees only {@code dev.daemonkit.api} and the shared libraries; a plugin that works here works in
 * {@code bin/daemonkit}.
 *
 * <pre>{@code
 * @RegisterExtension
 * final TestLauncher launcher = TestLauncher.withPlugin(EchoPlugin.class)
 *         .config("daemons.echo.listen = \"127.0.0.1:0\"");
 *
 * @Test
 * void echoesALine() throws IOException {
 *     launcher.start();
 *     try (LineClient client = LineClient.connect(launcher.address("echo"))) {
 *         assertEquals("hello", client.request("hello"));
 *     }
 * }
 * }</pre>
 *
 * <p>As an instance field with {@code @RegisterExtension}, each test gets a fresh home and the launcher is stopped
 * and the home deleted after the test; as a static field, once for the class. Without JUnit, call {@link #close()}.
 * Bind listeners to port 0 ({@code "127.0.0.1:0"}) and read the port back with {@link #address(String)}: tests then
 * never collide with each other or with a daemon on the machine.
 *
 * <p>The daemons log through the test's SLF4J binding (the launcher's own logging system is not started). Not
 * thread-safe: call it from the test's thread.
 */
public final class TestLauncher implements AutoCloseable, BeforeAllCallback, AfterAllCallback, AfterEachCallback {
    /** Quiet defaults for tests; the kit's and the test's config lines come later and win. */
    private static final String TEST_DEFAULTS = """
            daemonkit.shutdown.grace = 2 s
            daemonkit.plugins.watch = false
            daemonkit.admin.enabled = false
            daemonkit.daemon-defaults.restart.policy = never
            """;

    private final Path plugin;
    /** Library jars installed beside the plugin's jar, in a plugin folder: {@link #bundling}. */
    private final List<Path> libraries = new ArrayList<>();

    private String config = "";
    private boolean perClass;
    private Path home;
    private Launcher launcher;
    private final List<EventLoopStalls> watches = new ArrayList<>();

    private TestLauncher(Path plugin) {
        this.plugin = plugin;
    }

    /**
     * The plugin that holds {@code pluginClass}: the classes folder it was compiled to (Maven's
     * {@code target/classes}, with its {@code META-INF/services} file and {@code reference.conf}) or the jar it is in.
     */
    public static TestLauncher withPlugin(Class<?> pluginClass) {
        try {
            return withPluginAt(Path.of(pluginClass
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI()));
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalArgumentException(
                    "cannot find where " + pluginClass.getName() + " was loaded from; use withPluginAt(path)", e);
        }
    }

    /** The plugin in {@code jarOrClasses}: a built plugin jar, or a folder of compiled classes and resources. */
    public static TestLauncher withPluginAt(Path jarOrClasses) {
        if (!Files.exists(jarOrClasses)) {
            throw new IllegalArgumentException(
                    jarOrClasses + " does not exist: give a plugin jar or a compiled classes folder");
        }
        return new TestLauncher(jarOrClasses.toAbsolutePath());
    }

    /**
     * Installs the plugin as a plugin folder ({@code plugins/NAME/}) holding its jar and the jars that hold
     * {@code libraryClasses}, the way a plugin that brings its own libraries ships: they are loaded by the plugin's
     * class loader, never from the launcher's class path. Libraries the framework shares with plugins (Netty, Guice,
     * Typesafe Config, SLF4J) come from the framework whatever the folder holds.
     */
    public TestLauncher bundling(Class<?>... libraryClasses) {
        for (Class<?> c : libraryClasses) {
            Path jar;
            try {
                jar = Path.of(
                        c.getProtectionDomain().getCodeSource().getLocation().toURI());
            } catch (URISyntaxException | NullPointerException e) {
                throw new IllegalArgumentException("cannot find the jar " + c.getName() + " was loaded from", e);
            }
            if (!Files.isRegularFile(jar)) {
                throw new IllegalArgumentException(
                        c.getName() + " was loaded from " + jar + ", not a jar: bundle library jars only");
            }
            if (!libraries.contains(jar)) {
                libraries.add(jar);
            }
        }
        return this;
    }

    /**
     * Config lines (HOCON) for every start, written after the kit's test defaults (shutdown grace 2 s, no plugin
     * folder watching, no admin endpoint, no restarts), so they win. Replaces the lines given before.
     */
    public TestLauncher config(String hocon) {
        this.config = hocon;
        return this;
    }

    /** Starts the launcher with the {@link #config(String) config lines}. */
    public TestLauncher start() {
        return start("");
    }

    /**
     * Starts the launcher with the {@link #config(String) config lines} and then {@code hocon} (this test's own
     * lines, which win). Returns when every daemon has started or failed: a daemon that fails on its own is left
     * failed (see {@link #state(String)}), while a config error throws, with the message an operator would see.
     *
     * @throws IllegalStateException if this launcher is already running
     */
    public TestLauncher start(String hocon) {
        if (launcher != null) {
            throw new IllegalStateException("the test launcher is already running; stop() it first");
        }
        try {
            if (home == null) {
                home = Files.createTempDirectory("daemonkit-test-");
                Files.createDirectories(home.resolve("plugins"));
                installPlugin(home.resolve("plugins"));
            }
            Path conf = Files.createDirectories(home.resolve("conf")).resolve("daemonkit.conf");
            Files.writeString(conf, TEST_DEFAULTS + config + "\n" + hocon + "\n", StandardCharsets.UTF_8);
            ConfigLoader loaded = ConfigLoader.load(conf, true, TestLauncher.class.getClassLoader());
            Launcher started = new Launcher(loaded, conf, true, home.resolve("plugins"), null);
            launcher = started;
            started.start();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the test launcher's home " + home + ": " + e, e);
        }
    }

    /** The bound address of {@code daemon}'s first listener: the real port when it was configured as 0. */
    public InetSocketAddress address(String daemon) {
        List<Listener> listeners = daemon(daemon).listeners();
        if (listeners.isEmpty()) {
            throw new IllegalStateException(
                    "daemon '" + daemon + "' has no listener; its state is " + state(daemon) + " (see the test's log)");
        }
        return listeners.get(0).boundAddress();
    }

    /** The bound address of {@code daemon}'s listener declared as {@code key} ({@code daemon.listen(key, ...)}). */
    public InetSocketAddress address(String daemon, String key) {
        List<Listener> listeners = daemon(daemon).listeners();
        for (Listener l : listeners) {
            if (l.key().equals(key)) {
                return l.boundAddress();
            }
        }
        throw new IllegalStateException("daemon '" + daemon + "' has no listener '" + key + "'; it has "
                + listeners.stream().map(Listener::key).collect(Collectors.toList()) + " and its state is "
                + state(daemon));
    }

    /** The daemon's state as {@code bin/daemonkit status} shows it: {@code RUNNING}, {@code FAILED}, ... */
    public String state(String daemon) {
        return String.valueOf(daemon(daemon).state());
    }

    /**
     * Why the running {@code daemon} reports itself degraded ({@code DaemonContext.degraded}: {@code GET /health} then
     * shows it and {@code /health/ready} is 503), or null while it is whole.
     */
    public String degraded(String daemon) {
        return daemon(daemon).degradedReason();
    }

    /**
     * Starts watching the running launcher's event loops for stalls: a loop that does not run a queued probe task
     * within {@code threshold} is blocked (a blocking call or an endless loop in a handler). Stopped by
     * {@link EventLoopStalls#close()} or when the launcher stops.
     */
    public EventLoopStalls watchEventLoops(Duration threshold) {
        EventLoopStalls watch = new EventLoopStalls(runningLauncher().transport(), threshold);
        watches.add(watch);
        return watch;
    }

    /** The home folder ({@code conf/}, {@code plugins/}), once started. */
    public Path home() {
        return home;
    }

    /** Whether the launcher was started and not yet stopped. */
    public boolean running() {
        return launcher != null;
    }

    /** Stops the launcher (every daemon, within the shutdown grace); the home is kept for the next start. Idempotent. */
    public void stop() {
        for (EventLoopStalls w : watches) {
            w.close();
        }
        watches.clear();
        if (launcher != null) {
            Launcher l = launcher;
            launcher = null;
            l.stop();
        }
    }

    /** Stops the launcher and deletes the home. Idempotent. */
    @Override
    public void close() {
        stop();
        if (home != null) {
            try (Stream<Path> files = Files.walk(home)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete the test launcher's home " + home, e);
            }
            home = null;
        }
    }

    /** Called by JUnit when registered as a static field: the launcher then lives as long as the class. */
    @Override
    public void beforeAll(ExtensionContext context) {
        perClass = true;
    }

    /** Called by JUnit after each test: stops the launcher and deletes the home unless registered as static. */
    @Override
    public void afterEach(ExtensionContext context) {
        if (!perClass) {
            close();
        }
    }

    /** Called by JUnit after the class's tests. */
    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    private Launcher runningLauncher() {
        if (launcher == null) {
            throw new IllegalStateException("the test launcher is not running; call start() first");
        }
        return launcher;
    }

    private DaemonInstance daemon(String name) {
        DaemonInstance d = runningLauncher().daemon(name);
        if (d == null) {
            throw new IllegalArgumentException("no daemon '" + name + "' in this launcher: is daemons." + name
                    + " configured, and does the plugin's name() return it?");
        }
        return d;
    }

    /** Copies the plugin jar, or packs the classes folder as one (sorted entries, a manifest). */
    private void installPlugin(Path plugins) throws IOException {
        if (!libraries.isEmpty()) {
            String jar = Files.isRegularFile(plugin) ? plugin.getFileName().toString() : jarName(plugin);
            Path folder = Files.createDirectories(plugins.resolve(jar.replaceFirst("\\.jar$", "")));
            for (Path library : libraries) {
                Files.copy(library, folder.resolve(library.getFileName()));
            }
            plugins = folder;
        }
        if (Files.isRegularFile(plugin)) {
            Files.copy(plugin, plugins.resolve(plugin.getFileName()));
            return;
        }
        Manifest mf = new Manifest();
        mf.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (OutputStream out = Files.newOutputStream(plugins.resolve(jarName(plugin)));
                JarOutputStream jar = new JarOutputStream(out, mf);
                Stream<Path> files = Files.walk(plugin)) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                String entry = plugin.relativize(p).toString().replace('\\', '/');
                if (entry.equals("META-INF/MANIFEST.MF")) {
                    continue;
                }
                jar.putNextEntry(new JarEntry(entry));
                Files.copy(p, jar);
                jar.closeEntry();
            }
        }
    }

    /** {@code module/target/classes} becomes {@code module.jar}, as Maven would name the module's jar. */
    private static String jarName(Path classes) {
        Path target = classes.getParent();
        if (classes.endsWith("classes") && target != null && target.endsWith("target") && target.getParent() != null) {
            return target.getParent().getFileName() + ".jar";
        }
        return classes.getFileName() + ".jar";
    }
}
