import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.Arrays;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;

/**
 * What the server's TLS record path costs per echoed request, without the kernel and without the client:
 * one thread, an EmbeddedChannel per server kind, a request of 101 bytes in and its echo out, the server's
 * part timed alone (the client's wrap and unwrap are outside the timed span). Kinds:
 *   plain   the echo handler alone (what every kind shares)
 *   netty   Netty's SslHandler (OpenSSL engine, non-JDK-compatible mode, as SslContext.newHandler makes it)
 *   lean    the same after the handshake handed over to the framework's OpenSslRecordHandler
 * The rounds interleave the kinds (plain, netty, lean, plain, ...) so that a busy neighbour hits all alike;
 * each round prints ns per request of each kind; the end prints the medians and the least of the rounds, and
 * what TLS adds to plain's in each (lean - plain, netty - plain).
 *
 *   java -cp 'distribution/target/daemonkit/lib/*' benchmarks/tls/TlsRecordCost.java [ROUNDS] [REQUESTS]
 */
public class TlsRecordCost {
    static final byte[] LINE = ("x".repeat(100) + "\n").getBytes();

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
        SelfSignedCertificate cert = new SelfSignedCertificate("localhost");
        SslContext server = SslContextBuilder.forServer(cert.certificate(), cert.privateKey())
                .sslProvider(SslProvider.OPENSSL)
                .protocols("TLSv1.3")
                .build();
        SslContext client = SslContextBuilder.forClient()
                .sslProvider(SslProvider.OPENSSL)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .protocols("TLSv1.3")
                .build();
        String[] kinds = {"plain", "netty", "lean"};
        Kind[] k = {new Kind("plain", null, null), new Kind("netty", server, client), new Kind("lean", server, client)};
        for (Kind kind : k) {
            kind.run(requests); // warm-up: the JIT compiles each path
            kind.run(requests);
        }
        double[][] ns = new double[3][rounds];
        for (int r = 0; r < rounds; r++) {
            StringBuilder line = new StringBuilder("round " + (r + 1) + ":");
            for (int i = 0; i < 3; i++) {
                ns[i][r] = k[i].run(requests);
                line.append(String.format("  %s %.0f ns", kinds[i], ns[i][r]));
            }
            System.out.println(line);
        }
        double[] med = new double[3];
        double[] min = new double[3];
        for (int i = 0; i < 3; i++) {
            double[] s = ns[i].clone();
            Arrays.sort(s);
            med[i] = s[rounds / 2];
            min[i] = s[0];
        }
        // The least of the rounds: what a request costs when no neighbour took the core during it.
        System.out.printf(
                "least ns per request: plain %.0f, netty %.0f, lean %.0f; TLS adds: netty +%.0f, lean +%.0f (lean/netty %.2f)%n",
                min[0], min[1], min[2], min[1] - min[0], min[2] - min[0], (min[2] - min[0]) / (min[1] - min[0]));
        System.out.printf(
                "median ns per request: plain %.0f, netty %.0f, lean %.0f; TLS adds: netty +%.0f, lean +%.0f (lean/netty %.2f)%n",
                med[0], med[1], med[2], med[1] - med[0], med[2] - med[0], (med[2] - med[0]) / (med[1] - med[0]));
        for (Kind kind : k) {
            kind.close();
        }
    }

    /** One server channel and its client engine. */
    static final class Kind {
        final String name;
        final EmbeddedChannel channel = new EmbeddedChannel();
        final SSLEngine client;
        final ByteBuffer clientOut = ByteBuffer.allocateDirect(64 * 1024);
        final ByteBuffer clientIn = ByteBuffer.allocateDirect(64 * 1024);
        final ByteBuffer plain = ByteBuffer.allocateDirect(64 * 1024);

        Kind(String name, SslContext server, SslContext clientContext) throws Exception {
            this.name = name;
            ChannelPipeline p = channel.pipeline();
            if (server == null) {
                client = null;
                p.addLast(new Echo());
                return;
            }
            SslHandler ssl = server.newHandler(ByteBufAllocator.DEFAULT);
            p.addLast("daemonkit-tls", ssl);
            p.addLast(new Echo());
            client = clientContext.newEngine(ByteBufAllocator.DEFAULT, "localhost", 443);
            client.beginHandshake();
            for (int i = 0; i < 100 && !(ssl.handshakeFuture().isDone()
                    && client.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING); i++) {
                switch (client.getHandshakeStatus()) {
                    case NEED_WRAP -> channel.writeInbound(clientWrap(new byte[0]));
                    case NEED_TASK -> {
                        Runnable t;
                        while ((t = client.getDelegatedTask()) != null) {
                            t.run();
                        }
                    }
                    default -> clientUnwrap();
                }
            }
            clientUnwrap(); // session tickets
            if (name.equals("lean")) {
                Class<?> c = Class.forName("dev.daemonkit.internal.transport.OpenSslRecordHandler");
                Method takeOver = c.getDeclaredMethod("takeOver", ChannelPipeline.class, SslHandler.class);
                takeOver.setAccessible(true);
                if (!(boolean) takeOver.invoke(null, p, ssl)) {
                    throw new IllegalStateException("OpenSslRecordHandler did not take over");
                }
            }
            run(10); // the first reply carries BoringSSL's session tickets
        }

        ByteBuf clientWrap(byte[] bytes) throws Exception {
            clientOut.clear();
            client.wrap(ByteBuffer.wrap(bytes), clientOut);
            clientOut.flip();
            ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(clientOut.remaining());
            b.writeBytes(clientOut);
            return b;
        }

        /** Unwraps what the server wrote; returns the plaintext bytes. */
        int clientUnwrap() throws Exception {
            int n = 0;
            ByteBuf b;
            while ((b = channel.readOutbound()) != null) {
                clientIn.put(b.nioBuffer());
                b.release();
            }
            clientIn.flip();
            while (clientIn.hasRemaining()) {
                plain.clear();
                SSLEngineResult r = client.unwrap(clientIn, plain);
                n += r.bytesProduced();
                if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    Runnable t;
                    while ((t = client.getDelegatedTask()) != null) {
                        t.run();
                    }
                }
                if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesConsumed() == 0 && r.bytesProduced() == 0) {
                    break;
                }
            }
            clientIn.compact();
            return n;
        }

        /** ns of server time per request, over {@code n} requests. */
        double run(int n) throws Exception {
            long spent = 0;
            for (int i = 0; i < n; i++) {
                ByteBuf in;
                if (client == null) {
                    in = ByteBufAllocator.DEFAULT.directBuffer(LINE.length).writeBytes(LINE);
                } else {
                    in = clientWrap(LINE);
                }
                long t0 = System.nanoTime();
                channel.writeInbound(in);
                long t1 = System.nanoTime();
                spent += t1 - t0;
                if (client == null) {
                    ByteBuf out = channel.readOutbound();
                    if (out.readableBytes() != LINE.length) {
                        throw new IllegalStateException("echo of " + out.readableBytes() + " bytes");
                    }
                    out.release();
                } else if (clientUnwrap() != LINE.length) {
                    throw new IllegalStateException(name + ": the echo did not come back whole");
                }
            }
            return (double) spent / n;
        }

        void close() {
            channel.finishAndReleaseAll();
            if (client instanceof io.netty.util.ReferenceCounted rc) {
                rc.release();
            }
        }
    }

    /** Writes back what it reads, flushes once per read: the echo daemon's handler. */
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }
}
