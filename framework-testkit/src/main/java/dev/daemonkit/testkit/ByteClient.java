package dev.daemonkit.testkit;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A blocking client for binary protocols, or for bytes a line client would not send (a half line, a bare
 * {@code \r}, invalid UTF-8): it writes bytes as given and reads a given number of bytes, or up to the close, waiting
 * at most the read timeout (5 s unless given) for each read. One connection; not thread-safe.
 */
public final class ByteClient implements AutoCloseable {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private ByteClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects to {@code address} with a 5 s read timeout. */
    public static ByteClient connect(InetSocketAddress address) throws IOException {
        return connect(address, DEFAULT_TIMEOUT);
    }

    /** Connects to {@code address}; each read waits at most {@code readTimeout}. */
    public static ByteClient connect(InetSocketAddress address, Duration readTimeout) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(address, (int) DEFAULT_TIMEOUT.toMillis());
            socket.setSoTimeout(Math.toIntExact(readTimeout.toMillis()));
            socket.setTcpNoDelay(true);
            return new ByteClient(socket);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Writes {@code bytes} and flushes them. */
    public ByteClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Writes {@code text} in UTF-8, exactly as given (no line ending is added). */
    public ByteClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The next {@code n} bytes.
     *
     * @throws EOFException when the server closed the connection before {@code n} bytes came (with what came)
     * @throws SocketTimeoutException when a read waited longer than the read timeout
     */
    public byte[] read(int n) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length < n) {
            throw new EOFException("the server closed the connection after " + bytes.length + " of " + n + " bytes: "
                    + new String(bytes, StandardCharsets.UTF_8));
        }
        return bytes;
    }

    /**
     * Everything until the server closes the connection.
     *
     * @throws SocketTimeoutException when the server neither sent nor closed within the read timeout
     */
    public byte[] readUntilClose() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all);
        return all.toByteArray();
    }

    /** Half-closes: the server reads the end of the stream, and may still answer. */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
