package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.internal.admin.AdminServer;
import dev.daemonkit.internal.admin.DaemonkitMetrics;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What an attacker gets from the framework's budgets and deadlines, on every listener and without code
 * in the plugin: the "naive" test plugin's line decoder has no limit at all. Each test also checks
 * what an honest client of the same and of another daemon gets meanwhile.
 */
class HostileClientsTest {
    @RegisterExtension
    final TestHome home = newHome();

    /** The launcher's home; {@link HostileClientsOnIoUringTest} runs the same attacks on io_uring. */
    TestHome newHome() {
        return new TestHome();
    }

    private static final int KIB = 1024;

    @Test
    void attackerEndlessLineIsRefusedAtTheConnectionCapWhileHonestClientsAreServed() throws Exception {
        Jars.naiveLines(home.plugins());
        Jars.lineEcho(home.plugins());
        home.config("daemons.naive.inbound { max-buffered = 64 KiB, max-buffered-total = 1 MiB }\n");
        Launcher launcher = home.start();
        DaemonConnections naive = launcher.daemon("naive").connections();
        try (Socket attacker = connect(home.address("naive"));
                LineClient honest = new LineClient(home.address("naive"));
                LineClient other = new LineClient(home.address("line-echo"))) {
            // User: a long line below the cap is served whole.
            assertThat(honest.request("x".repeat(40 * KIB))).isEqualTo(Integer.toString(40 * KIB));
            // Attacker: 256 KiB and never a newline.
            sendQuietly(attacker, new byte[256 * KIB], 'k');
            assertClosedByServer(attacker);
            assertThat(honest.request("hello")).isEqualTo("hello");
            assertThat(other.request("hi")).isEqualTo("hi");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> naive.open() == 0);
        assertThat(naive.inboundRefused()).isEqualTo(1);
        assertThat(naive.inboundBuffered()).isZero();
    }

