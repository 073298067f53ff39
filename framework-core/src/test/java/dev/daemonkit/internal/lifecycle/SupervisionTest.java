package dev.daemonkit.internal.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.PluginJar;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import dev.daemonkit.testplugins.ThrowsInConfigurePlugin;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Restart policies, and the operator's start, stop and restart. */
class SupervisionTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    private static DaemonStatus view(Launcher launcher, String name) {
        return launcher.daemons().statuses().stream()
                .filter(v -> v.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void aCrashLoopEndsFailedAfterTheConfiguredRestartsWhileOthersServe() throws Exception {
        Jars.lineEcho(home.plugins());
        PluginJar.at(home.plugins().resolve("bad-configure.jar"))
                .withPlugin(ThrowsInConfigurePlugin.class)
                .withResource("reference.conf", "daemons.throws-in-configure.listen = \"127.0.0.1:0\"\n")
                .build();
        home.config("""
                daemons.throws-in-configure.restart {
                  policy = on-failure, max-restarts = 2, backoff-initial = 20 ms, backoff-max = 40 ms
                }
                """);
        var launcher = home.start();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> view(launcher, "throws-in-configure").lastFailure() != null
                        && view(launcher, "throws-in-configure").lastFailure().startsWith("gave up"));
        var crashing = view(launcher, "throws-in-configure");
        assertThat(crashing.state()).isEqualTo(DaemonState.FAILED);
        assertThat(crashing.restarts()).isEqualTo(2);
        assertThat(crashing.lastFailure())
                .contains("gave up after 2 restart(s)")
                .contains("configure refuses to run");
        try (var client = new LineClient(home.address("line-echo"))) {
            assertThat(client.request("unaffected")).isEqualTo("unaffected");
        }
        // No further restarts once it gave up: none is scheduled (the record published with the give-up says so).
        assertThat(crashing.restartPending()).isFalse();
    }

    @Test
    void aDaemonThatReportsAFailureIsRestartedAndServesAgain() throws Exception {
        Jars.versioned(home.plugins(), "v1");
        home.config("daemons.ver.restart { policy = on-failure, backoff-initial = 20 ms }\n");
        var launcher = home.start();
        try (var client = new LineClient(home.address("ver"))) {
            client.send("die\n");
            assertThat(client.isClosedByServer()).isTrue();
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> view(launcher, "ver").restarts() == 1
                        && view(launcher, "ver").state() == DaemonState.RUNNING);
        assertThat(view(launcher, "ver").lastFailure()).contains("the plugin reported: the client asked it to die");
        try (var client = new LineClient(home.address("ver"))) {
            assertThat(client.request("back")).isEqualTo("v1:back");
        }
    }

    @Test
    void anOperatorStopHoldsTheDaemonUntilItIsStartedAgain() throws Exception {
        Jars.versioned(home.plugins(), "v1");
        home.config("daemons.ver.restart { policy = on-failure, backoff-initial = 20 ms }\n");
        var launcher = home.start();
        assertThat(launcher.stopDaemon("ver").get()).contains("STOPPED");
        assertThat(view(launcher, "ver").state()).isEqualTo(DaemonState.STOPPED);
        assertThat(view(launcher, "ver").restartPending())
                .as("no restart scheduled after an operator's stop")
                .isFalse();
        assertThat(launcher.startDaemon("ver").get()).contains("RUNNING");
        try (var client = new LineClient(home.address("ver"))) {
            assertThat(client.request("again")).isEqualTo("v1:again");
        }
        var before = launcher.daemon("ver");
        assertThat(launcher.restartDaemon("ver").get()).contains("RUNNING");
        assertThat(launcher.daemon("ver")).isNotSameAs(before);
        assertThat(launcher.daemon("ver").state()).isEqualTo(DaemonState.RUNNING);
    }
}
