package dev.daemonkit.samples.cache;

import static dev.daemonkit.samples.cache.Wire.ascii;
import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.testkit.TestLauncher;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Replies are paced by the client's reading: once they pass 64 KiB they are written out, and while the client
 * leaves them unread (the connection not writable) the cache answers no more (the rest of a multi-get, the
 * next commands) until it reads, as memcached does. One request line of many keys of a large value asked for
 * gigabytes of replies, built in one buffer on the event loop: the loop froze for minutes with every daemon on
 * it, and the process ran out of direct memory.
 */
class ReplyPacingTest {
    private static final int VALUE = 1_000_000;

    private static TestLauncher launcher;
    private static InetSocketAddress cache;

    @BeforeAll
    static void start() throws IOException {
        launcher = TestLauncher.withPlugin(CachePlugin.class)
                .config("daemons.cache { listen = \"127.0.0.1:0\", memory-limit = 16 MiB, request-timeout = 2 s }")
                .start();
        cache = launcher.address("cache");
        assertThat(Wire.setFilled(cache, "big", VALUE)).isEqualTo("STORED\r\n");
    }

    @AfterAll
    static void stop() {
        launcher.close();
    }

    @Test
    void attackerAskingGigabytesInOneLineAndReadingNothingHoldsNoMoreThanItsBuffersAndOthersAreServed()
            throws Exception {
        // 3,000 times a 1 MB value: 3 GB of replies asked for by a line of 6 KB. Before, the loop built them all in
        // one buffer (the test's JVM has 512 MB of direct memory: the connection failed with it, reply lost).
        int keys = 3_000;
        try (SocketChannel attacker = SocketChannel.open()) {
            attacker.setOption(StandardSocketOptions.SO_RCVBUF, 16 * 1024);
            attacker.connect(cache);
            attacker.write(ByteBuffer.wrap(ascii("get" + " big".repeat(keys) + "\r\n")));
            // It reads nothing for a while; another client is served meanwhile.
            for (int i = 0; i < 5; i++) {
                assertThat(Wire.exchange(cache, ascii("set small 0 0 2\r\nok\r\nget small\r\n"), false))
                        .isEqualTo("STORED\r\nVALUE small 0 2\r\nok\r\nEND\r\n");
            }
            // Then it reads: its reply is there, whole and in order, as far as it cares to read (10 values).
            attacker.configureBlocking(true);
            Socket s = attacker.socket();
            s.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] header = ascii("VALUE big 0 " + VALUE + "\r\n");
            for (int v = 0; v < 10; v++) {
                byte[] got = new byte[header.length + VALUE + 2];
                in.readFully(got);
                assertThat(Arrays.copyOfRange(got, 0, header.length))
                        .as("value %d's header", v)
                        .isEqualTo(header);
                assertThat(got[header.length + VALUE - 1]).isEqualTo((byte) 'v');
                assertThat(Arrays.copyOfRange(got, got.length - 2, got.length)).isEqualTo(ascii("\r\n"));
            }
        }
    }

    @Test
    void attackerPipeliningStatsAndReadingNothingIsAnsweredOnlyAsItReadsAndOthersAreServed() throws Exception {
        // `stats` answers ~3 KB for 7 bytes. Before, the replies of all commands the loop read in one wakeup (up to
        // 16 reads, ~1 MB) were built before any was written: ~400 MB per connection reading nothing; two such
        // connections used up the test JVM's 512 MB of direct memory (a hostile review did the same with one
        // launcher's). Now each is answered only as it reads.
        byte[] one = ascii("stats\r\n");
        byte[] many = new byte[one.length * 300_000];
        for (int i = 0; i < 300_000; i++) {
            System.arraycopy(one, 0, many, i * one.length, one.length);
        }
        long direct = io.netty.util.internal.PlatformDependent.usedDirectMemory();
        try (SocketChannel a = SocketChannel.open();
                SocketChannel b = SocketChannel.open()) {
            for (SocketChannel attacker : List.of(a, b)) {
                attacker.setOption(StandardSocketOptions.SO_RCVBUF, 16 * 1024);
                attacker.connect(cache);
                attacker.configureBlocking(false);
            }
            ByteBuffer toA = ByteBuffer.wrap(many);
            ByteBuffer toB = ByteBuffer.wrap(many);
            long stalledSince = 0;
            while (toA.hasRemaining() || toB.hasRemaining()) {
                if (a.write(toA) + b.write(toB) > 0) {
                    stalledSince = 0;
                } else if (stalledSince == 0) {
                    stalledSince = System.nanoTime();
                } else if (System.nanoTime() - stalledSince
                        > Duration.ofSeconds(1).toNanos()) {
                    break; // the server has stopped reading them
                } else {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // the attackers' pace when blocked
                }
            }
            for (int i = 0; i < 5; i++) {
                assertThat(Wire.exchange(cache, ascii("version\r\n"), false))
                        .isEqualTo("VERSION " + ClassicCommands.VERSION + "\r\n");
            }
            // The launcher runs in this JVM: what Netty's buffers hold now, the attackers' unread replies included.
            assertThat(io.netty.util.internal.PlatformDependent.usedDirectMemory() - direct)
                    .as("direct memory taken while two clients leave ~800 MB of replies unread")
                    .isLessThan(32L << 20);
            // Their answers are there when they read.
            for (SocketChannel attacker : List.of(a, b)) {
                attacker.configureBlocking(true);
                Socket s = attacker.socket();
                s.setSoTimeout(10_000);
                byte[] first = new byte[5];
                new DataInputStream(s.getInputStream()).readFully(first);
                assertThat(new String(first, StandardCharsets.US_ASCII)).isEqualTo("STAT ");
            }
        }
    }

    @Test
    void attackersOnManyConnectionsAskingLargeValuesAndReadingNothingAreClosedPastWriteBufferMaxTotal()
            throws Exception {
        // Pacing holds each connection to one value in flight, but a value is 1 MB, sixteen times the high-water
        // mark: a few thousand connections each asking and reading nothing held gigabytes until the idle timeout
        // (5 minutes), and the launcher's direct memory ran out for every daemon. Now the daemon's stalled replies
        // are capped (4 MiB here): the connections stalled longest are closed, honest clients are served.
        int attackers = 24;
        try (TestLauncher capped = TestLauncher.withPlugin(CachePlugin.class)
                .config("daemons.cache { listen = \"127.0.0.1:0\", memory-limit = 16 MiB,"
                        + " write-buffer.max-total = 4 MiB }")
                .start()) {
            InetSocketAddress at = capped.address("cache");
            assertThat(Wire.setFilled(at, "big", VALUE)).isEqualTo("STORED\r\n");
            long direct = io.netty.util.internal.PlatformDependent.usedDirectMemory();
            List<Socket> held = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < attackers; i++) {
                    Socket s = new Socket();
                    s.setReceiveBufferSize(16 * 1024);
                    s.connect(at);
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write(ascii("get big big big big\r\n")); // 4 MB asked, nothing read
                    held.add(s);
                }
                // An honest client is served meanwhile, a large value included.
                org.awaitility.Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .until(() -> capped.logs("cache").stream()
                                .anyMatch(l -> l.message().contains("write-buffer.max-total")));
                byte[] header = ascii("VALUE big 0 " + VALUE + "\r\n");
                byte[] reply = Wire.exchange(at, ascii("get big\r\n"), false).getBytes(StandardCharsets.ISO_8859_1);
                assertThat(reply).hasSize(header.length + VALUE + 2 + 5);
                // The launcher runs in this JVM: what Netty's buffers hold with the attackers' unread replies.
                assertThat(io.netty.util.internal.PlatformDependent.usedDirectMemory() - direct)
                        .as(
                                "direct memory held while %d clients leave %d MB of replies unread",
                                attackers, attackers * 4)
                        .isLessThan(12L << 20);
                // The first to stall was closed: it reads what the kernel had taken, then the end.
                assertThat(closedAfterItsBytes(held.get(0))).isTrue();
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    /** Reads a connection to its end: true if the server closed it (end of stream or reset), false on a timeout. */
    private static boolean closedAfterItsBytes(Socket s) throws IOException {
        byte[] sink = new byte[64 * 1024];
        try {
            while (s.getInputStream().read(sink) >= 0) {
                // what the kernel held for it
            }
            return true;
        } catch (java.net.SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    @Test
    void userPipeliningLargeGetsAndReadingThemSlowerThanRequestTimeoutGetsThemAll() throws Exception {
        // 20 gets of a 1 MB value in one write, read at ~5 MB/s: 4 s, past request-timeout (2 s here). The gets
        // wait in the decoder's buffer while the replies before them are unread; each one answered is progress,
        // so the connection is not taken for a slowloris (a review of the pacing found it closed after 14).
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(32 * 1024);
            s.connect(cache);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(ascii("get big\r\n".repeat(20)));
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] header = ascii("VALUE big 0 " + VALUE + "\r\n");
            byte[] chunk = new byte[header.length + VALUE + 2 + 5]; // with END
            for (int v = 0; v < 20; v++) {
                in.readFully(chunk);
                assertThat(Arrays.copyOfRange(chunk, 0, header.length))
                        .as("get %d's header", v)
                        .isEqualTo(header);
                java.util.concurrent.locks.LockSupport.parkNanos(
                        Duration.ofMillis(200).toNanos()); // a slow reader
            }
        }
    }

    @Test
    void userReadingAHugeMultiGetAndPipelinedCommandsSlowlyGetsEveryByteInOrder() throws Exception {
        // 40 MB of replies for one line, then two more commands in the same write: all answered once read.
        int keys = 40;
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(32 * 1024);
            s.connect(cache);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(ascii("get" + " big".repeat(keys) + " missing\r\nget missing\r\nversion\r\n"));
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] header = ascii("VALUE big 0 " + VALUE + "\r\n");
            byte[] chunk = new byte[header.length + VALUE + 2];
            for (int v = 0; v < keys; v++) {
                in.readFully(chunk);
                assertThat(Arrays.copyOfRange(chunk, 0, header.length))
                        .as("value %d's header", v)
                        .isEqualTo(header);
                if (v % 10 == 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(
                            Duration.ofMillis(50).toNanos()); // a slow reader
                }
            }
            byte[] rest = ascii("END\r\nEND\r\nVERSION " + ClassicCommands.VERSION + "\r\n");
            byte[] got = new byte[rest.length];
            in.readFully(got);
            assertThat(new String(got, StandardCharsets.US_ASCII))
                    .isEqualTo(new String(rest, StandardCharsets.US_ASCII));
            // The commands that waited in the decoder's buffer were answered outside a read: the framework must
            // not go on timing them as a request under way (request-timeout is 2 s here).
            java.util.concurrent.locks.LockSupport.parkNanos(
                    Duration.ofSeconds(3).toNanos()); // the client is quiet
            s.getOutputStream().write(ascii("version\r\n"));
            byte[] version = ascii("VERSION " + ClassicCommands.VERSION + "\r\n");
            byte[] again = new byte[version.length];
            in.readFully(again);
            assertThat(again).isEqualTo(version);
        }
    }
}