    @Test
    void attackersHoldingPartialLinesStopAtTheDaemonsTotalAndShortRequestsStillPass() throws Exception {
        Jars.naiveLines(home.plugins());
        Jars.lineEcho(home.plugins());
        home.config("daemons.naive.inbound { max-buffered = 64 KiB, max-buffered-total = 256 KiB }\n");
        Launcher launcher = home.start();
        DaemonConnections naive = launcher.daemon("naive").connections();
        List<Socket> attackers = new ArrayList<>();
        try (LineClient honest = new LineClient(home.address("naive"));
                LineClient other = new LineClient(home.address("line-echo"))) {
            for (int i = 0; i < 8; i++) {
                Socket s = connect(home.address("naive"));
                attackers.add(s);
                sendQuietly(s, new byte[60 * KIB], 'k'); // 8 x 60 KiB = 480 KiB wanted, 256 KiB allowed
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> naive.inboundRefused() >= 4);
            // At most four whole 60 KiB lines fit; which connections keep theirs depends on how reads interleave.
            assertThat(naive.inboundBuffered()).isPositive().isLessThanOrEqualTo(256L * KIB);
            assertThat(honest.request("short")).isEqualTo("short");
            assertThat(other.request("hi")).isEqualTo("hi");
        } finally {
            for (Socket s : attackers) {
                s.close();
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> naive.inboundBuffered() == 0 && naive.open() == 0);
    }

    @Test
    void attackersAskingForLargeRepliesAndReadingNoneAreClosedPastTheDaemonsCapWhileReadersAreServed()
            throws Exception {
        // Attacker: each connection asks for a reply far over the high-water mark and reads none of it. Before the
        // cap the daemon held every such reply until the idle timeout: a few thousand connections each asking for a
        // cache's 1 MB value used up the process's direct memory, and every daemon's reads failed. (The replies are
        // 4 MiB here: on loopback the kernel's send buffer takes a whole 1 MiB one.)
        Jars.naiveLines(home.plugins());
        Jars.lineEcho(home.plugins());
        home.config("daemons.naive.write-buffer.max-total = 8 MiB\n");
        Launcher launcher = home.start();
        DaemonConnections naive = launcher.daemon("naive").connections();
        int replyBytes = 4096 * KIB;
        long cap = 8192L * KIB;
        byte[] ask = ("big " + replyBytes + "\n").getBytes(StandardCharsets.US_ASCII);
        List<Socket> attackers = new ArrayList<>();
        try (LineClient other = new LineClient(home.address("line-echo"))) {
            for (int i = 0; i < 8; i++) {
                Socket s = new Socket();
                s.setReceiveBufferSize(4 * KIB);
                s.connect(home.address("naive"), 5_000);
                s.setSoTimeout(5_000);
                attackers.add(s);
                long seen = naive.stalledConnections() + naive.stalledEvicted();
                sendQuietly(s, ask);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> naive.stalledConnections() + naive.stalledEvicted() > seen);
                assertThat(naive.stalledReplyBytes())
                        .as("held for stalled clients after attacker %d", i)
                        .isLessThanOrEqualTo(cap);
            }
            assertThat(naive.stalledEvicted())
                    .as("32 MiB of replies wanted, 8 MiB allowed")
                    .isGreaterThanOrEqualTo(6);
            assertClosedByServer(attackers.get(0)); // the one stalled longest went first
            // User: a client that reads its reply gets all of it, while the attackers hold what the cap allows;
            // another daemon is served meanwhile.
            try (Socket reader = connect(home.address("naive"))) {
                sendQuietly(reader, ask);
                byte[] reply = reader.getInputStream().readNBytes(replyBytes + 1);
                assertThat(reply).hasSize(replyBytes + 1);
                assertThat(reply[0]).isEqualTo((byte) 'b');
                assertThat(reply[replyBytes]).isEqualTo((byte) '\n');
            }
            assertThat(other.request("hi")).isEqualTo("hi");
        } finally {
            for (Socket s : attackers) {
                s.close();
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> naive.stalledReplyBytes() == 0 && naive.open() == 0);
    }

    @Test
    void attackerTricklingALineIsClosedAtTheRequestDeadlineButIdleAndBusyClientsStay() throws Exception {
        Jars.naiveLines(home.plugins());
        home.config("daemons.naive.request-timeout = 1 s\n");
        Launcher launcher = home.start();
        DaemonConnections naive = launcher.daemon("naive").connections();
        try (Socket slowloris = connect(home.address("naive"));
                LineClient idle = new LineClient(home.address("naive"));
                LineClient busy = new LineClient(home.address("naive"))) {
            long start = System.nanoTime();
            boolean closed = false;
            for (int i = 0; i < 20 && !closed; i++) { // one byte every 200 ms: never idle, never done
                closed = !sendQuietly(slowloris, new byte[1], 'a') || serverClosed(slowloris, 200);
                assertThat(busy.request("line " + i)).isEqualTo("line " + i);
            }
            long tookMs = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertThat(closed).as("the trickling connection was closed").isTrue();
            assertThat(tookMs).isBetween(900L, 3_000L);
            assertThat(idle.request("still here")).isEqualTo("still here");
        }
        assertThat(naive.deadlineClosed()).isEqualTo(1);
    }

    @Test
    void
            adminEndpointCutsTricklingHeadersCapsConnectionsEvictsTheLongestWaitingForAnOperatorAndAnswersHugeHeadersWith431()
                    throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("""
                daemonkit.admin { listen = "127.0.0.1:0", token = "s3cret", max-connections = 3, request-timeout = 1 s }
                """);
        Launcher launcher = home.start();
        DaemonkitMetrics metrics = new DaemonkitMetrics(launcher, null, null);
        AdminServer admin =
                AdminServer.start(launcher, metrics, null, launcher.settings().admin(), () -> {});
        try {
            InetSocketAddress at = admin.address();
            // Attacker: header lines trickled one every 300 ms are cut at the request deadline.
            try (Socket slow = connect(at)) {
                sendQuietly(slow, "GET /health HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                boolean closed = false;
                for (int i = 0; i < 15 && !closed; i++) {
                    closed = !sendQuietly(slow, ("X-Slow-" + i + ": 1\r\n").getBytes(StandardCharsets.US_ASCII))
                            || serverClosed(slow, 300);
                }
                assertThat(closed).as("trickling headers closed").isTrue();
            }
            assertThat(admin.connections().deadlineClosed()).isEqualTo(1);
            // Attacker: a token and a 100 KB header get 431, not 401.
            try (Socket big = connect(at)) {
                String request = "GET /health HTTP/1.1\r\nAuthorization: Bearer s3cret\r\nX-Big: " + "b".repeat(100_000)
                        + "\r\n\r\n";
                sendQuietly(big, request.getBytes(StandardCharsets.US_ASCII));
                assertThat(readStatusLine(big)).startsWith("HTTP/1.1 431");
            }
            // Attacker: connections beyond admin.max-connections never hold more than the cap.
            await().until(() -> admin.connections().open() == 0);
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    held.add(connect(at));
                }
                await().until(() -> admin.connections().open() == 3);
                // User: an operator's request takes the place of the connection waiting longest, at once.
                try (Socket operator = connect(at)) {
                    sendQuietly(
                            operator,
                            "GET /health HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n"
                                    .getBytes(StandardCharsets.US_ASCII));
                    assertThat(readStatusLine(operator)).startsWith("HTTP/1.1 200");
                }
                assertThat(admin.connections().evicted()).isEqualTo(1);
                int closed = 0;
                for (Socket s : held) {
                    closed += serverClosed(s, 1_000) ? 1 : 0;
                }
                assertThat(closed).as("idle connections that gave their place").isEqualTo(1);
                assertThat(admin.connections().rejected()).isZero();
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
            // User: with the token, a request is served.
            await().until(() -> admin.connections().open() == 0);
            try (Socket user = connect(at)) {
                sendQuietly(
                        user,
                        "GET /health HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                assertThat(readStatusLine(user)).startsWith("HTTP/1.1 200");
            }
        } finally {
            admin.close();
            metrics.close();
        }
    }

    @Test
    void floodBeyondADaemonsShareIsRefusedAndCountedWhileAnotherDaemonKeepsItsShare() throws Exception {
        Jars.naiveLines(home.plugins());
        Jars.lineEcho(home.plugins());
        home.config("""
                daemonkit.connections.budget = 60
                daemonkit.admin.max-connections = 4
                daemons.line-echo.max-connections = 20
                """);
        Launcher launcher = home.start();
        DaemonConnections naive = launcher.daemon("naive").connections();
        assertThat(naive.maxConnections()).isEqualTo(36); // 60 - admin 4 - line-echo 20
        List<Socket> flood = new ArrayList<>();
        List<LineClient> users = new ArrayList<>();
        try {
            for (int i = 0; i < 45; i++) {
                flood.add(connect(home.address("naive")));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> naive.open() + naive.rejected() == 45);
            assertThat(naive.open()).isEqualTo(36);
            assertThat(naive.rejected()).isEqualTo(9);
            for (int i = 0; i < 20; i++) {
                LineClient u = new LineClient(home.address("line-echo"));
                users.add(u);
                assertThat(u.request("user " + i)).isEqualTo("user " + i);
            }
            assertThat(launcher.connectionBudget().open()).isEqualTo(56);
        } finally {
            for (Socket s : flood) {
                s.close();
            }
            for (LineClient u : users) {
                u.close();
            }
        }
        await().atMost(Duration.ofSeconds(1)).until(() -> naive.open() == 0);
        try (LineClient after = new LineClient(home.address("naive"))) {
            assertThat(after.request("served again")).isEqualTo("served again");
        }
    }

    @Test
    void faultReloadRaisingAShareAboveTheBudgetIsRejectedAndTheRunningLimitsStay() throws Exception {
        Jars.naiveLines(home.plugins());
        Jars.lineEcho(home.plugins());
        home.config("""
                daemonkit.connections.budget = 60
                daemonkit.admin.max-connections = 4
                daemons.line-echo.max-connections = 20
                """);
        Launcher launcher = home.start();
        home.config("""
                daemonkit.connections.budget = 60
                daemonkit.admin.max-connections = 4
                daemons.line-echo.max-connections = 50
                daemons.naive.max-connections = 20
                """);
        assertThatThrownBy(() -> launcher.reload().get())
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("add up to 70")
                .hasMessageContaining("budget is 60");
        assertThat(launcher.daemon("line-echo").connections().maxConnections()).isEqualTo(20);
        assertThat(launcher.daemon("naive").connections().maxConnections()).isEqualTo(36);
        try (LineClient c = new LineClient(home.address("naive"))) {
            assertThat(c.request("still")).isEqualTo("still");
        }
    }

    // ---- helpers

    private static Socket connect(InetSocketAddress at) throws IOException {
        Socket s = new Socket();
        s.connect(at, 5_000);
        s.setSoTimeout(5_000);
        return s;
    }

    private static boolean sendQuietly(Socket s, byte[] bytes, char fill) {
        Arrays.fill(bytes, (byte) fill);
        return sendQuietly(s, bytes);
    }

    /** False if the server has already closed the connection (the write is reset). */
    private static boolean sendQuietly(Socket s, byte[] bytes) {
        try {
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            return true;
        } catch (IOException closed) {
            return false;
        }
    }

    /** True if the server closes the connection within {@code waitMs} (end of stream or reset). */
    private static boolean serverClosed(Socket s, int waitMs) throws IOException {
        s.setSoTimeout(waitMs);
        try {
            return s.getInputStream().read() == -1;
        } catch (SocketTimeoutException open) {
            return false;
        } catch (IOException reset) {
            return true;
        } finally {
            s.setSoTimeout(5_000);
        }
    }

    private static void assertClosedByServer(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        try {
            int b;
            do {
                b = in.read();
            } while (b != -1);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection within 5 s", e);
        } catch (IOException reset) {
            // closed with unread data: a reset
        }
    }

    private static String readStatusLine(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            sb.append((char) b);
        }
        return sb.toString().trim();
    }
}
