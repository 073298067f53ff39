package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.api.DaemonStopping;
import dev.daemonkit.internal.config.DaemonSettings;
import dev.daemonkit.timers.HierarchicalTimerWheel;
import dev.daemonkit.timers.TimerWheelSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The front handler alone, in an {@link EmbeddedChannel}, on a timer wheel driven by a hand-moved clock. */
class FrontHandlerTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final HierarchicalTimerWheel wheel = new HierarchicalTimerWheel(TimerWheelSettings.defaults(), clock::get);
    private final List<Object> events = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    static DaemonSettings settings(Duration idle, int writeLow, int writeHigh) {
        return settings(idle, Duration.ZERO, writeLow, writeHigh);
    }

    /** A daemon's settings with these deadlines and write marks (other tests of the package take them too). */
    static DaemonSettings settings(Duration idle, Duration requestTimeout, int writeLow, int writeHigh) {
        return settings(
                idle, requestTimeout, writeLow, writeHigh, new DaemonSettings.Inbound(1024 * 1024, 64L * 1024 * 1024));
    }

    /** The same with these inbound limits. */
    static DaemonSettings settings(
            Duration idle, Duration requestTimeout, int writeLow, int writeHigh, DaemonSettings.Inbound inbound) {
        return settings(idle, requestTimeout, writeLow, writeHigh, inbound, 64L * 1024 * 1024);
    }

    /** The same with this cap on what stalled connections hold ({@code write-buffer.max-total}). */
    static DaemonSettings settings(
            Duration idle,
            Duration requestTimeout,
            int writeLow,
            int writeHigh,
            DaemonSettings.Inbound inbound,
            long writeMaxTotal) {
        return new DaemonSettings(
                "front-test",
                "front-test",
                true,
                10,
                idle,
                requestTimeout,
                inbound,
                writeLow,
                writeHigh,
                writeMaxTotal,
                new DaemonSettings.RestartPolicy(false, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO),
                0,
                Duration.ofSeconds(30));
    }

    private DaemonConnections connections(DaemonSettings settings) {
        return new DaemonConnections(settings, wheel, clock::get, new ConnectionBudget(100), null);
    }

    /** A connection accepted by {@code owner}: front handler, a handler that records user events, barrier. */
    private EmbeddedChannel accept(DaemonConnections owner) throws Exception {
        return accept(owner, new io.netty.channel.ChannelHandler[0]);
    }

    /** The same, with a line decoder (1 KiB lines) before the recorder when {@code lines}: it holds partial lines. */
    private EmbeddedChannel accept(DaemonConnections owner, boolean lines) throws Exception {
        return lines ? accept(owner, new io.netty.handler.codec.LineBasedFrameDecoder(1024)) : accept(owner);
    }

    /** The same, with {@code decoders} before the recorder. */
    private EmbeddedChannel accept(DaemonConnections owner, io.netty.channel.ChannelHandler... decoders)
            throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        owner.accept(ch, p -> {
            p.addLast(decoders);
            p.addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    events.add(evt);
                }

                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ((ByteBuf) msg).release();
                }
            });
        });
        ch.register();
        channels.add(ch);
        return ch;
    }

    private void advance(Duration d) {
        clock.addAndGet(d.toNanos());
        wheel.expire();
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @AfterEach
    void releaseEverything() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aLoggingConnectionsStringsAreBuiltOnceAndAPeerNotYetKnownIsNotKept() throws Exception {
        DaemonConnections owner = connections(settings(Duration.ZERO, 32 * 1024, 64 * 1024));
        EmbeddedChannel ch = new EmbeddedChannel(false, false) {
            @Override
            protected java.net.SocketAddress remoteAddress0() {
                return new java.net.InetSocketAddress("127.0.0.2", 40017);
            }
        };
        FrontHandler[] front = new FrontHandler[1];
        EmbeddedChannel unknown = new EmbeddedChannel(false, false); // no socket address: peer "?"
        owner.accept(unknown, p -> {});
        FrontHandler notYet = unknown.pipeline().get(FrontHandler.class);
        assertThat(notYet.peer()).isEqualTo("?");
        assertThat(notYet.connectionId()).isNotSameAs(notYet.connectionId()).as("not kept while the peer is unknown");
        owner.accept(ch, p -> {});
        ch.register();
        unknown.register();
        channels.add(ch);
        channels.add(unknown);
        front[0] = ch.pipeline().get(FrontHandler.class);
        String id = front[0].connectionId();
        assertThat(front[0].peer()).isEqualTo("127.0.0.2:40017");
        assertThat(front[0].connectionId()).isSameAs(id).as("built once while it keeps logging");
        assertThat(Long.parseLong(id)).isPositive();
    }

    @Test
    void aSilentConnectionIsClosedAtItsIdleTimeoutAndActivityPushesTheTimeoutBack() throws Exception {
        EmbeddedChannel ch = accept(connections(settings(Duration.ofSeconds(5), 32 * 1024, 64 * 1024)));
        advance(Duration.ofSeconds(3));
        ch.writeInbound(bytes("hello\n")); // activity at 3 s: idle until 8 s
        advance(Duration.ofSeconds(3)); // 6 s: the first timer fires, finds activity, waits for the rest
        assertThat(ch.isOpen()).isTrue();
        advance(Duration.ofMillis(1_900)); // 7.9 s
        assertThat(ch.isOpen()).isTrue();
        advance(Duration.ofMillis(200)); // 8.1 s
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aWriteCountsAsActivityToo() throws Exception {
        EmbeddedChannel ch = accept(connections(settings(Duration.ofSeconds(5), 32 * 1024, 64 * 1024)));
        advance(Duration.ofSeconds(4));
        ch.writeOutbound(bytes("server speaks\n"));
        advance(Duration.ofSeconds(4));
        assertThat(ch.isOpen()).isTrue();
        advance(Duration.ofSeconds(2));
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aWriteLongAfterTheLastReadStillPushesTheIdleTimeoutBack() throws Exception {
        // A reply within a read needs no clock read of its own (the read stamped the activity); once
        // the read is over, a write (a server push) must stamp again, or the connection would be cut.
        EmbeddedChannel ch = accept(connections(settings(Duration.ofSeconds(5), 32 * 1024, 64 * 1024)));
        ch.writeInbound(bytes("hello\n")); // read and read-complete at 0 s
        advance(Duration.ofSeconds(4));
        ch.writeOutbound(bytes("server speaks\n")); // activity at 4 s: idle until 9 s
        advance(Duration.ofSeconds(4)); // 8 s
        assertThat(ch.isOpen()).isTrue();
        advance(Duration.ofSeconds(2)); // 10 s
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aClientThatDoesNotReadPausesReadingUntilItsRepliesDrain() throws Exception {
        EmbeddedChannel ch = accept(connections(settings(Duration.ZERO, 8, 16)));
        assertThat(ch.config().isAutoRead()).isTrue();
        ch.write(bytes("a reply of more than sixteen bytes\n")); // queued, not flushed: above the high mark
        assertThat(ch.isWritable()).isFalse();
        assertThat(ch.config().isAutoRead()).isFalse();
        ch.flush(); // written out: below the low mark
        assertThat(ch.isWritable()).isTrue();
        assertThat(ch.config().isAutoRead()).isTrue();
    }

    @Test
    void attackerAClientThatDoesNotReadCannotHaveAHandlersExplicitReadsReadOnForIt() throws Exception {
        // Netty's WebSocket handler answers a ping with a pong and then asks for a read whenever auto-read is off:
        // a client sending pings and reading nothing had the server read on and queue pongs until the heap ran out.
        EmbeddedChannel ch = accept(connections(settings(Duration.ZERO, 8, 16)));
        int[] reads = new int[1];
        ch.pipeline().addFirst(new io.netty.channel.ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                reads[0]++; // what reaches the transport
                ctx.read();
            }
        });
        ch.pipeline().read();
        assertThat(reads[0])
                .as("a read asked for while the client reads its replies")
                .isEqualTo(1);
        ch.write(bytes("a pong of more than sixteen bytes\n")); // the client reads nothing: not writable
        assertThat(ch.isWritable()).isFalse();
        ch.pipeline().read(); // as WebSocketProtocolHandler.readIfNeeded does after each ping
        ch.pipeline().read();
        assertThat(reads[0]).as("no read while its replies wait").isEqualTo(1);
        ch.flush(); // the client read them
        assertThat(ch.isWritable()).isTrue();
        assertThat(reads[0]).as("reading resumes with auto-read").isEqualTo(2);
    }

    @Test
    void attackerAClientThatStopsReadingWithARequestHalfReadIsClosedAtRequestTimeoutAllTheSame() throws Exception {
        // The server stops reading a client that does not read its replies; its half-read request's time runs
        // on. Held while paused, a client able to make the server write without finishing its request (a TLS
        // KeyUpdate, a push) could stop that clock for good: a review found it, so the wait counts.
        EmbeddedChannel ch = accept(connections(settings(Duration.ZERO, Duration.ofSeconds(1), 8, 16)), true);
        ch.writeInbound(bytes("half a requ")); // a request begins at 0 s
        ch.write(bytes("a reply of more than sixteen bytes\n")); // the client reads nothing: not writable
        assertThat(ch.config().isAutoRead()).isFalse();
        advance(Duration.ofMillis(900));
        assertThat(ch.isOpen()).isTrue();
        advance(Duration.ofMillis(200));
        assertThat(ch.isOpen())
                .as("closed at request-timeout though the server had stopped reading")
                .isFalse();
    }

    @Test
    void aClientStreamingRequestsWhoseReadsAllEndMidRequestIsNotTimedOutWhileEachCompletesInTime() throws Exception {
        // A pipelining client (a bulk load): every read completes the request the previous one began and
        // begins another. Each request takes 100 ms; the stream goes on for 3 s, past request-timeout (1 s).
        EmbeddedChannel ch =
                accept(connections(settings(Duration.ZERO, Duration.ofSeconds(1), 32 * 1024, 64 * 1024)), true);
        ch.writeInbound(bytes("first half"));
        for (int i = 0; i < 30; i++) {
            advance(Duration.ofMillis(100));
            ch.writeInbound(bytes(" second half\nnext request's first half"));
            assertThat(ch.isOpen())
                    .as("open at %d ms of streaming", (i + 1) * 100)
                    .isTrue();
        }
        // Attacker: a request that never completes is still closed at request-timeout, stream or not.
        int trickled = 0;
        while (ch.isOpen() && trickled < 30) {
            ch.writeInbound(bytes("x")); // a trickle: bytes arrive, the request never ends
            trickled++;
            advance(Duration.ofMillis(100));
        }
        assertThat(ch.isOpen()).as("closed: one request took over 1 s").isFalse();
        assertThat(trickled)
                .as("reads of the trickle before the close (one each 100 ms)")
                .isBetween(9, 11);
    }

    /**
     * Like TLS before a line decoder: takes 8-byte records and passes on the first byte of each (the rest is
     * the record's overhead), so the bytes reaching the line decoder are far fewer than those read.
     */
    private static final class Records extends io.netty.handler.codec.ByteToMessageDecoder {
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            while (in.readableBytes() >= 8) {
                out.add(in.readRetainedSlice(1));
                in.skipBytes(7);
            }
        }
    }

    /** A connection with a 1 s request-timeout whose lines (1 KiB) come through {@link Records}. */
    private EmbeddedChannel acceptBehindRecords() throws Exception {
        return accept(
                connections(settings(Duration.ZERO, Duration.ofSeconds(1), 32 * 1024, 64 * 1024)),
                new Records(),
                new io.netty.handler.codec.LineBasedFrameDecoder(1024));
    }

    @Test
    void attackerALineTrickledOneByteARecordBehindARecordLayerIsStillClosedAtRequestTimeout() throws Exception {
        // Each read brings a whole record (8 bytes) and one more byte of a line that never ends: 8 bytes in, and
        // the decoders hold fewer than that afterwards, but the line is the same request from its first byte.
        EmbeddedChannel ch = acceptBehindRecords();
        int records = 0;
        while (ch.isOpen() && records < 30) {
            ch.writeInbound(bytes("x.......")); // one record: one byte of the line
            records++;
            advance(Duration.ofMillis(100));
        }
        assertThat(ch.isOpen()).as("closed: the trickled line took over 1 s").isFalse();
        assertThat(records).as("records before the close (one each 100 ms)").isBetween(9, 11);
    }

    @Test
    void aStreamOfLinesBehindARecordLayerIsTimedLineByLine() throws Exception {
        // Each read completes the line the previous one began and begins another, through the record layer.
        EmbeddedChannel ch = acceptBehindRecords();
        ch.writeInbound(bytes("a......."));
        for (int i = 0; i < 30; i++) {
            advance(Duration.ofMillis(100));
            ch.writeInbound(bytes("\n.......b.......")); // ends the line, begins the next
            assertThat(ch.isOpen())
                    .as("open at %d ms of streaming", (i + 1) * 100)
                    .isTrue();
        }
    }

    @Test
    void drainTellsTheProtocolThenClosesOnlyOnceRepliesAreWrittenAndTheConnectionIsQuiet() throws Exception {
        DaemonConnections owner = connections(settings(Duration.ZERO, 32 * 1024, 64 * 1024));
        EmbeddedChannel ch = accept(owner);
        ch.write(bytes("a reply still in the buffer\n"));
        CompletableFuture<Void> drained = owner.drain(Duration.ofSeconds(10), Duration.ofMillis(200));
        ch.runPendingTasks();
        assertThat(events).containsExactly(new DaemonStopping(Duration.ofSeconds(10)));
        advance(Duration.ofMillis(500)); // quiet for long enough, but the reply is not written yet
        assertThat(ch.isOpen()).isTrue();
        ch.flush();
        advance(Duration.ofMillis(20));
        assertThat(ch.isOpen()).isFalse();
        assertThat(drained).isCompleted();
        assertThat(owner.open()).isZero();
    }

    @Test
    void drainWaitsForAConnectionThatJustReadUntilItIsQuiet() throws Exception {
        DaemonConnections owner = connections(settings(Duration.ZERO, 32 * 1024, 64 * 1024));
        EmbeddedChannel ch = accept(owner);
        owner.drain(Duration.ofSeconds(10), Duration.ofMillis(200));
        ch.runPendingTasks();
        advance(Duration.ofMillis(150));
        ch.writeInbound(bytes("one more request\n")); // read at 150 ms: quiet from 350 ms
        advance(Duration.ofMillis(100));
        assertThat(ch.isOpen()).isTrue();
        advance(Duration.ofMillis(150));
        advance(Duration.ofMillis(20));
        assertThat(ch.isOpen()).isFalse();
    }
}
