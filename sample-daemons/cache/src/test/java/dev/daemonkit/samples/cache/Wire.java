package dev.daemonkit.samples.cache;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Raw bytes over one fresh connection: what a test sends and everything the server answers. */
final class Wire {
    static final byte[] SENTINEL = "mn\r\n".getBytes(StandardCharsets.US_ASCII);
    static final String EOF = "<EOF>";

    private Wire() {}

    /**
     * Sends {@code input} and then "mn" (answered "MN" once everything before it is answered), and
     * returns the replies before that "MN", or up to the server closing the connection followed by
     * {@code <EOF>}. One byte per write with {@code bytewise}: every command split across segments.
     */
    static String exchange(InetSocketAddress server, byte[] input, boolean bytewise) throws IOException {
        return exchange(server, input, bytewise, 0);
    }

    /**
     * As above, for input whose own replies contain {@code mnInReply} "MN" lines: the sentinel's is
     * the one after those (otherwise a reply "MN" arriving in a read of its own would end the
     * exchange early).
     */
    static String exchange(InetSocketAddress server, byte[] input, boolean bytewise, int mnInReply) throws IOException {
        try (Socket s = new Socket(server.getAddress(), server.getPort())) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            Thread writer = null;
            if (bytewise) {
                // Written from another thread: the server may answer (and we must read) while we write.
                writer = new Thread(() -> {
                    try {
                        for (byte b : input) {
                            out.write(b);
                            out.flush();
                        }
                        out.write(SENTINEL);
                        out.flush();
                    } catch (IOException ignored) {
                        // the server closed: the reader sees it
                    }
                });
                writer.start();
            } else {
                byte[] all = new byte[input.length + SENTINEL.length];
                System.arraycopy(input, 0, all, 0, input.length);
                System.arraycopy(SENTINEL, 0, all, input.length, SENTINEL.length);
                try {
                    out.write(all);
                    out.flush();
                } catch (IOException closedEarly) {
                    // the server hung up before reading everything; its replies are still to be read
                }
            }
            byte[] buf = new byte[65536];
            try {
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        return got.toString(StandardCharsets.ISO_8859_1) + EOF;
                    }
                    got.write(buf, 0, n);
                    String text = got.toString(StandardCharsets.ISO_8859_1);
                    if (text.endsWith("MN\r\n") && count(text, "MN\r\n") > mnInReply) {
                        return text.substring(0, text.length() - 4);
                    }
                }
            } catch (SocketTimeoutException e) {
                return got.toString(StandardCharsets.ISO_8859_1) + "<TIMEOUT: no MN within 5 s>";
            } catch (IOException e) {
                return got.toString(StandardCharsets.ISO_8859_1) + EOF;
            } finally {
                if (writer != null) {
                    s.close();
                    try {
                        writer.join(5000);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }
    }

    /** {@code s} as bytes, one per character (ISO-8859-1: any byte a test means to send, ASCII included). */
    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The parts one after another. */
    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
            n++;
        }
        return n;
    }

    static void flushAll(InetSocketAddress server) throws IOException {
        String reply = exchange(server, "flush_all\r\n".getBytes(StandardCharsets.US_ASCII), false);
        if (!reply.equals("OK\r\n")) {
            throw new IOException("flush_all on " + server + " answered " + reply);
        }
    }

    /** Stores {@code key} with a value of {@code bytes} bytes of 'v' (a large item for the tests to ask for); its reply. */
    static String setFilled(InetSocketAddress server, String key, int bytes) throws IOException {
        byte[] value = new byte[bytes];
        java.util.Arrays.fill(value, (byte) 'v');
        return exchange(server, concat(ascii("set " + key + " 0 0 " + bytes + "\r\n"), value, ascii("\r\n")), false);
    }
}
