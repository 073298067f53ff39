package dev.daemonkit.testkit;

import dev.daemonkit.api.Listener;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.lifecycle.DaemonInstance;
import dev.daemonkit.internal.lifecycle.DaemonStatus;
import dev.daemonkit.internal.lifecycle.Launcher;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

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
 * <p>The daemons log through the test's SLF4J binding (the launcher's own logging system is not started); with
 * Logback (the framework's), every line is also kept as data: {@link #logs(String)}.
 *
 * <p>When the launcher stops (after each test, or {@link #stop()}), the kit checks what a long-running launcher
 * needs of a plugin: that the plugin's class loader is collected (nothing it started or registered outlives it, so
 * a hot deploy can unload it), and that Netty's leak detector, which the kit runs at {@code paranoid}, reported no
 * buffer left unreleased. Either failure fails the test with what was found ({@link #unloadCheck(boolean)} turns the
 * class loader check off).
 *
 * <p>Not thread-safe: call it from the test's thread.
 */
public final class TestLauncher implements AutoCloseable, BeforeAllCallback, AfterAllCallback, AfterEachCallback {
    /** Quiet defaults for tests; the kit's and the test's config lines come later and win. */
    private static final String TEST_DEFAULTS = """
            daemonkit.shutdown.grace = 2 s
            daemonkit.plugins.watch = false
            daemonkit.admin.enabled = false
            daemonkit.daemon-defaults.restart.policy = never
            """;

    /** How long stop() waits for the plugin's class loader to be collected before it fails the test. */
    private static final long UNLOAD_WAIT_MILLIS = 10_000;

    private long unloadWaitMillis = UNLOAD_WAIT_MILLIS;
    private final Path plugin;
    /** Library jars installed beside the plugin's jar, in a plugin folder: {@link #bundling}. */
    private final List<Path> libraries = new ArrayList<>();

    private String config = "";
    private boolean unloadCheck = true;
    private boolean perClass;
    private LogCapture logs;
    /**
     * The ids of the threads alive before the first start: any other thread still alive after the stop is named if it
     * leaks. Ids, not the threads: an ended thread keeps its context class loader and its class, so a kit holding the
     * threads of another launcher in the same JVM would keep that launcher's plugin loaders after its stop.
     */
    private Set<Long> threadsBefore;

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

    /**
     * The plugin in {@code jarOrClasses}: a built plugin jar; a folder of jars, the plugin's and the libraries it
     * bundles (what the archetype's {@code target/plugin/NAME/} holds), copied into {@code plugins/} as it is; or a
     * folder of compiled classes and resources, packed as one jar.
     */
    public static TestLauncher withPluginAt(Path jarOrClasses) {
        if (!Files.exists(jarOrClasses)) {
            throw new IllegalArgumentException(jarOrClasses
                    + " does not exist: give a plugin jar, a folder of jars or a compiled classes folder"
                    + " (a folder made by mvn package needs the package phase: run the test with failsafe)");
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

    /**
     * Whether {@link #stop()} checks that the plugin's class loader is collected (default true). Turn it off only for
     * a plugin that holds its loader on purpose until the JVM ends; such a plugin leaks a loader on every hot deploy.
     */
    public TestLauncher unloadCheck(boolean check) {
        this.unloadCheck = check;
        return this;
    }

    /** A shorter wait for the kit's own test of a plugin that never unloads. */
    TestLauncher unloadWait(Duration wait) {
        this.unloadWaitMillis = wait.toMillis();
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
            if (ResourceLeakDetector.getLevel().ordinal() < ResourceLeakDetector.Level.PARANOID.ordinal()) {
                ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
            }
            if (logs == null) {
                logs = LogCapture.attach();
            }
            if (threadsBefore == null) {
                threadsBefore = Thread.getAllStackTraces().keySet().stream()
                        .map(Thread::getId)
                        .collect(Collectors.toUnmodifiableSet());
            }
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

    /**
     * A URI of {@code daemon}'s listener {@code key}: {@code uri("http", "web", "listen", "/index.html")} is
     * {@code http://127.0.0.1:PORT/index.html} for the JDK's {@link java.net.http.HttpClient}, and with {@code "ws"},
     * one for {@link WebSocketClient}.
     */
    public URI uri(String scheme, String daemon, String key, String path) {
        InetSocketAddress a = address(daemon, key);
        String host = a.getAddress().getHostAddress();
        return URI.create(scheme + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort()
                + (path.startsWith("/") ? path : "/" + path));
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

    /**
     * Every line logged since this launcher first started (kept across {@link #stop()} and restarts, cleared by
     * {@link #close()}), the launcher's own and the daemons', in order. Only lines the test's logging config lets
     * through are seen (a {@code logback-test.xml} at INFO hides DEBUG lines); at most 100,000 are kept.
     *
     * @throws IllegalStateException if the test's SLF4J binding is not Logback (then nothing is captured)
     */
    public List<LogLine> logs() {
        if (logs == null) {
            throw new IllegalStateException(
                    home == null
                            ? "nothing logged yet: start() the launcher first"
                            : "log lines are captured through Logback, and the test's SLF4J binding is "
                                    + LoggerFactory.getILoggerFactory()
                                            .getClass()
                                            .getName()
                                    + ": put logback-classic on the test classpath instead");
        }
        return logs.lines();
    }

    /** The lines logged with {@code daemon}'s context: what {@code logs/DAEMON.log} would hold. */
    public List<LogLine> logs(String daemon) {
        return logs().stream().filter(l -> daemon.equals(l.daemon())).toList();
    }

    /** The home folder ({@code conf/}, {@code plugins/}), once started. */
    public Path home() {
        return home;
    }

    /** Whether the launcher was started and not yet stopped. */
    public boolean running() {
        return launcher != null;
    }

    /**
     * Stops the launcher (every daemon, within the shutdown grace); the home is kept for the next start. Then checks
     * that the plugin's class loader was collected and that Netty reported no leaked buffer. Idempotent.
     *
     * @throws AssertionError if the plugin's class loader is still reachable 10 s after the
     *     stop (naming the threads that hold it), or if Netty reported a leak while the launcher ran
     */
    public void stop() {
        for (EventLoopStalls w : watches) {
            w.close();
        }
        watches.clear();
        if (launcher == null) {
            return;
        }
        ReferenceQueue<ClassLoader> queue = new ReferenceQueue<>();
        List<WeakReference<ClassLoader>> loaders = stopAndKeepWeakLoaders(queue);
        // Leaks first: Netty keeps the record of a leaked buffer, whose stack trace pins the classes of the plugin
        // that allocated it, until the leak is reported.
        List<String> problems = new ArrayList<>(leakReports());
        if (unloadCheck) {
            problems.addAll(unloaded(loaders, queue, unloadWaitMillis, threadsBefore));
        }
        if (!problems.isEmpty()) {
            throw new AssertionError(String.join("\n", problems));
        }
    }

    /** Stops the launcher; only weak references to its plugins' loaders survive this frame. */
    private List<WeakReference<ClassLoader>> stopAndKeepWeakLoaders(ReferenceQueue<ClassLoader> queue) {
        Launcher l = launcher;
        launcher = null;
        List<WeakReference<ClassLoader>> loaders = new ArrayList<>();
        for (DaemonStatus s : l.daemons().statuses()) {
            DaemonInstance d = l.daemon(s.name());
            if (d != null
                    && d.plugin() != null
                    && loaders.stream().noneMatch(r -> r.get() == d.plugin().loader())) {
                loaders.add(new WeakReference<>(d.plugin().loader(), queue));
            }
        }
        l.stop();
        return loaders;
    }

    /** Waits, with garbage collections, for every loader to be collected; what still holds one, if not. */
    private static List<String> unloaded(
            List<WeakReference<ClassLoader>> loaders,
            ReferenceQueue<ClassLoader> queue,
            long waitMillis,
            Set<Long> threadsBefore) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        try {
            while (loaders.stream().anyMatch(r -> r.get() != null) && System.nanoTime() < deadline) {
                System.gc();
                queue.remove(100); // returns as soon as a loader is collected
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<String> problems = new ArrayList<>();
        for (WeakReference<ClassLoader> r : loaders) {
            ClassLoader loader = r.get();
            if (loader != null) {
                problems.add("the plugin's class loader " + loader + " was not collected within "
                        + waitMillis + " ms of the stop, so a hot deploy would leak it. Holders found: "
                        + holders(loader, threadsBefore) + ". Stop what the plugin starts in onStopped, and leave no"
                        + " object of the plugin in a static field of a shared library.");
            }
        }
        return problems;
    }

    /** Threads that pin the loader: running a class of the plugin, or with it as their context class loader. */
    private static String holders(ClassLoader loader, Set<Long> threadsBefore) {
        List<String> found = new ArrayList<>();
        List<String> started = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getClass().getClassLoader() == loader) {
                found.add(
                        "thread '" + t.getName() + "' (a " + t.getClass().getName() + " of the plugin, still running)");
            } else if (t.getContextClassLoader() == loader) {
                found.add("thread '" + t.getName() + "' (the plugin's loader is its context class loader)");
            } else if (threadsBefore != null && !threadsBefore.contains(t.getId())) {
                started.add(t.getName());
            }
        }
        // A thread created while the plugin's code was on the stack inherits an access control context that holds
        // the plugin's protection domain, and so its loader, without naming either.
        String others = started.isEmpty()
                ? ""
                : " (threads started since the launcher started and still alive, which may hold it: "
                        + String.join(", ", started) + ")";
        return (found.isEmpty()
                        ? "no thread of the plugin; look for static references from shared libraries (a heap dump"
                                + " shows them)"
                        : String.join("; ", found))
                + others;
    }

    /**
     * Netty's leak reports logged while the launcher ran. Netty reports a leak when it tracks a new buffer after the
     * leaked one was collected and its reference enqueued: so collect, wait until a reference of our own cleared by
     * that collection is enqueued (the JDK enqueues in a thread of its own), then allocate a buffer. Twice: a buffer
     * may become unreachable only once its pool's last holder is collected.
     */
    private List<String> leakReports() {
        if (logs == null) {
            return List.of();
        }
        ReferenceQueue<Object> processed = new ReferenceQueue<>();
        try {
            for (int i = 0; i < 2 && leaks().isEmpty(); i++) {
                WeakReference<Object> sentinel = new WeakReference<>(new Object(), processed);
                System.gc();
                processed.remove(1_000);
                sentinel.clear();
                ByteBufAllocator.DEFAULT.buffer(1).release();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return leaks().stream()
                .map(l -> "Netty reported a buffer that was never released (every buffer a handler receives or"
                        + " allocates must be released or passed on): " + l.message())
                .toList();
    }

    private List<LogLine> leaks() {
        return logs.lines().stream()
                .filter(l -> l.message() != null && l.message().startsWith("LEAK:"))
                .toList();
    }

    /** Stops the launcher (with the checks of {@link #stop()}), stops capturing its log, deletes the home. Idempotent. */
    @Override
    public void close() {
        try {
            stop();
        } finally {
            if (logs != null) {
                logs.detach();
                logs = null;
            }
            deleteHome();
        }
    }

    private void deleteHome() {
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

    /** Copies the plugin jar or folder of jars, or packs the classes folder as one jar (sorted entries, a manifest). */
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
        List<Path> jars = jarsIn(plugin);
        if (!jars.isEmpty()) {
            Path folder = Files.createDirectories(plugins.resolve(plugin.getFileName()));
            for (Path jar : jars) {
                Files.copy(jar, folder.resolve(jar.getFileName()));
            }
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

    /** The jars directly in {@code folder} when it holds no class files or services of its own: a folder plugin. */
    private static List<Path> jarsIn(Path folder) throws IOException {
        if (Files.exists(folder.resolve("META-INF")) || Files.exists(folder.resolve("reference.conf"))) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p))
                    .sorted()
                    .toList();
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
