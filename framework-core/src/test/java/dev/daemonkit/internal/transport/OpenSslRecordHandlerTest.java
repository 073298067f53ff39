package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.daemonkit.internal.config.DaemonSettings;
import dev.daemonkit.testing.TestCertificates;
import dev.daemonkit.timers.HierarchicalTimerWheel;
import dev.daemonkit.timers.TimerWheelSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link OpenSslRecordHandler} in an {@link EmbeddedChannel} behind the server's {@link SslHandler}
 * (OpenSSL), against a client {@link SSLEngine} driven by hand, so that each test chooses exactly which
 * bytes arrive in which read: what a user gets (records whole, split, several per read, larger than a
 * record, a TLS 1.3 KeyUpdate, close_notify) and what a peer that breaks the protocol gets (garbage, a
 * renegotiation attempt, a vanished peer): a clear close, the engine freed, no buffer left (the tests run
 * with leak detection paranoid).
 */
class OpenSslRecordHandlerTest {
    private static Path dir;
    private static TestCertificates.Issued server;

    private EmbeddedChannel channel;
    private SslHandler serverSsl;
    private SSLEngine client;
    /** What the client has read and not yet unwrapped (a partial record). */
    private ByteBuffer clientIn = ByteBuffer.allocate(0);

    private final List<Object> events = new ArrayList<>();
    /** The clock and wheel of a daemon's connections, moved by hand (the deadline tests). */
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private final HierarchicalTimerWheel wheel = new HierarchicalTimerWheel(TimerWheelSettings.defaults(), clock::get);
    /** Reads of plaintext the front handler was told of ({@link PlaintextMark}'s hook, as TlsContext installs it). */
    private int plaintextMarks;

