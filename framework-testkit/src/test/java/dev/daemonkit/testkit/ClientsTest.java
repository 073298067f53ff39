package dev.daemonkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.daemonkit.testkit.shout.ShoutPlugin;
import java.io.EOFException;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The kit's clients against the shout plugin's listeners: raw bytes, HTTP (the JDK's client and uri()), WebSocket. */
class ClientsTest {

    @RegisterExtension
    static final TestLauncher launcher = TestLauncher.withPlugin(ShoutPlugin.class);

    @Test
    void aLineSentInPiecesIsAnsweredOnceItIsWhole() throws IOException {
        startOnce();
        try (ByteClient client = ByteClient.connect(launcher.address("shout"))) {
            client.send("hel").send("lo\n".getBytes(StandardCharsets.UTF_8));

            assertThat(new String(client.read(6), StandardCharsets.UTF_8)).isEqualTo("HELLO\n");
        }
    }

    @Test
    void aByteClientWaitingForMoreThanTheServerSendsBeforeClosingIsToldWhatCame() throws IOException {
        startOnce();
        try (ByteClient client = ByteClient.connect(launcher.address("shout", "listen-web"))) {
            client.send("GET /elsewhere HTTP/1.1\r\nHost: test\r\n\r\n");

            assertThatThrownBy(() -> client.read(100_000))
                    .isInstanceOf(EOFException.class)
                    .hasMessageContaining("HTTP/1.1 404 Not Found");
        }
    }

    @Test
    void httpThroughTheJdksClientAtTheListenersUri() throws Exception {
        startOnce();
        HttpResponse<String> page = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(launcher.uri("http", "shout", "listen-web", "/"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).isEqualTo("SHOUT HERE\n");
    }

    @Test
    void aWebSocketSendsAndReceivesTextMessages() throws IOException {
        startOnce();
        try (WebSocketClient ws = WebSocketClient.connect(launcher.uri("ws", "shout", "listen-web", "/ws"))) {
            assertThat(ws.send("hi").receive()).isEqualTo("HI");
            assertThat(ws.send("again").receive()).isEqualTo("AGAIN");
        }
    }

    @Test
    void aWebSocketHandshakeTheServerRefusesIsAnErrorWithItsStatus() {
        startOnce();

        assertThatThrownBy(() -> WebSocketClient.connect(launcher.uri("ws", "shout", "listen-web", "/not-a-socket")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("refused: HTTP 404");
    }

    private static void startOnce() {
        if (!launcher.running()) {
            launcher.start();
        }
    }
}
