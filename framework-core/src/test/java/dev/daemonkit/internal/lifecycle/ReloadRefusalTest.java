package dev.daemonkit.internal.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A reload that could not be applied whole (a new address is busy, the config file is gone) is
 * refused before anything stops: every daemon keeps its instance, its config and its sockets.
 * Checked over real sockets.
 */
class ReloadRefusalTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    int portA;
    int portB;

    @BeforeEach
    void setUp() throws Exception {
        Jars.lineEcho(home.plugins());
        portA = TestHome.freePort();
        portB = TestHome.freePort();
    }

    private static String ask(int port, String line) throws IOException {
        try (var c = new LineClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            return c.request(line);
        }
    }

    private static boolean canBind(int port) {
        try (ServerSocket s = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private String twoDaemons(int echoPort, String echoPrefix, int bPort, String bPrefix) {
        return """
                daemons.line-echo { listen = "127.0.0.1:%d", prefix = "%s" }
                daemons.echo-b { plugin = line-echo, listen = "127.0.0.1:%d", prefix = "%s" }
                """.formatted(echoPort, echoPrefix, bPort, bPrefix);
    }

    @Test
    void reloadOntoAPortHeldByAnotherProcessIsRejectedAndTheOldListenerStillAnswers() throws Exception {
        int portC = TestHome.freePort();
        home.config(twoDaemons(portA, "a:", portB, "b:"));
        var launcher = home.start();
        var echo = launcher.daemon("line-echo");
        var b = launcher.daemon("echo-b");
        try (ServerSocket held = new ServerSocket(portC, 50, InetAddress.getLoopbackAddress())) {
            // echo-b's change alone would be fine; line-echo's new port is busy: nothing is applied.
            home.config(twoDaemons(portC, "a2:", portB, "b2:"));
            assertThatThrownBy(() -> launcher.reload().get())
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isInstanceOf(ConfigError.class)
                    .hasMessageContaining("daemon 'line-echo' cannot move to tcp 127.0.0.1:" + portC)
                    .hasMessageContaining("daemons.line-echo.listen")
                    .hasMessageContaining("in use by another process");
            assertThat(launcher.daemon("line-echo")).isSameAs(echo);
            assertThat(launcher.daemon("echo-b")).isSameAs(b);
            assertThat(echo.state()).isEqualTo(DaemonState.RUNNING);
            assertThat(ask(portA, "x")).isEqualTo("a:x");
            assertThat(ask(portB, "x")).isEqualTo("b:x");
        }
        // Once the port is free the same reload goes through: the new port answers, the old one is closed.
        var report = launcher.reload().get();
        assertThat(report.restarted()).containsExactlyInAnyOrder("line-echo", "echo-b");
        assertThat(ask(portC, "y")).isEqualTo("a2:y");
        assertThat(ask(portB, "y")).isEqualTo("b2:y");
        await().until(() -> canBind(portA));
    }

    @Test
    void reloadOntoAPortOfAnotherDaemonOfThisLauncherIsRejectedAndTheOldListenerStillAnswers() throws Exception {
        home.config(twoDaemons(portA, "a:", portB, "b:"));
        var launcher = home.start();
        var echo = launcher.daemon("line-echo");
        home.config(twoDaemons(portB, "a2:", portB, "b:"));
        assertThatThrownBy(() -> launcher.reload().get())
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemon 'line-echo' cannot move to tcp 127.0.0.1:" + portB)
                .hasMessageContaining("daemons.line-echo.listen")
                .hasMessageContaining("daemon 'echo-b' of this launcher listens there (daemons.echo-b.listen");
        assertThat(launcher.daemon("line-echo")).isSameAs(echo);
        assertThat(echo.state()).isEqualTo(DaemonState.RUNNING);
        assertThat(ask(portA, "x")).isEqualTo("a:x");
        assertThat(ask(portB, "x")).isEqualTo("b:x");
    }

    @Test
    void reloadMovingAPortToADaemonThatGivesItUpInTheSameReloadIsRejected() throws Exception {
        home.config(twoDaemons(portA, "a:", portB, "b:"));
        var launcher = home.start();
        int portC = TestHome.freePort();
        home.config(twoDaemons(portB, "a:", portC, "b:"));
        assertThatThrownBy(() -> launcher.reload().get())
                .cause()
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemon 'echo-b' of this launcher listens there")
                .hasMessageContaining("free it with one reload and take it with the next");
        assertThat(ask(portA, "x")).isEqualTo("a:x");
        assertThat(ask(portB, "x")).isEqualTo("b:x");
        assertThat(canBind(portC))
                .as("the port reserved for echo-b was released")
                .isTrue();
    }

    @Test
    void aNewDaemonOnABusyPortIsRejectedAndNothingStarts() throws Exception {
        home.config("daemons.line-echo { listen = \"127.0.0.1:" + portA + "\", prefix = \"a:\" }\n");
        var launcher = home.start();
        try (ServerSocket held = new ServerSocket(portB, 50, InetAddress.getLoopbackAddress())) {
            home.config("daemons.line-echo { listen = \"127.0.0.1:" + portA + "\", prefix = \"a2:\" }\n"
                    + "daemons.echo-c { plugin = line-echo, listen = \"127.0.0.1:" + portB + "\" }\n");
            assertThatThrownBy(() -> launcher.reload().get())
                    .cause()
                    .isInstanceOf(ConfigError.class)
                    .hasMessageContaining("daemon 'echo-c' cannot move to tcp 127.0.0.1:" + portB)
                    .hasMessageContaining("daemons.echo-c.listen");
            assertThat(launcher.daemon("echo-c")).isNull();
            assertThat(ask(portA, "x")).isEqualTo("a:x");
        }
    }

    @Test
    void aRestartKeepsItsPortBoundThroughoutTheSwitch() throws Exception {
        home.config("daemons.line-echo { listen = \"127.0.0.1:" + portA + "\", prefix = \"a:\" }\n");
        var launcher = home.start();
        var before = launcher.daemon("line-echo");
        home.config("daemons.line-echo { listen = \"127.0.0.1:" + portA + "\", prefix = \"b:\" }\n");
        assertThat(launcher.reload().get().toString()).contains("restarted: line-echo");
        assertThat(launcher.daemon("line-echo")).isNotSameAs(before);
        assertThat(ask(portA, "x")).isEqualTo("b:x"); // no gap: the socket was taken over, never closed
        await().until(() -> before.state() == DaemonState.STOPPED);
        assertThat(ask(portA, "y")).isEqualTo("b:y");
    }

    @Test
    void reloadAfterTheConfigFileWasDeletedIsRejectedAndSaysWhichFile() throws Exception {
        home.config("daemons.line-echo { listen = \"127.0.0.1:" + portA + "\", prefix = \"a:\" }\n");
        var launcher = home.start();
        var before = launcher.daemon("line-echo");
        Files.delete(home.configFile());
        assertThatThrownBy(() -> launcher.reload().get())
                .cause()
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("config file " + home.configFile() + " does not exist any more")
                .hasMessageContaining("Put it back");
        assertThat(launcher.daemon("line-echo")).isSameAs(before);
        assertThat(ask(portA, "x")).isEqualTo("a:x");
    }

    @Test
    void reloadAfterTheDefaultConfigFileWasDeletedIsRejectedNotReadAsNothingChanged() throws Exception {
        // Without --config the file may be absent at start (defaults); once it was there, its loss is an error.
        home.config("daemons.line-echo { listen = \"127.0.0.1:" + portA + "\", prefix = \"a:\" }\n");
        var config = ConfigLoader.load(home.configFile(), false, getClass().getClassLoader());
        var launcher = new Launcher(config, home.configFile(), false, home.plugins(), null);
        try {
            launcher.start();
            Files.delete(home.configFile());
            assertThatThrownBy(() -> launcher.reload().get())
                    .cause()
                    .isInstanceOf(ConfigError.class)
                    .hasMessageContaining("config file " + home.configFile() + " does not exist any more");
            assertThat(ask(portA, "x")).isEqualTo("a:x");
        } finally {
            launcher.stop();
        }
    }
}
