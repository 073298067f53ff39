package dev.daemonkit.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BotsTest {

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void memcachedRepliesAreCountedWholeAndAPartialOneIsLeftForLater() {
        ByteBuf in =
                bytes("STORED\r\nVALUE k 0 3\r\nabc\r\nEND\r\nEND\r\nSERVER_ERROR out of memory\r\nVALUE k 0 3\r\nab");
        long[] errors = new long[1];
        assertThat(MemcachedMode.readReplies(in, errors)).isEqualTo(4);
        assertThat(errors[0]).isEqualTo(1);
        assertThat(in.toString(StandardCharsets.US_ASCII)).isEqualTo("VALUE k 0 3\r\nab");
        in.release();
    }

    @Test
    void keysHaveTheAskedSize() {
        assertThat(MemcachedMode.key(42, 12)).isEqualTo("k00000000042").hasSize(12);
    }

    @Test
    void onlyLoopbackTargetsAreAccepted() {
        assertThatThrownBy(() -> Settings.parse(new String[] {"--target", "192.0.2.1:11211"}))
                .hasMessageContaining("not a loopback address");
        assertThat(Settings.parse(new String[] {"--target", "127.0.0.2:7000", "--mode", "echo"})
                        .mode())
                .isEqualTo("echo");
        assertThatThrownBy(() -> Settings.parse(new String[] {"--mode", "presence"}))
                .hasMessageContaining("is not one of [echo, memcached]");
    }

    @Test
    void aRunAgainstTheRawServerStopsByItselfAfterItsRequests() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        int p = port;
        Thread server = new Thread(() -> {
            try {
                RawMemcachedServer.main(new String[] {Integer.toString(p)});
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.setDaemon(true);
        server.start();
        await().until(() -> {
            try (Socket s = new Socket("127.0.0.1", p)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        });
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Settings settings = Settings.parse(new String[] {
            "--target",
            "127.0.0.1:" + port,
            "--connections",
            "4",
            "--depth",
            "4",
            "--requests",
            "2000",
            "--warmup",
            "0s",
            "--keys",
            "100"
        });
        Bots.Result r = new Bots(settings, new PrintStream(text, true, StandardCharsets.UTF_8)).run();
        assertThat(r.replies()).as("replies measured").isBetween(2000L, 2000L + 16);
        assertThat(r.errors()).isZero();
        assertThat(text.toString(StandardCharsets.UTF_8)).contains("RESULT mode=memcached conns=4 depth=4");
    }
}
