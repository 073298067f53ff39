package dev.daemonkit.samples.cache;

import static dev.daemonkit.samples.cache.Wire.ascii;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.testkit.LogLine;
import dev.daemonkit.testkit.TestLauncher;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A data block read across reads leaves the decoder's buffer empty (the block goes into an array of its own),
 * so the cache tells the framework a request is under way ({@code PartialRequest}): request-timeout (2 s here)
 * then bounds a trickled value, and a stream of values each sent in time is never cut.
 */
class DataBlockDeadlineTest {

    private static TestLauncher launcher;
    private static InetSocketAddress cache;

    @BeforeAll
    static void start() {
        launcher = TestLauncher.withPlugin(CachePlugin.class)
                .config("daemons.cache { listen = \"127.0.0.1:0\", request-timeout = 2 s, memory-limit = 2 MiB }")
                .start();
        cache = launcher.address("cache");
    }

    @AfterAll
    static void stop() {
        launcher.close();
    }

    /** Pauses the sending client between writes, so that each write is a read of its own on the server. */
    private static void pause(long millis) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    @Test
    void attackerValuesTrickledAByteAtATimeAreClosedAtRequestTimeoutAndTheRoomTheyReservedComesBack() throws Exception {
        // Two clients reserve 2,000,000 of the 2 MiB memory-limit with the command lines of two 1,000,000-byte
        // values, then send them a byte each 100 ms: never idle, and until now never timed either (a value's
        // bytes leave the decoder's buffer), so every other client's large set was refused for as long.
        int size = 1_000_000;
        String value = "v".repeat(size);
        byte[] victimSet = ascii("set victim 0 0 " + size + "\r\n" + value + "\r\n");
        try (Socket a = trickler(size);
                Socket b = trickler(size)) {
            // Their command lines reach the server on other loops: the victim may come first once.
            await("while the trickled values hold their room, a large set is refused")
                    .pollInterval(Duration.ofMillis(20))
                    .atMost(Duration.ofMillis(1_500))
                    .untilAsserted(() -> assertThat(Wire.exchange(cache, victimSet, false))
                            .isEqualTo("SERVER_ERROR out of memory storing object\r\n"));
            long start = System.nanoTime();
            boolean aClosed = false;
            boolean bClosed = false;
            for (int i = 0; i < 100 && !(aClosed && bClosed); i++) {
                pause(100);
                aClosed = aClosed || trickleOrClosed(a);
                bClosed = bClosed || trickleOrClosed(b);
            }
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(aClosed && bClosed).as("both trickling clients closed").isTrue();
            assertThat(tookMs)
                    .as("closed at the 2 s request-timeout, not at the idle timeout")
                    .isLessThan(8_000);
        }
        await("the room of the closed connections is given back")
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(
                        () -> assertThat(Wire.exchange(cache, victimSet, false)).isEqualTo("STORED\r\n"));
        assertThat(launcher.logs("cache").stream().map(LogLine::message))
                .anyMatch(m -> m.contains("sent part of a request") && m.contains("daemons.cache.request-timeout"));
    }

    @Test
    void attackerACommandLineTrickledThenItsValueTrickledIsOneRequestFromItsFirstByte() throws Exception {
        // The line's last bytes end it and begin the data block in one read: that read must not look like a new
        // request (the line counts as part of it), or the client would get a second request-timeout for the block.
        try (Socket s = new Socket(cache.getAddress(), cache.getPort())) {
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            long start = System.nanoTime();
            out.write(ascii("set slowline 0 0 1"));
            for (int i = 0; i < 5; i++) { // 1.5 s of the 2 s on the line: "set slowline 0 0 100000"
                pause(300);
                out.write('0');
            }
            out.write(ascii("\r\n"));
            boolean closed = false;
            for (int i = 0; i < 60 && !closed; i++) {
                pause(100);
                closed = trickleOrClosed(s);
            }
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(closed).as("closed").isTrue();
            assertThat(tookMs)
                    .as("closed 2 s after the line's first byte, not 2 s after its end (3.5 s)")
                    .isLessThan(3_200);
        }
    }

    /** A client that has sent the command line of a {@code size}-byte value and its first two bytes. */
    private static Socket trickler(int size) throws IOException {
        Socket s = new Socket(cache.getAddress(), cache.getPort());
        s.setTcpNoDelay(true);
        s.getOutputStream().write(ascii("set trickled 0 0 " + size + "\r\nab"));
        return s;
    }

    /** Sends one more byte of the value; true once the server has closed the connection. */
    private static boolean trickleOrClosed(Socket s) {
        try {
            s.getOutputStream().write('c');
            s.getOutputStream().flush();
            return readsEnd(s);
        } catch (IOException e) {
            return true; // a reset: the server closed it
        }
    }

    /** Whether the server has closed the connection: a read that ends (or resets) within 50 ms. */
    private static boolean readsEnd(Socket s) throws IOException {
        int before = s.getSoTimeout();
        s.setSoTimeout(50);
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        } finally {
            s.setSoTimeout(before);
        }
    }

    @Test
    void aClientStreamingValuesEachSpanningReadsIsNotCutThoughTheStreamOutlastsRequestTimeout() throws Exception {
        // 40 sets of 20 KB, each write finishing one value and beginning the next, 100 ms apart: 4 s of one
        // stream against a 2 s request-timeout, while no request takes more than ~100 ms.
        int values = 40;
        String value = "x".repeat(20_000);
        try (Socket client = new Socket(cache.getAddress(), cache.getPort())) {
            client.setTcpNoDelay(true);
            client.setSoTimeout(10_000);
            OutputStream out = client.getOutputStream();
            out.write(ascii("set stream-0 0 0 " + value.length() + "\r\n" + value.substring(0, 10_000)));
            out.flush();
            for (int i = 1; i < values; i++) {
                pause(100);
                out.write(ascii(value.substring(10_000) + "\r\nset stream-" + i + " 0 0 " + value.length() + "\r\n"
                        + value.substring(0, 10_000)));
                out.flush();
            }
            pause(100);
            out.write(ascii(value.substring(10_000) + "\r\nget stream-" + (values - 1) + "\r\n"));
            out.flush();
            String expected = "STORED\r\n".repeat(values) + "VALUE stream-" + (values - 1) + " 0 " + value.length()
                    + "\r\n" + value + "\r\nEND\r\n";
            byte[] reply = readExactly(client.getInputStream(), expected.length());
            assertThat(new String(reply, StandardCharsets.ISO_8859_1)).isEqualTo(expected);
        }
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertThat(b.length).as("bytes before the server closed").isEqualTo(n);
        return b;
    }
}
