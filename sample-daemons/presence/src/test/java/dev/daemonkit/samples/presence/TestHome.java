package dev.daemonkit.samples.presence;

import dev.daemonkit.api.Listener;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.lifecycle.Launcher;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * A launcher home in a temporary folder, started in this JVM (the pattern of framework-core's
 * {@code dev.daemonkit.testing.TestHome}), with this module's compiled classes and resources packed
 * as {@code plugins/presence.jar}: the plugin is loaded through its own class loader, as in production.
 */
final class TestHome implements AutoCloseable {
    private final Path root;
    private Launcher launcher;

    TestHome(Path root) throws IOException {
        this.root = root;
        Files.createDirectories(root.resolve("plugins"));
        packPlugin(root.resolve("plugins/presence.jar"));
    }

    /** Writes conf/daemonkit.conf: quiet test defaults, then {@code hocon}. */
    TestHome config(String hocon) throws IOException {
        Path file = configFile();
        Files.createDirectories(file.getParent());
        Files.writeString(file, """
                daemonkit.shutdown.grace = 2 s
                daemonkit.plugins.watch = false
                daemonkit.admin.enabled = false
                daemonkit.daemon-defaults.restart.policy = never
                daemons.presence { listen = "127.0.0.1:0", listen-http = "127.0.0.1:0" }
                """ + hocon, StandardCharsets.UTF_8);
        return this;
    }

    private Path configFile() {
        return root.resolve("conf/daemonkit.conf");
    }

    /** Loads the config and starts a launcher (no logging system: the daemon logs through the test's Logback). */
    TestHome start() throws IOException {
        if (!Files.exists(configFile())) {
            config("");
        }
        ConfigLoader config = ConfigLoader.load(configFile(), true, getClass().getClassLoader());
        launcher = new Launcher(config, configFile(), true, root.resolve("plugins"), null);
        launcher.start();
        return this;
    }

    /** The bound address of the presence daemon's listener {@code key} ({@code listen}, {@code listen-http}). */
    InetSocketAddress address(String key) {
        for (Listener l : launcher.daemon("presence").listeners()) {
            if (l.key().equals(key)) {
                return l.boundAddress();
            }
        }
        throw new IllegalStateException("the presence daemon has no listener " + key + ": is it running? "
                + launcher.daemon("presence").state());
    }

    /** The running launcher (for its event loops). */
    Launcher launcher() {
        return launcher;
    }

    @Override
    public void close() {
        if (launcher != null) {
            launcher.stop();
        }
    }

    /** Packs the module's target/classes (this plugin's classes, services file, reference.conf, page). */
    static void packPlugin(Path jarFile) throws IOException {
        Path classes;
        try {
            classes = Path.of(PresencePlugin.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        Manifest mf = new Manifest();
        mf.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (OutputStream out = Files.newOutputStream(jarFile);
                JarOutputStream jar = new JarOutputStream(out, mf);
                Stream<Path> files = Files.walk(classes)) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                jar.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                jar.write(Files.readAllBytes(p));
                jar.closeEntry();
            }
        }
    }
}
