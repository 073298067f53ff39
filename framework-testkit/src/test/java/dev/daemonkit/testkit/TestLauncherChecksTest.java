package dev.daemonkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import dev.daemonkit.testkit.faulty.BufferLeakPlugin;
import dev.daemonkit.testkit.faulty.ThreadLeakPlugin;
import dev.daemonkit.testkit.joined.JoinedThreadPlugin;
import dev.daemonkit.testkit.shout.ShoutPlugin;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** What the kit checks and records around a test: log lines as data, the class loader unloaded, no leaked buffer. */
class TestLauncherChecksTest {
    @TempDir
    Path tmp;

    /** A plugin jar of the test classes in {@code pluginClass}'s package, with its service file and defaults. */
    private static Path pluginJar(Path dir, Class<?> pluginClass, String reference) throws IOException {
        Path classes;
        try {
            classes = Path.of(pluginClass
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        String pkg = pluginClass.getPackageName().replace('.', '/') + "/";
        Path jar = Files.createDirectories(dir).resolve(pluginClass.getSimpleName() + ".jar");
        try (OutputStream out = Files.newOutputStream(jar);
                JarOutputStream j = new JarOutputStream(out);
                Stream<Path> files = Files.walk(classes.resolve(pkg))) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                j.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                Files.copy(p, j);
            }
            j.putNextEntry(new JarEntry("META-INF/services/dev.daemonkit.api.DaemonPlugin"));
            j.write((pluginClass.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            j.putNextEntry(new JarEntry("reference.conf"));
            j.write(reference.getBytes(StandardCharsets.UTF_8));
        }
        return jar;
    }

    @Test
    void theDaemonsLogLinesAreDataToAssertOn() throws IOException {
        try (TestLauncher launcher = TestLauncher.withPlugin(ShoutPlugin.class)) {
            launcher.start();
            try (LineClient client = LineClient.connect(launcher.address("shout"))) {
                assertThat(client.request("hello")).isEqualTo("HELLO");
            }
            launcher.stop();

            assertThat(launcher.logs("shout"))
                    .as("the daemon's own lines, with its name: what logs/shout.log holds")
                    .anySatisfy(line -> {
                        assertThat(line.level()).isEqualTo("INFO");
                        assertThat(line.logger()).isEqualTo("daemon.shout");
                        assertThat(line.message()).isEqualTo("shouting hello");
                    })
                    .allSatisfy(line -> assertThat(line.daemon()).isEqualTo("shout"));
            assertThat(launcher.logs())
                    .as("and the launcher's own")
                    .anySatisfy(line -> assertThat(line.message()).startsWith("Daemonkit stopped"));
        }
    }

    @Test
    void aFolderOfJarsIsInstalledAsItIsWithTheLibrariesItBundles() throws IOException {
        Path folder = tmp.resolve("shout-folder");
        Files.createDirectories(folder);
        try (JarOutputStream lib = new JarOutputStream(Files.newOutputStream(folder.resolve("a-library.jar")))) {
            lib.putNextEntry(new JarEntry("a-library.txt"));
        }
        Path jar = pluginJar(
                tmp.resolve("build"),
                ShoutPlugin.class,
                "daemons.shout { listen = \"127.0.0.1:0\", listen-quiet = \"127.0.0.1:0\", listen-web = \"127.0.0.1:0\" }\n");
        Files.copy(jar, folder.resolve("shout.jar"));

        try (TestLauncher launcher = TestLauncher.withPluginAt(folder)) {
            launcher.start();
            try (LineClient client = LineClient.connect(launcher.address("shout"))) {
                assertThat(client.request("folder")).isEqualTo("FOLDER");
            }
            try (Stream<Path> installed = Files.list(launcher.home().resolve("plugins/shout-folder"))) {
                assertThat(installed
                                .map(p -> p.getFileName().toString())
                                .sorted()
                                .toList())
                        .containsExactly("a-library.jar", "shout.jar");
            }
        }
    }

    @Test
    void aPluginThatLeavesAThreadRunningFailsTheStopNamingTheThread() throws IOException, InterruptedException {
        Path jar = pluginJar(tmp, ThreadLeakPlugin.class, "daemons.thread-leak {}\n");
        TestLauncher launcher = TestLauncher.withPluginAt(jar).unloadWait(Duration.ofSeconds(1));
        try {
            launcher.start();
            assertThat(launcher.state("thread-leak")).isEqualTo("RUNNING");

            assertThatThrownBy(launcher::stop)
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("class loader")
                    .hasMessageContaining("was not collected")
                    .hasMessageContaining("thread '" + ThreadLeakPlugin.THREAD + "'")
                    .hasMessageContaining("onStopped");
        } finally {
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals(ThreadLeakPlugin.THREAD)) {
                    t.interrupt();
                    t.join(10_000);
                }
            }
            launcher.close();
        }
    }

    @Test
    void twoLaunchersInOneJvmTheFirstStoppedWhileTheSecondRunsUnloadsItsPlugin() throws IOException {
        // The second kit starts while the first launcher's threads (one of the plugin's own class) are alive; once
        // they have ended, nothing of the kit may keep them, or the first plugin's loader with them.
        Path jar = pluginJar(tmp, JoinedThreadPlugin.class, "daemons.joined {}\n");
        try (TestLauncher first = TestLauncher.withPluginAt(jar);
                TestLauncher second = TestLauncher.withPluginAt(jar)) {
            first.start();
            assertThat(first.state("joined")).isEqualTo("RUNNING");
            second.start();
            assertThat(second.state("joined")).isEqualTo("RUNNING");

            first.stop(); // throws if the first plugin's loader is still reachable
            assertThat(second.state("joined")).isEqualTo("RUNNING");
            second.stop();
        }
    }

    @Test
    void aBufferAHandlerNeverReleasesFailsTheStopWithNettysReport() throws IOException {
        Path jar = pluginJar(tmp, BufferLeakPlugin.class, "daemons.buffer-leak.listen = \"127.0.0.1:0\"\n");
        // This leak is on purpose: keep its report out of the console (CI fails on any LEAK in the test output);
        // the kit still sees it, on the leak detector's own logger.
        Logger leakDetector = (Logger) LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector");
        leakDetector.setAdditive(false);
        try (TestLauncher launcher = TestLauncher.withPluginAt(jar)) {
            launcher.start();
            try (LineClient client = LineClient.connect(launcher.address("buffer-leak"))) {
                assertThat(client.request("leak me")).isEqualTo("ok");
            }

            assertThatThrownBy(launcher::stop)
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("Netty reported a buffer that was never released")
                    .hasMessageContaining("LEAK:");
        } finally {
            leakDetector.setAdditive(true);
        }
    }

    @Test
    void aCleanPluginPassesBothChecks() throws IOException {
        TestLauncher launcher = TestLauncher.withPlugin(ShoutPlugin.class);
        launcher.start();
        try (LineClient client = LineClient.connect(launcher.address("shout"))) {
            assertThat(client.request("clean")).isEqualTo("CLEAN");
        }
        launcher.stop(); // throws if either check fails
        launcher.close();
        assertThat(List.of(launcher.running())).containsExactly(false);
    }
}
