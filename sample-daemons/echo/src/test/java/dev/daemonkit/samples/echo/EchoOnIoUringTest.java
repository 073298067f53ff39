package dev.daemonkit.samples.echo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.daemonkit.testkit.LineClient;
import dev.daemonkit.testkit.LogLine;
import dev.daemonkit.testkit.TestLauncher;
import io.netty.channel.uring.IoUring;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Echo (TCP) and daytime (TCP and UDP) with the launcher on io_uring: its server and datagram channels, the
 * connections reading from a provided buffer ring.
 */
class EchoOnIoUringTest {
    @RegisterExtension
    final TestLauncher launcher = TestLauncher.withPlugin(EchoPlugin.class).config("""
                    daemonkit.transport.native = io_uring
                    daemonkit.transport.io-uring-buffer-ring = 512
                    daemons.echo.listen = "127.0.0.1:0"
                    daemons.daytime { listen = "127.0.0.1:0", listen-udp = "127.0.0.1:0" }
                    """);

    @BeforeEach
    void needsIoUring() {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring is not available here: " + IoUring.unavailabilityCause());
    }

    @Test
    void linesComeBackAndDaytimeAnswersOverTcpAndUdpOnIoUring() throws IOException {
        launcher.start();
        assertThat(launcher.logs().stream().map(LogLine::message))
                .contains("transport: io_uring with " + Runtime.getRuntime().availableProcessors()
                        + " event loop thread(s), a provided buffer ring of 512 buffers per loop");

        try (LineClient client = LineClient.connect(launcher.address("echo"))) {
            assertThat(client.request("hello")).isEqualTo("hello");
            assertThat(client.request("x".repeat(5000))).isEqualTo("x".repeat(5000));
        }
        try (LineClient daytime = LineClient.connect(launcher.address("daytime", "listen"))) {
            assertThat(daytime.readLine()).matches("\\w{3}, \\d{1,2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");
        }
        InetSocketAddress udp = launcher.address("daytime", "listen-udp");
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(5_000);
            socket.send(new DatagramPacket(new byte[] {'?'}, 1, udp));
            DatagramPacket answer = new DatagramPacket(new byte[256], 256);
            socket.receive(answer);
            assertThat(new String(answer.getData(), 0, answer.getLength(), StandardCharsets.US_ASCII))
                    .matches("\\w{3}, \\d{1,2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT\r\n");
        }
    }

    @Test
    void attackerLineOverTheLimitIsRefusedOnIoUringAndAnotherClientIsServed() throws IOException {
        launcher.start("daemons.echo.max-line-bytes = 16");
        try (LineClient attacker = LineClient.connect(launcher.address("echo"));
                LineClient user = LineClient.connect(launcher.address("echo"))) {
            assertThat(attacker.request("x".repeat(40)))
                    .isEqualTo("ERROR line too long: the limit is 16 bytes (daemons.echo.max-line-bytes)");
            assertThat(user.request("still here")).isEqualTo("still here");
        }
    }
}
