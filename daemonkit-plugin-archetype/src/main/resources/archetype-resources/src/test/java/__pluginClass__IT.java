package ${package};

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.testkit.LineClient;
import dev.daemonkit.testkit.LogLine;
import dev.daemonkit.testkit.TestLauncher;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The packaged plugin (target/plugin/${artifactId}/, as it is deployed) in a real launcher, over a real socket. An *IT
 * test: failsafe runs it in mvn verify, after package. After each test the kit also checks that the plugin's class
 * loader was collected and that Netty reported no leaked buffer.
 */
class ${pluginClass}IT {

    // A fresh launcher for each test, stopped after it; port 0 binds a free port, address() reads it back.
    @RegisterExtension
    final TestLauncher launcher = TestLauncher.withPluginAt(Path.of("target/plugin/${artifactId}"))
            .config("daemons.${daemon}.listen = \"127.0.0.1:0\"");

    @Test
    void everyLineIsGreeted() throws IOException {
        launcher.start();

        try (LineClient client = LineClient.connect(launcher.address("${daemon}"))) {
            assertThat(client.request("World")).isEqualTo("Hello, World!");
            assertThat(client.request("again")).isEqualTo("Hello, again!");
        }
        // The daemon's log lines, as data (DEBUG lines: Logback logs everything when the test has no logback-test.xml).
        assertThat(launcher.logs("${daemon}")).extracting(LogLine::message).contains("greeting World", "greeting again");
    }

    @Test
    void theGreetingComesFromTheConfig() throws IOException {
        launcher.start("daemons.${daemon}.greeting = Bonjour"); // this test's own lines win

        try (LineClient client = LineClient.connect(launcher.address("${daemon}"))) {
            assertThat(client.request("Monde")).isEqualTo("Bonjour, Monde!");
        }
    }

    @Test
    void anAttackersOversizedLineIsRefusedWithTheKeyToChangeAndOthersAreStillServed() throws IOException {
        launcher.start("daemons.${daemon}.max-line-bytes = 16");

        try (LineClient attacker = LineClient.connect(launcher.address("${daemon}"))) {
            assertThat(attacker.request("x".repeat(40)))
                    .isEqualTo("ERROR line too long: the limit is 16 bytes (daemons.${daemon}.max-line-bytes)");
            assertThat(attacker.readLine()).as("then the connection is closed").isNull();
        }
        try (LineClient client = LineClient.connect(launcher.address("${daemon}"))) {
            assertThat(client.request("World")).isEqualTo("Hello, World!");
        }
        assertThat(launcher.state("${daemon}")).isEqualTo("RUNNING");
    }
}
