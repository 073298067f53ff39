package dev.daemonkit.internal.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A start that finishes later ({@code DaemonContext.readyWhen}): STARTING until it completes. */
class DelayedStartTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    private Path ready;
    private Path fail;

    @BeforeEach
    void plugins() throws Exception {
        Jars.slowStart(home.plugins());
        Jars.lineEcho(home.plugins());
        ready = home.plugins().resolveSibling("backend-ready");
        fail = home.plugins().resolveSibling("backend-failed");
    }

    private Launcher start(String more) throws Exception {
        home.config("daemons.slow-start { ready-file = \"" + ready + "\", fail-file = \"" + fail + "\" }\n" + more);
        return home.start();
    }

    @Test
    void aDaemonIsStartingWithNothingBoundUntilItsStartCompletesThenRunning() throws Exception {
        Launcher launcher = start("");
        DaemonInstance slow = launcher.daemon("slow-start");
        assertThat(slow.state()).isEqualTo(DaemonState.STARTING);
        assertThat(slow.listeners().get(0).boundAddress()).isNull();
        // The launch did not wait for it: the other daemon serves meanwhile.
        assertThat(launcher.daemon("line-echo").state()).isEqualTo(DaemonState.RUNNING);

        Files.writeString(ready, "");
        await().atMost(Duration.ofSeconds(5)).until(() -> slow.state() == DaemonState.RUNNING);
        try (LineClient c = new LineClient(home.address("slow-start"))) {
            assertThat(c.request("hello")).isEqualTo("ready hello");
        }
    }

    @Test
    void aFailedStartMakesTheDaemonFailedWithTheReasonAndBindsNothing() throws Exception {
        Launcher launcher = start("");
        DaemonInstance slow = launcher.daemon("slow-start");
        // Written aside and moved in: the plugin polls every 10 ms and could read a created, still empty file.
        Path written = Files.writeString(fail.resolveSibling("fail.tmp"), "the backend refused the login");
        Files.move(written, fail, StandardCopyOption.ATOMIC_MOVE);
        await().atMost(Duration.ofSeconds(5)).until(() -> slow.state() == DaemonState.FAILED);
        assertThat(slow.failure())
                .startsWith("its start failed: IllegalStateException: the backend refused the login"
                        + " (at SlowStartPlugin.java:");
        assertThat(slow.listeners().get(0).boundAddress()).isNull();
        assertThat(slow.failedToBind()).isFalse();
        assertThat(launcher.daemon("line-echo").state()).isEqualTo(DaemonState.RUNNING);
    }

    @Test
    void aStartNotReadyWithinStartTimeoutFails() throws Exception {
        Launcher launcher = start("daemons.slow-start.start-timeout = 200 ms\n");
        DaemonInstance slow = launcher.daemon("slow-start");
        await().atMost(Duration.ofSeconds(5)).until(() -> slow.state() == DaemonState.FAILED);
        assertThat(slow.failure())
                .startsWith("its plugin was not ready within daemons.slow-start.start-timeout (200 ms)");
        assertThat(slow.listeners().get(0).boundAddress()).isNull();
    }
}
