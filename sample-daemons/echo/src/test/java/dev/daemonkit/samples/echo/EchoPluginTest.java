package dev.daemonkit.samples.echo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.testkit.LineClient;
import dev.daemonkit.testkit.TestLauncher;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The echo plugin in a real launcher, over a real socket. */
class EchoPluginTest {

    // A fresh launcher for each test, stopped after it. The plugin is this module's compiled
    // classes, packed as a jar and loaded by its own class loader, as bin/daemonkit would.
    @RegisterExtension
    final TestLauncher launcher = TestLauncher.withPlugin(EchoPlugin.class).config("""
                    daemons.echo.listen = "127.0.0.1:0"
                    daemons.daytime.enabled = false
                    """);

    @Test
    void everyLineComesBack() throws IOException {
        launcher.start();

        try (LineClient client = LineClient.connect(launcher.address("echo"))) {
            assertThat(client.request("hello")).isEqualTo("hello");
            assertThat(client.request("and again")).isEqualTo("and again");
        }
    }

    @Test
    void aLineOverTheLimitIsRefusedWithTheKeyToChange() throws IOException {
        launcher.start("daemons.echo.max-line-bytes = 16"); // this test's own lines win

        try (LineClient client = LineClient.connect(launcher.address("echo"))) {
            assertThat(client.request("x".repeat(40)))
                    .isEqualTo("ERROR line too long: the limit is 16 bytes (daemons.echo.max-line-bytes)");
        }
    }
}
