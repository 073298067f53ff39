package dev.daemonkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.daemonkit.testkit.shout.ShoutPlugin;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TestLauncherTest {

    @RegisterExtension
    final TestLauncher launcher = TestLauncher.withPlugin(ShoutPlugin.class);

    @Test
    void pluginFromTheTestClassPathRunsInARealLauncherOnItsBoundPort() throws IOException {
        launcher.start();

        InetSocketAddress address = launcher.address("shout");
        assertThat(address.getPort()).isPositive();
        assertThat(launcher.state("shout")).isEqualTo("RUNNING");
        try (LineClient client = LineClient.connect(address)) {
            assertThat(client.request("hello")).isEqualTo("HELLO");
            assertThat(client.request("again")).isEqualTo("AGAIN");
        }
        assertThat(Files.list(launcher.home().resolve("plugins")).toList())
                .as("the plugin is loaded from a jar, as in production")
                .singleElement()
                .satisfies(jar -> assertThat(jar.toString()).endsWith(".jar"));
    }

    @Test
    void eachListenerHasItsOwnAddressByKey() throws IOException {
        launcher.start();

        InetSocketAddress quiet = launcher.address("shout", "listen-quiet");
        assertThat(quiet).isNotEqualTo(launcher.address("shout", "listen"));
        try (LineClient client = LineClient.connect(quiet)) {
            assertThat(client.request("psst")).isEqualTo("PSST");
        }
        assertThatThrownBy(() -> launcher.address("shout", "listen-loud"))
                .hasMessageContaining("no listener 'listen-loud'")
                .hasMessageContaining("listen-quiet");
    }

    @Test
    void aTestsOwnConfigLinesWinAndAnUnknownDaemonIsNamed() {
        launcher.config("daemons.shout.enabled = false").start("daemons.shout.enabled = true");

        assertThat(launcher.state("shout")).isEqualTo("RUNNING");
        assertThatThrownBy(() -> launcher.address("whisper"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no daemon 'whisper'");
    }

    @Test
    void aConfigErrorIsThrownWithTheOperatorsMessage() {
        assertThatThrownBy(() -> launcher.start("daemons.shout.lisen = \"127.0.0.1:0\""))
                .hasMessageContaining("lisen");
    }

    @Test
    void stopClosesThePortsAndTheLauncherCanStartAgain() throws IOException {
        InetSocketAddress first = launcher.start().address("shout");
        launcher.stop();

        assertThat(launcher.running()).isFalse();
        assertThatThrownBy(() -> new Socket(first.getAddress(), first.getPort()).close())
                .isInstanceOf(IOException.class);
        try (LineClient client = LineClient.connect(launcher.start().address("shout"))) {
            assertThat(client.request("back")).isEqualTo("BACK");
        }
    }

    @Test
    void eventLoopsOfAnIdleLauncherDoNotStall() {
        launcher.start();
        try (EventLoopStalls stalls = launcher.watchEventLoops(Duration.ofSeconds(2))) {
            assertThat(stalls.count()).isZero();
            assertThat(stalls.stalledNow()).isEmpty();
        }
    }

    @Test
    void aMissingPluginPathIsRefusedWithWhatToGive() {
        assertThatThrownBy(() -> TestLauncher.withPluginAt(Path.of("no/such/plugin.jar")))
                .hasMessageContaining("no/such/plugin.jar does not exist");
    }
}
