package dev.daemonkit.internal.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.nio.file.Files;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** SIGHUP / daemonkit reload: what changed is applied, a bad config is refused whole. */
class ReloadTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    @BeforeEach
    void setUp() throws Exception {
        Jars.lineEcho(home.plugins());
    }

    @Test
    void changedLimitsApplyInPlaceWithoutARestart() throws Exception {
        var launcher = home.start();
        var before = launcher.daemon("line-echo");
        home.config("daemons.line-echo.max-connections = 1\n");
        var report = launcher.reload().get();
        assertThat(report.updated()).containsExactly("line-echo");
        assertThat(launcher.daemon("line-echo")).isSameAs(before);
        try (var first = new LineClient(home.address("line-echo"))) {
            assertThat(first.request("one")).isEqualTo("one"); // accepted and counted before the second comes
            try (var second = new LineClient(home.address("line-echo"))) {
                assertThat(second.isClosedByServer()).isTrue();
            }
        }
    }

    @Test
    void aChangedPluginKeyRestartsTheDaemonWithTheNewBlock() throws Exception {
        home.config("daemons.line-echo.prefix = \"a:\"\n");
        var launcher = home.start();
        var before = launcher.daemon("line-echo");
        home.config("daemons.line-echo.prefix = \"b:\"\n");
        var report = launcher.reload().get();
        assertThat(report.restarted()).containsExactly("line-echo");
        await().until(() -> launcher.daemon("line-echo") != before
                && launcher.daemon("line-echo").state() == DaemonState.RUNNING);
        try (var c = new LineClient(home.address("line-echo"))) {
            assertThat(c.request("x")).isEqualTo("b:x");
        }
    }

    @Test
    void aDaemonWhoseReloadHookAcceptsTheBlockKeepsRunning() throws Exception {
        Jars.versioned(home.plugins(), "v1");
        home.config("daemons.ver.accept-reload = true\n");
        var launcher = home.start();
        var before = launcher.daemon("ver");
        home.config("daemons.ver { accept-reload = true, tag = v9 }\n");
        var report = launcher.reload().get();
        assertThat(report.updated()).containsExactly("ver");
        assertThat(launcher.daemon("ver")).isSameAs(before);
        try (var c = new LineClient(home.address("ver"))) {
            assertThat(c.request("x")).isEqualTo("v9:x");
        }
    }

    @Test
    void aChangedIoThreadsRestartsTheDaemonEvenWhenItsReloadHookWouldTakeTheBlock() throws Exception {
        Jars.versioned(home.plugins(), "v1");
        home.config("daemons.ver.accept-reload = true\n");
        var launcher = home.start();
        var before = launcher.daemon("ver");
        home.config("daemons.ver { accept-reload = true, io-threads = 1 }\n");
        var report = launcher.reload().get();
        assertThat(report.restarted()).containsExactly("ver");
        assertThat(launcher.daemon("ver")).isNotSameAs(before);
        assertThat(launcher.daemon("ver").eventLoops()).hasSize(1);
        try (var c = new LineClient(home.address("ver"))) {
            assertThat(c.request("x")).isEqualTo("v1:x");
        }
    }

    @Test
    void aBadConfigIsRejectedAndTheRunningOneStays() throws Exception {
        home.config("daemons.line-echo.prefix = \"a:\"\n");
        var launcher = home.start();
        Files.writeString(home.configFile(), "daemons.line-echo { prefix = \"b:\", colour = blue }\n");
        assertThatThrownBy(() -> launcher.reload().get())
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("unknown key daemons.line-echo.colour");
        try (var c = new LineClient(home.address("line-echo"))) {
            assertThat(c.request("x")).isEqualTo("a:x");
        }
    }

    @Test
    void aNewBlockStartsAndADisabledDaemonStops() throws Exception {
        var launcher = home.start();
        home.config("""
                daemons.line-echo.enabled = false
                daemons.echo-b { plugin = line-echo, prefix = "b:" }
                """);
        var report = launcher.reload().get();
        assertThat(report.started()).containsExactly("echo-b");
        assertThat(report.stopped()).containsExactly("line-echo");
        assertThat(launcher.daemon("line-echo")).isNull();
        try (var c = new LineClient(home.address("echo-b"))) {
            assertThat(c.request("x")).isEqualTo("b:x");
        }
    }
}
