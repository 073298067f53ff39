package dev.daemonkit.samples.presence;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A presence client for tests, over the line protocol or a WebSocket: lines arrive in a queue (read
 * by a background thread or the WebSocket listener), and {@link #expect} waits for one with a
 * deadline, so a test never hangs and never sleeps.
 */
abstract class Client implements AutoCloseable {
    static final String CLOSED = "<closed>";
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    abstract void send(String line) throws IOException;

    /** Sends {@code line} and returns the next reply (OK, ERR or BYE), skipping events. */
    String request(String line) throws Exception {
        send(line);
        return expect(l -> !l.startsWith("EVENT "));
    }

    /** The next line matching {@code wanted} within 10 s, skipping others. */
    String expect(Predicate<String> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            String l = lines.poll(left, TimeUnit.NANOSECONDS);
            if (l != null && wanted.test(l)) {
                return l;
            }
            if (CLOSED.equals(l)) {
                throw new AssertionError("connection closed while waiting for a line");
            }
        }
        throw new AssertionError("no matching line within 10 s");
    }

    void expectLine(String exact) throws InterruptedException {
        assertThat(expect(l -> l.equals(exact) || l.equals(CLOSED))).isEqualTo(exact);
    }

    static Line line(InetSocketAddress address) throws IOException {
        return new Line(address, 0);
    }

    static Web web(InetSocketAddress http) throws Exception {
        return new Web(http);
    }

    /** The line protocol on a plain socket. */
    static final class Line extends Client {
        final Socket socket;

        Line(InetSocketAddress address, int receiveBuffer) throws IOException {
            socket = new Socket();
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.connect(address, 5_000);
            if (receiveBuffer == 0) {
                Thread reader = new Thread(this::readLoop, "test-client-reader");
                reader.setDaemon(true);
                reader.start();
            }
        }

        private void readLoop() {
            try {
                var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                for (String l; (l = in.readLine()) != null; ) {
                    lines.add(l);
                }
            } catch (IOException closed) {
                // the test closed it, or the server did
            }
            lines.add(CLOSED);
        }

        @Override
        synchronized void send(String line) throws IOException {
            socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** The WebSocket protocol, with the JDK's client (it sends no Origin header, like a non-browser client). */
    static final class Web extends Client implements WebSocket.Listener {
        final WebSocket ws;
        private final StringBuilder partial = new StringBuilder();

        Web(InetSocketAddress http) throws Exception {
            ws = HttpClient.newHttpClient()
                    .newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .buildAsync(URI.create("ws://" + http.getHostString() + ":" + http.getPort() + "/ws"), this)
                    .get(10, TimeUnit.SECONDS);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                lines.add(partial.toString());
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            lines.add(CLOSED);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            lines.add(CLOSED);
        }

        @Override
        void send(String line) throws IOException {
            try {
                ws.sendText(line, true).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IOException("sending " + line, e);
            }
        }

        @Override
        public void close() {
            ws.abort();
        }
    }
}
