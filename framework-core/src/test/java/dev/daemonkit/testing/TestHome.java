package dev.daemonkit.testing;

import dev.daemonkit.api.Listener;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.lifecycle.Launcher;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A launcher home in a temporary folder: conf/daemonkit.conf and plugins/, started in this JVM.
 * Use it as a JUnit extension ({@code @RegisterExtension final TestHome home = new TestHome();}):
 * each test gets a fresh folder, and its launcher is stopped and the folder deleted afterwards.
 */
public final class TestHome implements AutoCloseable, BeforeEachCallback, AfterEachCallback {
    private final String base;
    private Path root;
    private Launcher launcher;

    public TestHome() {
        this("");
    }

    /** @param base config lines before every test's own (e.g. a transport to run a whole test class on) */
    public TestHome(String base) {
        this.base = base;
    }

    private void init(Path root) throws IOException {
        this.root = root;
        this.launcher = null;
        Files.createDirectories(plugins());
        config("");
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        init(Files.createTempDirectory("daemonkit-test-"));
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        close();
        try (var files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    public Path plugins() {
        return root.resolve("plugins");
    }

    public Path configFile() {
        return root.resolve("conf/daemonkit.conf");
    }

    public TestHome config(String hocon) throws IOException {
        Files.createDirectories(configFile().getParent());
        // Quiet defaults for tests; a test's own lines come later and win.
        Files.writeString(configFile(), """
                daemonkit.shutdown.grace = 2 s
                daemonkit.plugins.watch = false
                daemonkit.daemon-defaults.restart.policy = never
                """ + base + hocon, StandardCharsets.UTF_8);
        return this;
    }

    /** Loads the config and starts a launcher (no logging system: tests log through the test's Logback). */
    public Launcher start() {
        ConfigLoader config = ConfigLoader.load(configFile(), true, getClass().getClassLoader());
        launcher = new Launcher(config, configFile(), true, plugins(), null);
        launcher.start();
        return launcher;
    }

    /**
     * A free port below the ephemeral range (32768+): a port the kernel hands out as "free" could
     * be taken as the source port of some client connection before the launcher binds it.
     */
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    public static int freePort() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < 1000; i++) {
            int port = random.nextInt(20_000, 32_000);
            if (GIVEN.contains(port)) {
                continue; // never the same port twice in one JVM: a test asks for several before binding
            }
            try (ServerSocket s = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
                GIVEN.add(port);
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no free port found in 20000-32000");
    }

    public Launcher launcher() {
        return launcher;
    }

    public InetSocketAddress address(String daemon) {
        Listener l = launcher.daemon(daemon).listeners().get(0);
        return l.boundAddress();
    }

    @Override
    public void close() {
        if (launcher != null) {
            launcher.stop();
        }
    }
}
