package dev.daemonkit.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A WebSocket client for tests, on the JDK's {@link java.net.http.WebSocket}: text messages arrive in a queue and
 * {@link #receive()} takes the next one, waiting at most the receive timeout (5 s unless given). The JDK's client
 * sends no {@code Origin} header, as a non-browser client. Not thread-safe.
 */
public final class WebSocketClient implements AutoCloseable {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    /** Put in the queue when the server closes, so that a receive() waiting for a message returns at once. */
    private static final String CLOSED = "\u0000closed";

    private final WebSocket socket;
    private final BlockingQueue<String> received;
    private final Duration timeout;

    private WebSocketClient(WebSocket socket, BlockingQueue<String> received, Duration timeout) {
        this.socket = socket;
        this.received = received;
        this.timeout = timeout;
    }

    /** Opens a WebSocket to {@code uri} ({@code ws://127.0.0.1:PORT/path}) with a 5 s timeout. */
    public static WebSocketClient connect(URI uri) throws IOException {
        return connect(uri, DEFAULT_TIMEOUT);
    }

    /**
     * Opens a WebSocket to {@code uri}; the handshake and each {@link #receive()} wait at most {@code timeout}.
     *
     * @throws IOException when the handshake fails (the server's refusal, with its status) or times out
     */
    public static WebSocketClient connect(URI uri, Duration timeout) throws IOException {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    received.add(partial.toString());
                    partial.setLength(0);
                }
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                received.add(CLOSED);
                return null;
            }

            @Override
            public void onError(WebSocket webSocket, Throwable error) {
                received.add(CLOSED);
            }
        };
        try {
            WebSocket socket = HttpClient.newBuilder()
                    .connectTimeout(timeout)
                    .build()
                    .newWebSocketBuilder()
                    .connectTimeout(timeout)
                    .buildAsync(uri, listener)
                    .get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
            return new WebSocketClient(socket, received, timeout);
        } catch (ExecutionException | CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof WebSocketHandshakeException refused) {
                throw new IOException(
                        "WebSocket handshake with " + uri + " refused: HTTP "
                                + refused.getResponse().statusCode(),
                        refused);
            }
            throw new IOException("cannot open a WebSocket to " + uri + ": " + cause, cause);
        } catch (TimeoutException e) {
            throw new IOException("no WebSocket handshake with " + uri + " within " + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening a WebSocket to " + uri, e);
        }
    }

    /** Sends {@code text} as one text message. */
    public WebSocketClient send(String text) throws IOException {
        try {
            socket.sendText(text, true).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return this;
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot send on the WebSocket: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while sending on the WebSocket", e);
        }
    }

    /**
     * The next text message, or null once the server closed the WebSocket.
     *
     * @throws IOException when no message came within the timeout
     */
    public String receive() throws IOException {
        try {
            String message = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (message == null) {
                throw new IOException("no WebSocket message within " + timeout);
            }
            if (CLOSED.equals(message)) {
                received.add(CLOSED); // every later receive() sees the close too
                return null;
            }
            return message;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a WebSocket message", e);
        }
    }

    /** Sends a normal close (waiting at most the timeout for it to be written), then drops the connection. */
    @Override
    public void close() {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException alreadyClosed) {
            // the server closed first, or the connection is gone: nothing left to say
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            socket.abort();
        }
    }
}
