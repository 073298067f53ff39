package dev.daemonkit.samples.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.daemonkit.testkit.TestLauncher;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The presence plugin in a launcher in this JVM, over real sockets: both transports, heartbeat, slow readers, the page. */
class PresenceDaemonTest {
    private TestLauncher home;

    private TestLauncher start(String hocon) {
        home = Launchers.presence().start(hocon);
        return home;
    }

    @AfterEach
    void stop() {
        if (home != null) {
            home.close();
        }
    }

    @Test
    void lineAndWebSocketUsersShareNamesRoomsAndEvents() throws Exception {
        start("");
        try (Client alice = Client.line(home.address("presence", "listen"));
                Client bob = Client.web(home.address("presence", "listen-http"))) {
            assertThat(alice.request("LOGIN alice")).isEqualTo("OK LOGIN alice");
            assertThat(alice.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            assertThat(bob.request("LOGIN alice"))
                    .isEqualTo("ERR name-taken alice is online already: choose another name");
            assertThat(bob.request("LOGIN bob")).isEqualTo("OK LOGIN bob");
            assertThat(bob.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            alice.expectLine("EVENT JOIN lobby bob");

            assertThat(bob.request("SAY lobby hello from the web")).isEqualTo("OK SAY lobby");
            alice.expectLine("EVENT MSG lobby bob hello from the web");
            assertThat(alice.request("SAY lobby hello from a terminal")).isEqualTo("OK SAY lobby");
            bob.expectLine("EVENT MSG lobby alice hello from a terminal");
            assertThat(bob.request("WHO lobby")).isEqualTo("OK WHO lobby 2 alice bob");

            bob.send("QUIT");
            alice.expectLine("EVENT LEAVE lobby bob");
        }
    }

    @Test
    void aSilentUserIsDroppedByItsHeartbeatAndTheRoomIsTold() throws Exception {
        start("daemons.presence.heartbeat-timeout = 400 ms\n");
        try (Client silent = Client.line(home.address("presence", "listen"));
                Client watcher = Client.line(home.address("presence", "listen"))) {
            assertThat(silent.request("LOGIN silent")).isEqualTo("OK LOGIN silent");
            assertThat(silent.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            assertThat(watcher.request("LOGIN watcher")).isEqualTo("OK LOGIN watcher");
            assertThat(watcher.request("JOIN lobby")).isEqualTo("OK JOIN lobby");

            // The watcher keeps pinging, which pushes its own heartbeat back each time.
            await().atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        watcher.send("PING");
                        return watcher.lines.contains("EVENT TIMEOUT lobby silent");
                    });
            silent.expectLine("BYE timeout silent for more than 400 ms (heartbeat-timeout): send PING to stay online");
            silent.expectLine(Client.CLOSED);
            watcher.send("WHO lobby");
            watcher.expectLine("OK WHO lobby 1 watcher"); // skipping the replies to the pings
        }
    }

    @Test
    void aClientThatStopsReadingIsDisconnectedOnceItsQueuePassesTheLimitAndThatIsLoggedOnce() throws Exception {
        Logger daemonLog = (Logger) LoggerFactory.getLogger("daemon.presence");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        daemonLog.addAppender(logged);
        try {
            start("""
                    daemons.presence {
                      max-outbound-bytes = 64 KiB
                      write-buffer { low = 8 KiB, high = 16 KiB }
                      rate-limit { per-second = 1000000, burst = 1000000 }
                      room-rate-limit { bytes-per-second = 1 GiB, burst = 1 GiB }
                      max-line-bytes = 2048
                    }
                    """);
            try (Client.Line slow = new Client.Line(home.address("presence", "listen"), 4096); // never reads
                    Client flooder = Client.line(home.address("presence", "listen"))) {
                slow.send("LOGIN slow");
                slow.send("JOIN flood");
                assertThat(flooder.request("LOGIN flooder")).isEqualTo("OK LOGIN flooder");
                assertThat(flooder.request("JOIN flood")).isEqualTo("OK JOIN flood");
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    flooder.send("WHO flood");
                    return flooder.lines.contains("OK WHO flood 2 flooder slow");
                });
                String text = "x".repeat(1900);
                // Enough to fill the slow client's socket buffers and then the server's queue for it.
                for (int i = 0; i < 20_000 && !flooder.lines.contains("EVENT LEAVE flood slow"); i++) {
                    flooder.send("SAY flood " + i + " " + text);
                }
                flooder.expectLine("EVENT LEAVE flood slow");
            }
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> logged.list.stream()
                            .anyMatch(e -> e.getFormattedMessage().startsWith("disconnected slow")));
            assertThat(logged.list.stream().filter(e -> e.getFormattedMessage().startsWith("disconnected slow")))
                    .hasSize(1)
                    .allSatisfy(
                            e -> assertThat(e.getFormattedMessage()).contains("more than max-outbound-bytes (65536)"));
        } finally {
            daemonLog.detachAppender(logged);
        }
    }

    @Test
    void thePageIsServedAndOtherOriginsCannotOpenTheWebSocket() throws Exception {
        start("");
        InetSocketAddress http = home.address("presence", "listen-http");
        HttpClient client = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + http.getPort();
        HttpResponse<String> page = client.send(
                HttpRequest.newBuilder(URI.create(base + "/")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(page.body()).contains("<title>Daemonkit presence</title>");
        HttpResponse<String> script = client.send(
                HttpRequest.newBuilder(URI.create(base + "/presence.js")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.body()).contains("new WebSocket");
        HttpResponse<String> missing = client.send(
                HttpRequest.newBuilder(URI.create(base + "/secrets")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).isEqualTo("/secrets is not here: the page is at /, the WebSocket at /ws\n");

        try (Socket s = new Socket(http.getAddress(), http.getPort())) {
            s.getOutputStream()
                    .write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + http.getPort() + "\r\n"
                                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://evil.example\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response)
                    .startsWith("HTTP/1.1 403 Forbidden")
                    .contains("cross-origin WebSocket refused: Origin http://evil.example is not this server");
        }
    }

    /** Sends {@code request} on a new connection to {@code http} and returns everything until the server closes. */
    private static String exchange(InetSocketAddress http, String request) throws IOException {
        try (Socket s = new Socket(http.getAddress(), http.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String upgrade(String host, String origin) {
        return "GET /ws HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + (origin == null ? "" : "Origin: " + origin + "\r\n") + "\r\n";
    }

    @Test
    void attackerPageOnARebindingDomainCannotOpenTheWebSocketOrReadThePageWhileOthersAreServed() throws Exception {
        // A page at http://evil.example:PORT whose name then resolves to 127.0.0.1 is same-origin with itself: its
        // WebSocket's Origin matched its Host, so it got 101 and acted for the browser's user (found by a hostile
        // review). Now Host must be an IP address, localhost, or a name in allowed-hosts.
        start("daemons.presence.allowed-hosts = [\"Presence.Example.\"]\n");
        InetSocketAddress http = home.address("presence", "listen-http");
        int port = http.getPort();
        try (Client user = Client.web(http)) { // the page's own WebSocket, by address
            assertThat(user.request("LOGIN user")).isEqualTo("OK LOGIN user");

            String evil = "evil.example:" + port;
            assertThat(exchange(http, upgrade(evil, "http://" + evil)))
                    .startsWith("HTTP/1.1 403 Forbidden")
                    .contains("refused: Host: " + evil + " is not an IP address, localhost, or a name in"
                            + " daemons.presence.allowed-hosts");
            assertThat(exchange(http, "GET / HTTP/1.1\r\nHost: " + evil + "\r\n\r\n"))
                    .startsWith("HTTP/1.1 403 Forbidden")
                    .doesNotContain("<title>");
            // A name that merely starts like an address, or ends like an allowed name, is a name.
            assertThat(exchange(
                            http, upgrade("127.0.0.1.evil.example:" + port, "http://127.0.0.1.evil.example:" + port)))
                    .startsWith("HTTP/1.1 403 Forbidden");
            assertThat(exchange(http, upgrade("x.presence.example:" + port, "http://x.presence.example:" + port)))
                    .startsWith("HTTP/1.1 403 Forbidden");

            // Addresses, localhost and the configured name (any case, trailing dot or not) still open it.
            for (String host : List.of(
                    "127.0.0.1:" + port,
                    "[::1]:" + port,
                    "localhost:" + port,
                    "LOCALHOST.:" + port,
                    "presence.example:" + port)) {
                assertThat(exchange(http, upgrade(host, "http://" + host)))
                        .as(host)
                        .startsWith("HTTP/1.1 101");
            }
            assertThat(exchange(http, "GET / HTTP/1.1\r\nHost: presence.example:" + port + "\r\n\r\n"))
                    .startsWith("HTTP/1.1 200 OK")
                    .contains("<title>Daemonkit presence</title>");
            assertThat(user.request("WHO lobby")).isEqualTo("OK WHO lobby 0");
        }
    }

    /** Opens a WebSocket on a raw socket, sends {@code frames} (masked client frames) in one write, and returns every frame until EOF. */
    private static List<int[]> webSocketFramesUntilEof(InetSocketAddress http, byte[]... frames) throws IOException {
        try (Socket s = new Socket(http.getAddress(), http.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream()
                    .write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + http.getPort() + "\r\n"
                                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            DataInputStream in = new DataInputStream(s.getInputStream());
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                head.append((char) in.readUnsignedByte());
            }
            assertThat(head.toString()).startsWith("HTTP/1.1 101");
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (byte[] f : frames) {
                all.write(f);
            }
            s.getOutputStream().write(all.toByteArray());
            List<int[]> got = new ArrayList<>(); // {opcode, payload length}
            try {
                while (true) {
                    int b0 = in.read();
                    if (b0 < 0) {
                        break;
                    }
                    int len = in.readUnsignedByte() & 0x7f;
                    if (len == 126) {
                        len = in.readUnsignedShort();
                    }
                    in.readNBytes(len);
                    got.add(new int[] {b0 & 0x0f, len});
                }
            } catch (SocketException reset) {
                // closed by the server
            }
            return got;
        }
    }

    @Test
    void attackerSendingWebSocketPingsAndReadingNothingIsStoppedAtItsBuffersWhileOthersAreServed() throws Exception {
        // Netty answers each ping with a pong and then asks for a read: the server read on from a client that
        // read none of the pongs, queueing them until the heap ran out and the launcher died with every daemon
        // (without the fix this test's JVM runs out of heap: checked). With it, ~7 MB fill the socket buffers.
        start("");
        InetSocketAddress http = home.address("presence", "listen-http");
        long limit = 24L * 1024 * 1024; // about 7 MB get into the socket buffers of both sides here
        long sent = 0;
        try (java.nio.channels.SocketChannel attacker = java.nio.channels.SocketChannel.open()) {
            attacker.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4096);
            attacker.connect(http);
            attacker.write(java.nio.ByteBuffer.wrap(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + http.getPort()
                            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(1024);
            while (!new String(head.array(), 0, head.position(), StandardCharsets.US_ASCII).contains("\r\n\r\n")) {
                assertThat(attacker.read(head)).isPositive();
            }
            assertThat(new String(head.array(), 0, head.position(), StandardCharsets.US_ASCII))
                    .startsWith("HTTP/1.1 101");
            attacker.configureBlocking(false);
            ByteArrayOutputStream pings = new ByteArrayOutputStream();
            while (pings.size() < 64 * 1024) {
                pings.write(clientFrame(9, "p".repeat(125)));
            }
            byte[] burst = pings.toByteArray();
            java.nio.ByteBuffer out = java.nio.ByteBuffer.wrap(burst);
            long stalledSince = 0;
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (sent < limit && System.nanoTime() < end) {
                if (!out.hasRemaining()) {
                    out = java.nio.ByteBuffer.wrap(burst);
                }
                int n = attacker.write(out);
                sent += n;
                if (n > 0) {
                    stalledSince = 0;
                } else if (stalledSince == 0) {
                    stalledSince = System.nanoTime();
                } else if (System.nanoTime() - stalledSince
                        > Duration.ofSeconds(2).toNanos()) {
                    break; // the server has stopped reading us for 2 s
                } else {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // the attacker's pace when blocked
                }
            }
            // While the attacker's pongs wait, another user is served.
            try (Client user = Client.line(home.address("presence", "listen"))) {
                assertThat(user.request("LOGIN user")).isEqualTo("OK LOGIN user");
            }
        }
        assertThat(sent)
                .as("bytes of pings the server took from a client that read none of its pongs")
                .isLessThan(limit);
    }

    private static byte[] clientFrame(int opcode, String payload) {
        byte[] data = payload.getBytes(StandardCharsets.UTF_8);
        byte[] f = new byte[6 + data.length];
        f[0] = (byte) (0x80 | opcode);
        f[1] = (byte) (0x80 | data.length);
        byte[] mask = {9, 8, 7, 6};
        System.arraycopy(mask, 0, f, 2, 4);
        for (int i = 0; i < data.length; i++) {
            f[6 + i] = (byte) (data[i] ^ mask[i % 4]);
        }
        return f;
    }

    private static long closeFrames(List<int[]> frames) {
        return frames.stream().filter(f -> f[0] == 0x8).count();
    }

    @Test
    void aWebSocketThatClosesGetsExactlyOneCloseFrameWhoeverStartsIt() throws Exception {
        start("daemons.presence.heartbeat-timeout = 300 ms\n");
        InetSocketAddress http = home.address("presence", "listen-http");
        byte[] close = {(byte) 0x88, (byte) 0x82, 1, 2, 3, 4, 0x03 ^ 1, (byte) (0xe8 ^ 2)}; // 1000, normal closure
        assertThat(closeFrames(webSocketFramesUntilEof(http, close)))
                .as("the client closes")
                .isEqualTo(1);
        assertThat(closeFrames(webSocketFramesUntilEof(http, clientFrame(1, "QUIT"))))
                .as("QUIT")
                .isEqualTo(1);
        assertThat(closeFrames(webSocketFramesUntilEof(http, clientFrame(1, "QUIT"), close)))
                .as("QUIT and Close at once")
                .isEqualTo(1);
        assertThat(closeFrames(webSocketFramesUntilEof(http, clientFrame(1, "LOGIN x"))))
                .as("heartbeat timeout")
                .isEqualTo(1);
        byte[] unmasked = {(byte) 0x81, 0x02, 'h', 'i'}; // a client's frame must be masked: Netty answers 1002
        assertThat(closeFrames(webSocketFramesUntilEof(http, unmasked)))
                .as("attacker: a frame that breaks the protocol")
                .isEqualTo(1);
    }

    @Test
    void aWebSocketOfAStoppingDaemonGetsByeAndOneCloseFrame() throws Exception {
        start("");
        InetSocketAddress http = home.address("presence", "listen-http");
        try (Socket s = new Socket(http.getAddress(), http.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream()
                    .write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + http.getPort() + "\r\n"
                                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            DataInputStream in = new DataInputStream(s.getInputStream());
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                head.append((char) in.readUnsignedByte());
            }
            s.getOutputStream().write(clientFrame(1, "LOGIN x"));
            Thread stopper = new Thread(() -> home.close());
            stopper.start();
            List<int[]> got = new ArrayList<>();
            try {
                while (true) {
                    int b0 = in.read();
                    if (b0 < 0) {
                        break;
                    }
                    int len = in.readUnsignedByte() & 0x7f;
                    in.readNBytes(len);
                    got.add(new int[] {b0 & 0x0f, len});
                    if ((b0 & 0x0f) == 8) { // answer the server's Close, as a client does
                        s.getOutputStream()
                                .write(new byte[] {(byte) 0x88, (byte) 0x82, 1, 2, 3, 4, 0x03 ^ 1, (byte) (0xe8 ^ 2)});
                    }
                }
            } catch (SocketException reset) {
                // closed
            }
            stopper.join();
            home = null;
            assertThat(got.get(got.size() - 2)[0]).isEqualTo(1); // BYE stopping
            assertThat(closeFrames(got)).isEqualTo(1);
        }
    }
}
