package dev.daemonkit.benchmarks.connections;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens COUNT connections to HOST:PORT from source addresses 127.0.0.2 and up (SOURCES of them, so
 * the ephemeral ports of one address never run out), checks each with one echoed line, then holds
 * them idle for SECONDS and closes them. Prints "holding N" when all are open, so a script can
 * measure the server meanwhile. Bounded: it always ends after SECONDS.
 *
 * <pre>HoldConnections HOST PORT COUNT SOURCES SECONDS</pre>
 */
public final class HoldConnections {
    private HoldConnections() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int count = Integer.parseInt(args[2]);
        int sources = Integer.parseInt(args[3]);
        long seconds = Long.parseLong(args[4]);
        List<SocketChannel> open = new ArrayList<>(count);
        ByteBuffer ping = ByteBuffer.wrap("ping\n".getBytes(StandardCharsets.US_ASCII));
        ByteBuffer reply = ByteBuffer.allocate(16);
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < count; i++) {
                SocketChannel ch = SocketChannel.open();
                ch.bind(new InetSocketAddress("127.0.0." + (2 + i % sources), 0));
                ch.connect(new InetSocketAddress(host, port));
                open.add(ch);
                // One round trip proves the server really accepted and serves it.
                ping.rewind();
                ch.write(ping);
                reply.clear();
                while (reply.position() < 5) {
                    if (ch.read(reply) < 0) {
                        throw new IOException("connection " + i + " closed by the server");
                    }
                }
                if ((i + 1) % 5000 == 0) {
                    System.out.printf("opened %d in %d ms%n", i + 1, (System.nanoTime() - t0) / 1_000_000);
                }
            }
            System.out.println("holding " + open.size());
            System.out.flush();
            Thread.sleep(seconds * 1000);
        } finally {
            for (SocketChannel ch : open) {
                ch.close();
            }
            System.out.println("closed " + open.size());
        }
    }
}