    @BeforeAll
    static void certificates() throws Exception {
        assertThat(OpenSsl.isAvailable()).as("OpenSSL loads here").isTrue();
        assertThat(OpenSslRecordHandler.available())
                .as("the engine's BIO is reachable")
                .isTrue();
        dir = Files.createTempDirectory("daemonkit-records-");
        server = TestCertificates.newCa("records-ca").server(dir, "server", Duration.ofDays(1));
    }

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
            channel = null;
        }
        if (client != null) {
            io.netty.util.ReferenceCountUtil.release(client);
            client = null;
        }
        clientIn = ByteBuffer.allocate(0);
        events.clear();
        plaintextMarks = 0;
    }

    /** A server channel whose handshake with a client of {@code clientProvider} is done and records are ours. */
    private void connect(SslProvider clientProvider, String protocol) throws Exception {
        connect(clientProvider, protocol, null);
    }

    /**
     * The same; with {@code owner}, the channel is accepted by it (its front handler first, on the test's clock
     * and wheel) and told of the handshake and of plaintext as {@link TlsContext#install} does.
     */
    private void connect(SslProvider clientProvider, String protocol, DaemonConnections owner) throws Exception {
        SslContext serverContext = SslContextBuilder.forServer(
                        server.certFile().toFile(), server.keyFile().toFile())
                .sslProvider(SslProvider.OPENSSL)
                .protocols(protocol)
                .build();
        SslContext clientContext = SslContextBuilder.forClient()
                .sslProvider(clientProvider)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .protocols(protocol)
                .build();
        serverSsl = serverContext.newHandler(ByteBufAllocator.DEFAULT);
        if (owner == null) {
            channel = new EmbeddedChannel();
            channel.pipeline().addLast("daemonkit-tls", serverSsl);
            channel.pipeline().addLast(PlaintextMark.NAME, new PlaintextMark(() -> plaintextMarks++));
            channel.pipeline().addLast(new Echo());
        } else {
            serverSsl.setHandshakeTimeoutMillis(0); // as TlsContext: request-timeout bounds the handshake
            channel = new EmbeddedChannel(false, false);
            owner.accept(channel, p -> {
                FrontHandler front = p.get(FrontHandler.class);
                p.addLast("daemonkit-tls", serverSsl);
                front.tlsHandshakeStarted(serverSsl.handshakeFuture());
                p.addLast(PlaintextMark.NAME, new PlaintextMark(() -> {
                    plaintextMarks++;
                    front.plaintextRead();
                }));
                p.addLast(new Echo());
            });
            channel.register();
        }
        client = clientContext.newEngine(ByteBufAllocator.DEFAULT, "localhost", 443);
        client.beginHandshake();
        handshake();
        assertThat(serverSsl.handshakeFuture().isSuccess()).isTrue();
        assertThat(OpenSslRecordHandler.takeOver(channel.pipeline(), serverSsl)).isTrue();
        assertThat(channel.pipeline().get(SslHandler.class)).isNull();
        assertThat(channel.pipeline().get(OpenSslRecordHandler.NAME)).isInstanceOf(OpenSslRecordHandler.class);
        assertThat(channel.pipeline().get(PlaintextMark.class))
                .as("its hook is the record handler's now")
                .isNull();
        if (firstRequestRest != null) {
            return; // a record is under way: the test sends the rest of it first
        }
        // BoringSSL sends its NewSessionTickets (TLS 1.3) with the first reply: out of the way of what is counted.
        channel.writeInbound(direct(clientWrap(ascii("first\n"))));
        assertThat(clientUnwrap(serverOutput())).isEqualTo(ascii("first\n"));
    }

    /** Sent with the client's last handshake flight, cut after this many bytes of its record (null: not). */
    private byte[] withFinished;

    private int withFinishedCut;
    /** The rest of that record, not sent yet. */
    private byte[] firstRequestRest;

    /** Moves the handshake's flights between the client engine and the server channel until both are done. */
    private void handshake() throws Exception {
        for (int i = 0; i < 50; i++) {
            SSLEngineResult.HandshakeStatus hs = client.getHandshakeStatus();
            if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                Runnable task;
                while ((task = client.getDelegatedTask()) != null) {
                    task.run();
                }
            } else if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                byte[] flight = clientWrap(new byte[0]);
                if (withFinished != null
                        && client.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
                    // The client's last flight and the start of its first request in one read, as a client that
                    // does not wait for the server's tickets sends them.
                    byte[] first = clientWrap(withFinished);
                    channel.writeInbound(direct(concat(flight, Arrays.copyOfRange(first, 0, withFinishedCut))));
                    firstRequestRest = Arrays.copyOfRange(first, withFinishedCut, first.length);
                    withFinished = null;
                } else {
                    channel.writeInbound(direct(flight));
                }
            } else if (hs == SSLEngineResult.HandshakeStatus.NEED_UNWRAP) {
                byte[] fromServer = serverOutput();
                if (fromServer.length == 0 && clientIn.remaining() == 0) {
                    throw new AssertionError("the handshake stalled: the client waits and the server sent nothing");
                }
                clientUnwrap(fromServer);
            } else if (serverSsl.handshakeFuture().isDone()) {
                clientUnwrap(serverOutput()); // tickets, if any
                return;
            } else {
                channel.runPendingTasks();
            }
        }
        throw new AssertionError("no handshake after 50 steps");
    }

    /** The client's records of {@code plaintext} (one wrap per call: a record, or several if large). */
    private byte[] clientWrap(byte[] plaintext) throws SSLException {
        ByteBuffer src = ByteBuffer.wrap(plaintext);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer dst = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        do {
            dst.clear();
            SSLEngineResult r = client.wrap(src, dst);
            assertThat(r.getStatus()).isIn(SSLEngineResult.Status.OK, SSLEngineResult.Status.CLOSED);
            dst.flip();
            out.write(dst.array(), 0, dst.limit());
            if (r.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_WRAP && !src.hasRemaining()) {
                break;
            }
        } while (true);
        return out.toByteArray();
    }

    /** Unwraps what the server sent; returns the plaintext. Keeps a partial record for next time. */
    private byte[] clientUnwrap(byte[] fromServer) throws SSLException {
        ByteBuffer in = ByteBuffer.allocate(clientIn.remaining() + fromServer.length);
        in.put(clientIn).put(fromServer).flip();
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        ByteBuffer dst = ByteBuffer.allocate(client.getSession().getPacketBufferSize() + 1024);
        while (in.hasRemaining()) {
            dst.clear();
            SSLEngineResult r = client.unwrap(in, dst);
            dst.flip();
            plain.write(dst.array(), 0, dst.limit());
            if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                Runnable task;
                while ((task = client.getDelegatedTask()) != null) {
                    task.run();
                }
            }
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW
                    || r.getStatus() == SSLEngineResult.Status.CLOSED
                    || r.bytesConsumed() == 0 && r.bytesProduced() == 0
                    || r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                break;
            }
        }
        clientIn = ByteBuffer.allocate(in.remaining()).put(in).flip();
        return plain.toByteArray();
    }

    /** Everything the server channel wrote since the last call, its buffers released. */
    private byte[] serverOutput() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuf b;
        while ((b = channel.readOutbound()) != null) {
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            b.release();
            out.write(bytes, 0, bytes.length);
        }
        return out.toByteArray();
    }

    private static ByteBuf direct(byte[] bytes) {
        return Unpooled.directBuffer(Math.max(1, bytes.length)).writeBytes(bytes);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write(p, 0, p.length);
        }
        return out.toByteArray();
    }

    /** How many TLS records {@code bytes} holds, each whole; fails on a partial one. */
    private static int records(byte[] bytes) {
        int n = 0;
        int at = 0;
        while (at < bytes.length) {
            int length = ((bytes[at + 3] & 0xff) << 8) | (bytes[at + 4] & 0xff);
            at += 5 + length;
            n++;
        }
        assertThat(at).as("whole records").isEqualTo(bytes.length);
        return n;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Writes back what it reads; flushes once per read, as the echo daemon does. Records its events. */
    private final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            events.add(evt);
            ctx.fireUserEventTriggered(evt);
        }
    }

    @ParameterizedTest(name = "client {0}")
    @EnumSource(
            value = SslProvider.class,
            names = {"JDK", "OPENSSL"})
    void userGetsEachRecordEchoedWhetherWholeSplitAcrossReadsOrSeveralInOneRead(SslProvider clientProvider)
            throws Exception {
        connect(clientProvider, "TLSv1.3");
        // Whole: one record in one read, the reply one record.
        channel.writeInbound(direct(clientWrap(ascii("hello\n"))));
        byte[] reply = serverOutput();
        assertThat(records(reply)).isEqualTo(1);
        assertThat(clientUnwrap(reply)).isEqualTo(ascii("hello\n"));

        // Split: two records cut into reads of 1 to 7 bytes, on heap buffers as well as direct ones.
        byte[] two = concat(clientWrap(ascii("split one\n")), clientWrap(ascii("split two\n")));
        ByteArrayOutputStream echoed = new ByteArrayOutputStream();
        Random random = new Random(15);
        for (int at = 0; at < two.length; ) {
            int n = Math.min(two.length - at, 1 + random.nextInt(7));
            byte[] piece = java.util.Arrays.copyOfRange(two, at, at + n);
            channel.writeInbound(at % 2 == 0 ? direct(piece) : Unpooled.wrappedBuffer(piece));
            at += n;
            echoed.writeBytes(clientUnwrap(serverOutput()));
        }
        assertThat(echoed.toString(StandardCharsets.US_ASCII)).isEqualTo("split one\nsplit two\n");

        // Several in one read: five records, then a record and a half, then the other half.
        byte[] five = new byte[0];
        for (int i = 0; i < 5; i++) {
            five = concat(five, clientWrap(ascii("record " + i + "\n")));
        }
        channel.writeInbound(direct(five));
        assertThat(new String(clientUnwrap(serverOutput()), StandardCharsets.US_ASCII))
                .isEqualTo("record 0\nrecord 1\nrecord 2\nrecord 3\nrecord 4\n");
        // A record and a half, then the other half with a whole record after it: the half record's plaintext is
        // longer than the bytes of it in that read, so it must not be decrypted over the next record's bytes.
        byte[] a = clientWrap(ascii("and a\n"));
        byte[] b = clientWrap(ascii("half of a longer record that is cut in two\n"));
        byte[] c = clientWrap(ascii("then one more\n"));
        byte[] all = concat(a, b, c);
        int cut = a.length + b.length / 2;
        channel.writeInbound(direct(java.util.Arrays.copyOfRange(all, 0, cut)));
        assertThat(clientUnwrap(serverOutput())).isEqualTo(ascii("and a\n"));
        channel.writeInbound(direct(java.util.Arrays.copyOfRange(all, cut, all.length)));
        assertThat(new String(clientUnwrap(serverOutput()), StandardCharsets.US_ASCII))
                .isEqualTo("half of a longer record that is cut in two\nthen one more\n");
        assertThat(channel.isOpen()).isTrue();
    }

    /** Accepts by a daemon whose request-timeout is 1 s (no idle-timeout), on the test's hand-moved clock. */
    private void connectWithRequestTimeout() throws Exception {
        connect(SslProvider.OPENSSL, "TLSv1.3", owner(new DaemonSettings.Inbound(1024 * 1024, 64L * 1024 * 1024)));
    }

    /** A daemon's connections with a 1 s request-timeout and these inbound limits, on the hand-moved clock. */
    private DaemonConnections owner(DaemonSettings.Inbound inbound) {
        return new DaemonConnections(
                FrontHandlerTest.settings(Duration.ZERO, Duration.ofSeconds(1), 32 * 1024, 64 * 1024, inbound),
                wheel,
                clock::get,
                new ConnectionBudget(100),
                null);
    }

    @Test
    void attackerHeaderOfALargeRecordIsChargedTheRoomBoringSslTakesAndRefusedPastTheDaemonsTotal() throws Exception {
        // BoringSSL allocates room for a whole record once its 5-byte header has come: 19,000 connections each
        // sending a header of an 18 KiB record would hold ~340 MB that no limit counted.
        DaemonConnections owner = owner(new DaemonSettings.Inbound(1024 * 1024, 12_000));
        connect(SslProvider.OPENSSL, "TLSv1.3", owner);
        byte[] small = clientWrap(new byte[100]);
        channel.writeInbound(direct(Arrays.copyOfRange(small, 0, 20)));
        assertThat(owner.inboundBuffered())
                .as("the whole record's room, from its header")
                .isEqualTo(small.length);
        channel.writeInbound(direct(Arrays.copyOfRange(small, 20, small.length)));
        assertThat(clientUnwrap(serverOutput())).hasSize(100);
        assertThat(owner.inboundBuffered()).as("the record was opened").isZero();

        byte[] large = clientWrap(new byte[16_000]);
        channel.writeInbound(direct(Arrays.copyOfRange(large, 0, 5)));
        channel.runPendingTasks();
        assertThat(channel.isOpen())
                .as("refused: 16 KB of room past the daemon's 12,000 bytes")
                .isFalse();
        assertThat(owner.inboundRefused()).isEqualTo(1);
        assertThat(owner.inboundBuffered()).as("given back at the close").isZero();
    }

    private void advance(Duration d) {
        clock.addAndGet(d.toNanos());
        wheel.expire();
    }

    @Test
    void userWhoseFirstRequestBeginsInTheReadThatEndsTheHandshakeIsNotTakenForASlowloris() throws Exception {
        // SslHandler hands BoringSSL the whole read that finishes the handshake, the first 100 bytes of the next
        // record with it, before the record handler takes over: counting records from the takeover, the count
        // was misaligned for good, and an idle keep-alive client was cut at request-timeout (found in review).
        withFinished = ascii("x".repeat(300) + "\n");
        withFinishedCut = 100;
        connectWithRequestTimeout();
        assertThat(firstRequestRest)
                .as("the first request went with the Finished flight")
                .isNotNull();
        channel.writeInbound(direct(firstRequestRest));
        assertThat(new String(clientUnwrap(serverOutput()), StandardCharsets.US_ASCII))
                .isEqualTo("x".repeat(300) + "\n");
        advance(Duration.ofSeconds(5)); // request-timeout is 1 s: nothing is under way
        assertThat(channel.isOpen()).as("an idle client between requests").isTrue();
        channel.writeInbound(direct(clientWrap(ascii("later\n"))));
        assertThat(clientUnwrap(serverOutput())).isEqualTo(ascii("later\n"));
    }

    @Test
    void attackerTricklingOneTlsRecordAByteAtATimeIsClosedAtRequestTimeout() throws Exception {
        // BoringSSL keeps the partial record itself, so no decoder holds it: without the record layer's count the
        // front handler saw no request under way, and a byte each 100 ms kept the connection out of idle-timeout
        // for as long as the attacker liked (an unbounded slowloris on every lean TLS listener).
        connectWithRequestTimeout();
        byte[] record = clientWrap(ascii("a request that never ends\n"));
        int sent = 0;
        while (channel.isOpen() && sent < record.length - 1) {
            channel.writeInbound(direct(new byte[] {record[sent]}));
            sent++;
            advance(Duration.ofMillis(100));
        }
        assertThat(channel.isOpen()).as("closed: one record took over 1 s").isFalse();
        assertThat(sent).as("bytes before the close (one each 100 ms)").isBetween(9, 11);
    }

    @Test
    void userStreamingRecordsWithEachReadEndingInsideTheNextIsNeverCutAndGetsEverythingBack() throws Exception {
        // An echo client (no decoder in the daemon) whose reads end inside a record: each read opens the record the
        // previous one began, so the partial record now held is a new request, not one endless one.
        connectWithRequestTimeout();
        ByteArrayOutputStream sentText = new ByteArrayOutputStream();
        ByteArrayOutputStream echoed = new ByteArrayOutputStream();
        byte[] carry = new byte[0];
        for (int i = 0; i < 30; i++) {
            byte[] text = ascii("streamed record " + i + "\n");
            sentText.writeBytes(text);
            byte[] record = clientWrap(text);
            int half = record.length / 2;
            channel.writeInbound(direct(concat(carry, Arrays.copyOfRange(record, 0, half))));
            carry = Arrays.copyOfRange(record, half, record.length);
            echoed.writeBytes(clientUnwrap(serverOutput()));
            advance(Duration.ofMillis(300));
            assertThat(channel.isOpen())
                    .as("open at %d ms of streaming", (i + 1) * 300)
                    .isTrue();
        }
        channel.writeInbound(direct(carry));
        echoed.writeBytes(clientUnwrap(serverOutput()));
        assertThat(echoed.toByteArray()).isEqualTo(sentText.toByteArray());
        advance(Duration.ofSeconds(5));
        assertThat(channel.isOpen()).as("no record under way: no deadline").isTrue();
    }

    @ParameterizedTest(name = "client {0}")
    @EnumSource(
            value = SslProvider.class,
            names = {"JDK", "OPENSSL"})
    void userSendsAndGetsBackDataLargerThanOneRecordIntact(SslProvider clientProvider) throws Exception {
        connect(clientProvider, "TLSv1.3");
        byte[] big = new byte[100_000]; // six records and some each way
        new Random(17).nextBytes(big);
        byte[] wrapped = clientWrap(big);
        assertThat(records(wrapped)).isGreaterThan(6);
        // One read of all of it (several records, more plaintext than one record), then in 3000-byte reads.
        channel.writeInbound(direct(wrapped));
        byte[] reply = serverOutput();
        assertThat(records(reply)).isGreaterThan(6);
        ByteArrayOutputStream back = new ByteArrayOutputStream();
        back.writeBytes(clientUnwrap(reply));
        assertThat(back.toByteArray()).isEqualTo(big);

        byte[] again = clientWrap(big);
        back.reset();
        for (int at = 0; at < again.length; at += 3000) {
            channel.writeInbound(direct(java.util.Arrays.copyOfRange(again, at, Math.min(again.length, at + 3000))));
            back.writeBytes(clientUnwrap(serverOutput()));
        }
        assertThat(back.toByteArray()).isEqualTo(big);
    }

    @Test
    void severalWritesOfOneFlushGoOutAsOneRecordAndEveryPromiseCompletes() throws Exception {
        connect(SslProvider.JDK, "TLSv1.3");
        var first = channel.write(direct(ascii("VALUE k 0 1\r\n")));
        var second = channel.write(direct(ascii("v\r\n")));
        var third = channel.write(Unpooled.wrappedBuffer(ascii("END\r\n"))); // heap: copied
        channel.flush();
        byte[] reply = serverOutput();
        assertThat(records(reply)).isEqualTo(1);
        assertThat(new String(clientUnwrap(reply), StandardCharsets.US_ASCII)).isEqualTo("VALUE k 0 1\r\nv\r\nEND\r\n");
        assertThat(first.isSuccess() && second.isSuccess() && third.isSuccess()).isTrue();
    }

    @Test
    void userPlaintextReadsStillTellTheFrontHandlerAfterTheMarkHandlerIsGone() throws Exception {
        connect(SslProvider.OPENSSL, "TLSv1.3");
        assertThat(plaintextMarks).as("the first request, in connect").isEqualTo(1);
        channel.writeInbound(direct(clientWrap(ascii("GET / HTTP/1.1\r\n"))));
        assertThat(clientUnwrap(serverOutput())).isEqualTo(ascii("GET / HTTP/1.1\r\n"));
        assertThat(plaintextMarks).isEqualTo(2);
        // A record split across two reads: told once, with the read that completes it.
        byte[] record = clientWrap(ascii("Host: x\r\n"));
        channel.writeInbound(direct(Arrays.copyOfRange(record, 0, 7)));
        assertThat(plaintextMarks).as("only part of a record came").isEqualTo(2);
        channel.writeInbound(direct(Arrays.copyOfRange(record, 7, record.length)));
        assertThat(plaintextMarks).isEqualTo(3);
        assertThat(clientUnwrap(serverOutput())).isEqualTo(ascii("Host: x\r\n"));
    }

    @Test
    void faultReadCarryingOnlyATlsRecordWithNoPlaintextIsNotToldAsPlaintext() throws Exception {
        // What the mark exists for: a read of TLS records only (here a KeyUpdate) must not look like the start
        // of a request, or an idle keep-alive connection would be cut at request-timeout.
        connect(SslProvider.JDK, "TLSv1.3");
        int before = plaintextMarks;
        client.beginHandshake(); // the JDK's engine sends a KeyUpdate
        channel.writeInbound(direct(clientWrap(new byte[0])));
        assertThat(plaintextMarks).isEqualTo(before);
        clientUnwrap(serverOutput()); // the server's KeyUpdate
        channel.writeInbound(direct(clientWrap(ascii("after\n"))));
        assertThat(plaintextMarks).isEqualTo(before + 1);
        assertThat(clientUnwrap(serverOutput())).isEqualTo(ascii("after\n"));
    }

    @Test
    void userRepliesReuseTheLoopsOutboundBufferOnceTheLastReplyWasWritten() throws Exception {
        connect(SslProvider.OPENSSL, "TLSv1.3");
        channel.writeInbound(direct(clientWrap(ascii("one\n"))));
        ByteBuf first = channel.readOutbound();
        byte[] firstBytes = new byte[first.readableBytes()];
        first.readBytes(firstBytes);
        first.release(); // written: the transport gives its reference back
        assertThat(clientUnwrap(firstBytes)).isEqualTo(ascii("one\n"));
        channel.writeInbound(direct(clientWrap(ascii("two\n"))));
        ByteBuf second = channel.readOutbound();
        assertThat(second).as("the same buffer, not a new one per reply").isSameAs(first);
        byte[] secondBytes = new byte[second.readableBytes()];
        second.readBytes(secondBytes);
        second.release();
        assertThat(clientUnwrap(secondBytes)).isEqualTo(ascii("two\n"));
        assertThat((ByteBuf) channel.readOutbound()).isNull();
    }

    @Test
    void faultReplyStillHeldByTheTransportIsNotOverwrittenByTheNextOne() throws Exception {
        // A socket that did not take the first reply yet still holds its buffer: the next reply gets its own.
        connect(SslProvider.OPENSSL, "TLSv1.3");
        channel.writeInbound(direct(clientWrap(ascii("first reply\n"))));
        channel.writeInbound(direct(clientWrap(ascii("second\n"))));
        ByteBuf first = channel.readOutbound();
        ByteBuf second = channel.readOutbound();
        assertThat(second).isNotSameAs(first);
        assertThat(first.refCnt()).isPositive();
        byte[] both = concat(bytes(first), bytes(second));
        assertThat(records(both)).isEqualTo(2);
        assertThat(clientUnwrap(both)).isEqualTo(ascii("first reply\nsecond\n"));
        // The loop's buffer is free again for the next reply.
        channel.writeInbound(direct(clientWrap(ascii("third\n"))));
        assertThat(clientUnwrap(serverOutput())).isEqualTo(ascii("third\n"));
    }

    /** The readable bytes of {@code b}, which is released. */
    private static byte[] bytes(ByteBuf b) {
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        return bytes;
    }

    @Test
    void userTls13KeyUpdateIsAnsweredWithTheServersOwnAheadOfItsNextReply() throws Exception {
        connect(SslProvider.JDK, "TLSv1.3");
        // The JDK's engine sends a KeyUpdate asking for ours when a TLS 1.3 handshake is begun again.
        client.beginHandshake();
        byte[] keyUpdate = clientWrap(new byte[0]);
        assertThat(records(keyUpdate)).isEqualTo(1);
        channel.writeInbound(direct(concat(keyUpdate, clientWrap(ascii("after the update\n")))));
        byte[] reply = serverOutput();
        assertThat(records(reply)).as("the server's KeyUpdate, then the echo").isEqualTo(2);
        assertThat(clientUnwrap(reply)).isEqualTo(ascii("after the update\n"));
        // Both sides' new keys hold for what follows.
        channel.writeInbound(direct(clientWrap(ascii("and on\n"))));
        assertThat(clientUnwrap(serverOutput())).isEqualTo(ascii("and on\n"));
        assertThat(channel.isOpen()).isTrue();
    }

    @ParameterizedTest(name = "client {0}")
    @EnumSource(
            value = SslProvider.class,
            names = {"JDK", "OPENSSL"})
    void userCloseNotifyIsAnsweredWithTheServersAndTheConnectionClosed(SslProvider clientProvider) throws Exception {
        connect(clientProvider, "TLSv1.3");
        ReferenceCountedOpenSslEngine engine = (ReferenceCountedOpenSslEngine) serverSsl.engine();
        client.closeOutbound();
        channel.writeInbound(direct(clientWrap(new byte[0])));
        assertThat(events).contains(SslCloseCompletionEvent.SUCCESS);
        assertThat(channel.isOpen()).isFalse();
        byte[] reply = serverOutput();
        assertThat(reply).as("the server's close_notify").isNotEmpty();
        clientUnwrap(reply);
        assertThat(client.isInboundDone()).isTrue();
        assertThat(engine.refCnt()).as("the engine is freed").isZero();
    }

    @Test
    void faultPeerThatVanishesWithoutCloseNotifyFreesTheEngineAndFailsWhatWasNotFlushed() throws Exception {
        connect(SslProvider.JDK, "TLSv1.3");
        ReferenceCountedOpenSslEngine engine = (ReferenceCountedOpenSslEngine) serverSsl.engine();
        ByteBuf unflushed = direct(ascii("never flushed"));
        var write = channel.write(unflushed);
        channel.pipeline().fireChannelInactive(); // the transport saw the peer go
        assertThat(write.isDone() && !write.isSuccess()).isTrue();
        assertThat(unflushed.refCnt()).isZero();
        assertThat(engine.refCnt()).isZero();
        channel.close();
        assertThat(serverOutput()).as("nothing is sent to a peer that is gone").isEmpty();
    }

    @Test
    void attackerGarbageAfterTheHandshakeGetsAnAlertAndAClearCloseAndNothingLeaks() throws Exception {
        connect(SslProvider.JDK, "TLSv1.3");
        ReferenceCountedOpenSslEngine engine = (ReferenceCountedOpenSslEngine) serverSsl.engine();
        ByteBuf garbage = direct(concat(ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), new byte[300]));
        assertThatThrownBy(() -> channel.writeInbound(garbage))
                .isInstanceOf(DecoderException.class)
                .hasMessageContaining("TLS record refused after the handshake")
                .hasMessageContaining("WRONG_VERSION_NUMBER");
        assertThat(garbage.refCnt()).isZero();
        assertThat(channel.isOpen()).isFalse();
        byte[] alert = serverOutput();
        assertThat(alert).as("a fatal alert record").isNotEmpty();
        assertThat(alert[0])
                .as("an alert, or TLS 1.3's encrypted record of one")
                .isIn((byte) 21, (byte) 23);
        assertThat(engine.refCnt()).isZero();
        // A forged record (right header, wrong content) is refused the same way.
        close();
        connect(SslProvider.JDK, "TLSv1.3");
        byte[] record = clientWrap(ascii("tampered\n"));
        record[record.length - 1] ^= 1; // the tag no longer matches
        assertThatThrownBy(() -> channel.writeInbound(direct(record)))
                .hasMessageContaining("TLS record refused after the handshake");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void attackerRenegotiationAttemptOnTls12IsRefusedWithAnAlertAndAClose() throws Exception {
        connect(SslProvider.JDK, "TLSv1.2");
        channel.writeInbound(direct(clientWrap(ascii("before\n"))));
        assertThat(clientUnwrap(serverOutput())).isEqualTo(ascii("before\n"));
        ReferenceCountedOpenSslEngine engine = (ReferenceCountedOpenSslEngine) serverSsl.engine();
        client.beginHandshake(); // a client-initiated renegotiation: a new ClientHello
        byte[] hello = clientWrap(new byte[0]);
        assertThatThrownBy(() -> channel.writeInbound(direct(hello)))
                .isInstanceOf(DecoderException.class)
                .hasMessageContaining("TLS record refused after the handshake")
                .hasMessageContaining("NO_RENEGOTIATION");
        assertThat(channel.isOpen()).isFalse();
        assertThat(serverOutput()).as("BoringSSL's alert").isNotEmpty();
        assertThat(engine.refCnt()).isZero();
    }

    @Test
    void serverCloseSendsCloseNotifyAfterWhatWasWrittenAndRefusesLaterWrites() throws Exception {
        connect(SslProvider.JDK, "TLSv1.3");
        channel.write(direct(ascii("last words\n")));
        channel.close();
        byte[] out = serverOutput();
        assertThat(records(out)).isEqualTo(2);
        assertThat(clientUnwrap(out)).isEqualTo(ascii("last words\n"));
        assertThat(client.isInboundDone()).as("close_notify came").isTrue();
        ByteBuf late = direct(ascii("too late"));
        assertThat(channel.writeAndFlush(late).isSuccess()).isFalse();
        assertThat(late.refCnt()).isZero();
    }
}
