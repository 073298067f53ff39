package dev.daemonkit.internal.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.plugins.PluginShelf;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The plugins folder (or a plugin file) cannot be read while daemons run, as when the process is out
 * of file descriptors: hot deploy must change nothing, never read it as "every plugin removed".
 * The faults are real I/O errors (a symbolic link to itself: ELOOP), which work even as root.
 */
class PluginFolderFaultTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    /** The plugin shelf reports the folder's problems, hot deploy what it changes. */
    private final List<ch.qos.logback.classic.Logger> hotDeployLogs = List.of(
            (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(PluginShelf.class),
            (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(HotDeploy.class));

    private int port;

    @BeforeEach
    void setUp() throws Exception {
        port = TestHome.freePort();
        home.config("""
                daemonkit.plugins.watch = true
                daemonkit.plugins.scan-interval = 20 ms
                daemons.ver.listen = "127.0.0.1:%d"
                """.formatted(port));
        Jars.versioned(home.plugins(), "v1");
        logged.start();
        hotDeployLogs.forEach(l -> l.addAppender(logged));
    }

    @AfterEach
    void tearDown() {
        hotDeployLogs.forEach(l -> l.detachAppender(logged));
    }

    private String ask(String line) throws IOException {
        try (var c = new LineClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            return c.request(line);
        }
    }

    private long lines(String containing) {
        List<ILoggingEvent> events;
        synchronized (logged) { // appended to under this lock, from the control thread
            events = List.copyOf(logged.list);
        }
        return events.stream()
                .filter(e -> e.getFormattedMessage().contains(containing))
                .count();
    }

    @Test
    void faultPluginFolderUnlistableKeepsEveryDaemonRunning() throws Exception {
        var launcher = home.start();
        var before = launcher.daemon("ver");
        assertThat(ask("hi")).isEqualTo("v1:hi");

        Path aside = home.plugins().resolveSibling("plugins-aside");
        Files.move(home.plugins(), aside);
        Files.createSymbolicLink(home.plugins(), home.plugins().getFileName()); // lists with ELOOP
        await().atMost(Duration.ofSeconds(10)).until(() -> launcher.pluginScanErrors() >= 10);

        assertThat(launcher.daemon("ver")).isSameAs(before);
        assertThat(before.state()).isEqualTo(DaemonState.RUNNING);
        assertThat(ask("still")).isEqualTo("v1:still");
        assertThat(lines("cannot be listed"))
                .as("reported once, not at every look")
                .isEqualTo(1);
        assertThat(lines("was removed")).isZero();

        Files.delete(home.plugins());
        Files.move(aside, home.plugins());
        await().atMost(Duration.ofSeconds(10)).until(() -> lines("can be read again") == 1);
        long errors = launcher.pluginScanErrors();
        long looks = launcher.shelf().looks();
        await().atMost(Duration.ofSeconds(10)).until(() -> launcher.shelf().looks() >= looks + 5);
        assertThat(launcher.pluginScanErrors()).isEqualTo(errors);
        assertThat(launcher.daemon("ver")).isSameAs(before);
        assertThat(ask("after")).isEqualTo("v1:after");
    }

    @Test
    void faultPluginFolderGoneKeepsEveryDaemonRunning() throws Exception {
        var launcher = home.start();
        var before = launcher.daemon("ver");
        Path aside = home.plugins().resolveSibling("plugins-aside");
        Files.move(home.plugins(), aside);
        await().atMost(Duration.ofSeconds(10)).until(() -> launcher.pluginScanErrors() >= 10);
        assertThat(launcher.daemon("ver")).isSameAs(before);
        assertThat(ask("still")).isEqualTo("v1:still");
        assertThat(lines("does not exist any more")).isEqualTo(1);
        Files.move(aside, home.plugins());
        await().atMost(Duration.ofSeconds(10)).until(() -> lines("can be read again") == 1);
        assertThat(launcher.daemon("ver")).isSameAs(before);
    }

    @Test
    void faultPluginFileUnreadableKeepsItsDaemonRunningAndIsCounted() throws Exception {
        var launcher = home.start();
        var before = launcher.daemon("ver");
        Path jar = home.plugins().resolve("ver.jar");
        Path aside = home.plugins().resolveSibling("ver.jar.aside");
        Files.move(jar, aside);
        Files.createSymbolicLink(jar, jar.getFileName()); // listed, but its attributes fail with ELOOP
        await().atMost(Duration.ofSeconds(10)).until(() -> launcher.pluginScanErrors() >= 10);
        assertThat(launcher.daemon("ver")).isSameAs(before);
        assertThat(ask("still")).isEqualTo("v1:still");
        assertThat(lines("cannot be read (")).isEqualTo(1);
        assertThat(launcher.pluginFailures()).isEmpty();

        Files.delete(jar);
        Files.move(aside, jar);
        await().atMost(Duration.ofSeconds(10)).until(() -> lines("can be read again") == 1);
        assertThat(launcher.daemon("ver")).isSameAs(before);
        assertThat(ask("after")).isEqualTo("v1:after");
    }
}
