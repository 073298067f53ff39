package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code daemons.NAME.io-threads}: a daemon on event loops of its own. */
class DaemonEventLoopsTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    @Test
    void aNoisyDaemonOnItsOwnLoopCannotHoldTheLoopAnotherDaemonIsServedOn() throws Exception {
        Jars.naiveLines(home.plugins());
        Jars.lineEcho(home.plugins());
        home.config("""
                daemonkit.transport.io-threads = 1
                daemons.naive.io-threads = 1
                """);
        Launcher launcher = home.start();
        try (LineClient noisy = new LineClient(home.address("naive"));
                LineClient other = new LineClient(home.address("line-echo"))) {
            assertThat(noisy.request("thread")).startsWith("daemonkit-naive-io-");
            assertThat(launcher.daemon("naive").eventLoops()).hasSize(1);
            // Fault: the noisy daemon holds its loop for 1.5 s; the other daemon, alone on the shared
            // loop, keeps answering (with one shared loop for both, it would wait 1.5 s).
            // Wait for the plugin's own word that its loop is held, not for a guessed pause.
            assertThat(noisy.request("block")).isEqualTo("blocking");
            long t0 = System.nanoTime();
            assertThat(other.request("still served")).isEqualTo("still served");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
            assertThat(noisy.readLine()).isEqualTo("unblocked");
        }
        // Its loops end with it: no thread of them is left once it has stopped.
        launcher.stopDaemon("naive").get();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().startsWith("daemonkit-naive-io-")));
        assertThat(launcher.transport().daemonLoops()).isEmpty();
    }

    @Test
    void withoutIoThreadsADaemonSharesTheLaunchersLoops() throws Exception {
        Jars.naiveLines(home.plugins());
        home.start();
        try (LineClient c = new LineClient(home.address("naive"))) {
            assertThat(c.request("thread")).startsWith("daemonkit-io-");
        }
    }
}
