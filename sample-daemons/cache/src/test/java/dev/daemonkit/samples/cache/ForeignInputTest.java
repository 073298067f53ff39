package dev.daemonkit.samples.cache;

import static dev.daemonkit.samples.cache.Wire.ascii;
import static dev.daemonkit.samples.cache.Wire.concat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Misbehaving clients over real sockets: each gets memcached's answer, and nobody else notices. */
class ForeignInputTest {

    static List<Servers.Target> servers() {
        return Servers.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void aClientThatSendsHalfACommandAndGoesSilentDoesNotDisturbOthers(Servers.Target target) throws IOException {
        InetSocketAddress a = target.address();
        try (Socket silent = new Socket(a.getAddress(), a.getPort());
                Socket silentInData = new Socket(a.getAddress(), a.getPort())) {
            silent.getOutputStream().write(ascii("get half-a-comm"));
            silentInData.getOutputStream().write(ascii("set k-half 0 0 100\r\nonly some of the"));
            assertThat(Wire.exchange(a, ascii("set k-other 0 0 2\r\nok\r\nget k-other\r\n"), false))
                    .isEqualTo("STORED\r\nVALUE k-other 0 2\r\nok\r\nEND\r\n");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void garbageWithoutNewlineIsHungUpOnAndOthersCarryOn(Servers.Target target) throws IOException {
        InetSocketAddress a = target.address();
        try (Socket garbage = new Socket(a.getAddress(), a.getPort())) {
            garbage.setSoTimeout(5000);
            byte[] junk = new byte[4096];
            new Random(7).nextBytes(junk);
            for (int i = 0; i < junk.length; i++) {
                if (junk[i] == '\n') {
                    junk[i] = 'x';
                }
            }
            junk[0] = 'x';
            OutputStream out = garbage.getOutputStream();
            out.write(junk);
            out.flush();
            InputStream in = garbage.getInputStream();
            assertThat(in.read()).as("the server closed the connection").isEqualTo(-1);
        }
        assertThat(Wire.exchange(a, ascii("version\r\n"), false)).isEqualTo("VERSION 1.6.18\r\n");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void aValueSentOneBytePerSegmentIsStoredWhole(Servers.Target target) throws IOException {
        String value = "v".repeat(3000);
        String reply =
                Wire.exchange(target.address(), ascii("set k-slow 0 0 3000\r\n" + value + "\r\nget k-slow\r\n"), true);
        assertThat(reply).isEqualTo("STORED\r\nVALUE k-slow 0 3000\r\n" + value + "\r\nEND\r\n");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void aHundredCommandsPipelinedInOneSegmentAreAllAnswered(Servers.Target target) throws IOException {
        StringBuilder in = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            in.append("set p").append(i).append(" 0 0 3\r\nv").append(i % 10).append("x\r\n");
            expected.append("STORED\r\n");
        }
        in.append("get");
        for (int i = 0; i < 100; i++) {
            in.append(" p").append(i);
        }
        in.append("\r\n");
        for (int i = 0; i < 100; i++) {
            expected.append("VALUE p")
                    .append(i)
                    .append(" 0 3\r\nv")
                    .append(i % 10)
                    .append("x\r\n");
        }
        expected.append("END\r\n");
        assertThat(Wire.exchange(target.address(), ascii(in.toString()), false)).isEqualTo(expected.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void aValueOverTheItemSizeLimitIsRefusedAndItsBytesSkipped(Servers.Target target) throws IOException {
        int n = 1024 * 1024;
        byte[] in = new byte[n + 100];
        byte[] head = ascii("set k-big 0 0 " + n + "\r\n");
        System.arraycopy(head, 0, in, 0, head.length);
        Arrays.fill(in, head.length, head.length + n, (byte) 'v');
        byte[] tail = ascii("\r\nget k-big\r\n");
        System.arraycopy(tail, 0, in, head.length + n, tail.length);
        byte[] exact = Arrays.copyOf(in, head.length + n + tail.length);
        assertThat(Wire.exchange(target.address(), exact, false))
                .isEqualTo("SERVER_ERROR object too large for cache\r\nEND\r\n");
        // The largest value memcached takes under a one-byte key: 1 MB less 60 bytes of overhead.
        int max = 1024 * 1024 - 60;
        String ok = Wire.exchange(
                target.address(), concat(ascii("set k 0 0 " + max + "\r\n"), new byte[max], ascii("\r\n")), false);
        assertThat(ok).isEqualTo("STORED\r\n");
        String tooBig = Wire.exchange(
                target.address(),
                concat(ascii("set k 0 0 " + (max + 1) + "\r\n"), new byte[max + 1], ascii("\r\n")),
                false);
        assertThat(tooBig).isEqualTo("SERVER_ERROR object too large for cache\r\n");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void aMultiGetOf200LongKeysUnderTheLineLimitIsAnswered(Servers.Target target) throws IOException {
        String key = "k".repeat(247);
        StringBuilder in = new StringBuilder("set " + key + "007 0 0 1\r\nx\r\nget");
        for (int i = 0; i < 200; i++) {
            in.append(' ').append(key).append(String.format("%03d", i));
        }
        in.append("\r\n");
        assertThat(in.length())
                .as("a line of 50 KB, under the default max-line-bytes")
                .isBetween(50_000, 65_536);
        assertThat(Wire.exchange(target.address(), ascii(in.toString()), false))
                .isEqualTo("STORED\r\nVALUE " + key + "007 0 1\r\nx\r\nEND\r\n");
    }

    /** memcached would buffer it without bound (and, out of memory, it crashed in our try): we stop at 64 KiB. */
    @Test
    void attackerUnfinishedHugeGetLineIsRefusedAndClosed() throws IOException {
        byte[] line = new byte[1024 * 1024];
        Arrays.fill(line, (byte) 'k');
        System.arraycopy(ascii("get "), 0, line, 0, 4);
        assertThat(exchangeUnfinished(Servers.cache().address(), line))
                .isEqualTo("SERVER_ERROR out of memory reading request\r\n" + Wire.EOF);
    }

    @Test
    void twentyAttackersWithUnfinishedHugeGetLinesAreAllRefusedAndOthersCarryOn() throws Exception {
        InetSocketAddress a = Servers.cache().address();
        byte[] line = new byte[1024 * 1024];
        Arrays.fill(line, (byte) 'k');
        System.arraycopy(ascii("get "), 0, line, 0, 4);
        List<Future<String>> replies = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            for (int i = 0; i < 20; i++) {
                replies.add(pool.submit(() -> exchangeUnfinished(a, line)));
            }
            for (var reply : replies) {
                assertThat(reply.get()).isEqualTo("SERVER_ERROR out of memory reading request\r\n" + Wire.EOF);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(Wire.exchange(a, ascii("version\r\n"), false)).isEqualTo("VERSION 1.6.18\r\n");
    }

    /** Sends {@code input} (no newline, no sentinel) and returns all the server says until it closes. */
    private static String exchangeUnfinished(InetSocketAddress a, byte[] input) throws IOException {
        try (Socket s = new Socket(a.getAddress(), a.getPort())) {
            s.setSoTimeout(5000);
            try {
                s.getOutputStream().write(input);
                s.getOutputStream().flush();
            } catch (IOException closedEarly) {
                // the server hung up before reading it all; its reply is still to be read
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = s.getInputStream().read(buf)) >= 0; ) {
                    got.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                return got.toString(StandardCharsets.ISO_8859_1) + "<TIMEOUT>";
            } catch (IOException reset) {
                // closed with our bytes unread: a reset, after what it wrote
            }
            return got.toString(StandardCharsets.ISO_8859_1) + Wire.EOF;
        }
    }

    /** A binary GET of key "a": magic 0x80, opcode 0, key length 1, body length 1 (no 0x0a in it). */
    private static final byte[] BINARY_GET = {
        (byte) 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'a'
    };

    @Test
    void aBinaryGetIsAnsweredErrorAndClosedAtOnce() throws IOException {
        assertThat(exchangeUnfinished(Servers.cache().address(), BINARY_GET)).isEqualTo("ERROR\r\n" + Wire.EOF);
    }

    /**
     * The recorded difference: memcached -B ascii reads a binary request as a text line and answers
     * only when a newline comes (its client hangs until its own timeout), or hangs up silently after
     * 2048 bytes. The cache answers at the first byte.
     */
    @Test
    void memcachedAsciiOnlyAnswersABinaryGetOnlyWhenANewlineComes() throws IOException {
        InetSocketAddress a = Servers.memcached().address();
        try (Socket s = new Socket(a.getAddress(), a.getPort())) {
            s.setSoTimeout(500);
            s.getOutputStream().write(BINARY_GET);
            InputStream in = s.getInputStream();
            assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
            s.setSoTimeout(5000);
            s.getOutputStream().write(ascii("\r\nversion\r\n"));
            byte[] want = ascii("ERROR\r\nVERSION 1.6.18\r\n");
            assertThat(new String(in.readNBytes(want.length), StandardCharsets.ISO_8859_1))
                    .isEqualTo("ERROR\r\nVERSION 1.6.18\r\n");
        }
    }
}
