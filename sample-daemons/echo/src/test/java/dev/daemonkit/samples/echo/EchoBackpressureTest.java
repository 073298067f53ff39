package dev.daemonkit.samples.echo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.testkit.LineClient;
import dev.daemonkit.testkit.TestLauncher;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The echo plugin against a client that sends and never reads (kept out of EchoPluginTest, which the plugin guide shows). */
class EchoBackpressureTest {

    @RegisterExtension
    final TestLauncher launcher = TestLauncher.withPlugin(EchoPlugin.class).config("""
                    daemons.echo.listen = "127.0.0.1:0"
                    daemons.daytime.enabled = false
                    """);

    /**
     * A client that pipelines lines and reads none of the echoes: the daemon stops reading from it once its
     * replies are above write-buffer.high (the one handler asks for a read after every read, since it fires no
     * message on, and the front handler must hold that request), so what it can make the daemon hold is
     * bounded by the socket buffers; without the hold the daemon would read on and buffer every echo (or, past
     * write-buffer.max-total, close the connection). Another client is served meanwhile.
     */
    @Test
    void attackerPipeliningLinesAndReadingNoneIsStoppedAtItsBuffersWhileOthersAreServed() throws IOException {
        launcher.start();
        InetSocketAddress address = launcher.address("echo");
        byte[] line = ("x".repeat(1023) + "\n").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        while (chunk.hasRemaining()) {
            chunk.put(line);
        }
        long limit = 128L * 1024 * 1024; // what the attacker tries to send
        long sent = 0;
        try (SocketChannel attacker = SocketChannel.open(address);
                Selector selector = Selector.open()) {
            attacker.configureBlocking(false);
            attacker.register(selector, SelectionKey.OP_WRITE);
            while (sent < limit) {
                if (selector.select(1_000) == 0) {
                    break; // a second without room to write: the daemon has stopped reading
                }
                selector.selectedKeys().clear();
                chunk.rewind();
                sent += attacker.write(chunk);
            }
            assertThat(sent)
                    .as("bytes the daemon took from a client that reads nothing")
                    .isLessThan(48L * 1024 * 1024);
            assertThat(attacker.isOpen()).isTrue();

            try (LineClient other = LineClient.connect(address)) {
                assertThat(other.request("still here")).isEqualTo("still here");
            }
        }
    }
}
