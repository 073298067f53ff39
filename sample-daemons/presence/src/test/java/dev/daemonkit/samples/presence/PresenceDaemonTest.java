package dev.daemonkit.samples.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The presence plugin in a launcher in this JVM, over real sockets: both transports, heartbeat, slow readers, the page. */
class PresenceDaemonTest {
    @TempDir
    Path dir;
    private TestHome home;

    private TestHome start(String hocon) throws IOException {
        home = new TestHome(dir).config(hocon).start();
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
        try (Client alice = Client.line(home.address("listen"));
             Client bob = Client.web(home.address("listen-http"))) {
            assertThat(alice.request("LOGIN alice")).isEqualTo("OK LOGIN alice");
            assertThat(alice.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            assertThat(bob.request("LOGIN alice")).isEqualTo("ERR name-taken alice is online already: choose another name");
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
        try (Client silent = Client.line(home.address("listen"));
             Client watcher = Client.line(home.address("listen"))) {
            assertThat(silent.request("LOGIN silent")).isEqualTo("OK LOGIN silent");
            assertThat(silent.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            assertThat(watcher.request("LOGIN watcher")).isEqualTo("OK LOGIN watcher");
            assertThat(watcher.request("JOIN lobby")).isEqualTo("OK JOIN lobby");

            // The watcher keeps pinging, which pushes its own heartbeat back each time.
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                watcher.send("PING");
                return watcher.lines.contains("EVENT TIMEOUT lobby silent");
            });
            silent.expectLine("BYE timeout silent for more than 400 ms (heartbeat-timeout): send PING to stay online");
            silent.expectLine(Client.CLOSED);
            watcher.send("WHO lobby");
            watcher.expectLine("OK WHO lobby 1 watcher");   // skipping the replies to the pings
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
                      max-line-bytes = 2048
                    }
                    """);
            try (Client.Line slow = new Client.Line(home.address("listen"), 4096);   // never reads
                 Client flooder = Client.line(home.address("listen"))) {
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
            await().atMost(Duration.ofSeconds(5)).until(() -> logged.list.stream()
                    .anyMatch(e -> e.getFormattedMessage().startsWith("disconnected slow")));
            assertThat(logged.list.stream().filter(e -> e.getFormattedMessage().startsWith("disconnected slow")))
                    .hasSize(1)
                    .allSatisfy(e -> assertThat(e.getFormattedMessage()).contains("more than max-outbound-bytes (65536)"));
        } finally {
            daemonLog.detachAppender(logged);
        }
    }

    @Test
    void thePageIsServedAndOtherOriginsCannotOpenTheWebSocket() throws Exception {
        start("");
        InetSocketAddress http = home.address("listen-http");
        HttpClient client = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + http.getPort();
        HttpResponse<String> page = client.send(HttpRequest.newBuilder(URI.create(base + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(page.body()).contains("<title>Daemonkit presence</title>");
        HttpResponse<String> script = client.send(HttpRequest.newBuilder(URI.create(base + "/presence.js")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.body()).contains("new WebSocket");
        HttpResponse<String> missing = client.send(HttpRequest.newBuilder(URI.create(base + "/secrets")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).isEqualTo("/secrets is not here: the page is at /, the WebSocket at /ws\n");

        try (Socket s = new Socket(http.getAddress(), http.getPort())) {
            s.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + http.getPort() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://evil.example\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response).startsWith("HTTP/1.1 403 Forbidden")
                    .contains("cross-origin WebSocket refused: Origin http://evil.example is not this server");
        }
    }
}
