package dev.daemonkit.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A blocking client for line protocols: it writes a line ending in {@code \n} and reads lines in UTF-8, waiting at
 * most the read timeout (5 s unless given) for each. One connection; not thread-safe.
 */
public final class LineClient implements AutoCloseable {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;

    private LineClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        this.out = socket.getOutputStream();
    }

    /** Connects to {@code address} with a 5 s read timeout. */
    public static LineClient connect(InetSocketAddress address) throws IOException {
        return connect(address, DEFAULT_TIMEOUT);
    }

    /** Connects to {@code address}; {@link #readLine()} waits at most {@code readTimeout} for a line. */
    public static LineClient connect(InetSocketAddress address, Duration readTimeout) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(address, (int) DEFAULT_TIMEOUT.toMillis());
            socket.setSoTimeout(Math.toIntExact(readTimeout.toMillis()));
            socket.setTcpNoDelay(true);
            return new LineClient(socket);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Writes {@code line} and a {@code \n}. */
    public LineClient send(String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        return this;
    }

    /**
     * The next line without its line ending, or null when the server closed the connection.
     *
     * @throws SocketTimeoutException when no whole line came within the read timeout
     */
    public String readLine() throws IOException {
        return in.readLine();
    }

    /** Sends {@code line} and returns the next line read. */
    public String request(String line) throws IOException {
        return send(line).readLine();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
