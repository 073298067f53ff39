package dev.daemonkit.samples.presence;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket transport in an EmbeddedChannel with the daemon's own pipeline (PresencePlugin.webPipeline),
 * speaking raw RFC 6455 frames, with a hand-moved clock: pings keep a session alive, and a close sends one
 * Close frame.
 */
class WebSocketSessionTest {
    private static final int TEXT = 0x1;
    private static final int CLOSE = 0x8;
    private static final int PING = 0x9;
    private static final int PONG = 0xA;

    private final ManualTimers time = new ManualTimers();
    private final Presence presence = new Presence(
            PresenceSettings.defaults(),
            LoggerFactory.getLogger(WebSocketSessionTest.class),
            List.of(ImmediateEventExecutor.INSTANCE),
            time,
            time,
            new CountingRequests());
    private final HeldWrites held = new HeldWrites();
    private EmbeddedChannel ch;

    /** One frame the server wrote. */
    record Frame(int opcode, String text) {}

    /** First in the pipeline: while {@link #holding}, writes stay pending, as behind a client that reads slowly. */
    static final class HeldWrites extends ChannelOutboundHandlerAdapter {
        boolean holding;
        private final List<Object> messages = new ArrayList<>();
        private final List<ChannelPromise> promises = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (!holding) {
                ctx.write(msg, promise);
                return;
            }
            messages.add(msg);
            promises.add(promise);
        }

        void release(ChannelHandlerContext ctx) {
            holding = false;
            for (int i = 0; i < messages.size(); i++) {
                ctx.write(messages.get(i), promises.get(i));
            }
            messages.clear();
            promises.clear();
            ctx.flush();
        }
    }

    private List<Frame> open() {
        ch = new EmbeddedChannel();
        ch.pipeline().addLast("held", held);
        PresencePlugin.webPipeline(ch.pipeline(), presence, Map.of(), PresencePlugin.webSocketConfig(), 0);
        ch.writeInbound(Unpooled.copiedBuffer("""
                GET /ws HTTP/1.1\r
                Host: 127.0.0.1\r
                Upgrade: websocket\r
                Connection: Upgrade\r
                Sec-WebSocket-Version: 13\r
                Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
                \r
                """, StandardCharsets.US_ASCII));
        String response = outbound().toString(StandardCharsets.US_ASCII);
        assertThat(response).startsWith("HTTP/1.1 101 Switching Protocols");
        return List.of();
    }

    /** Everything written since the last call, as one buffer (released by the callers below). */
    private ByteBuf outbound() {
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            all.writeBytes(b);
            b.release();
        }
        return all;
    }

    /** The frames the server wrote since the last call. */
    private List<Frame> frames() {
        ByteBuf in = outbound();
        List<Frame> out = new ArrayList<>();
        while (in.isReadable()) {
            int opcode = in.readUnsignedByte() & 0x0f;
            int len = in.readUnsignedByte() & 0x7f;
            if (len == 126) {
                len = in.readUnsignedShort();
            }
            out.add(new Frame(
                    opcode, in.readCharSequence(len, StandardCharsets.UTF_8).toString()));
        }
        in.release();
        return out;
    }

    /** A client frame (masked, as RFC 6455 requires of clients). */
    private void send(int opcode, String payload) {
        byte[] data = payload.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {1, 2, 3, 4};
        ByteBuf f = Unpooled.buffer()
                .writeByte(0x80 | opcode)
                .writeByte(0x80 | data.length)
                .writeBytes(mask);
        for (int i = 0; i < data.length; i++) {
            f.writeByte(data[i] ^ mask[i % 4]);
        }
        ch.writeInbound(f);
    }

    private static long count(List<Frame> frames, int opcode) {
        return frames.stream().filter(f -> f.opcode() == opcode).count();
    }

    @AfterEach
    void close() {
        if (ch != null) {
            held.holding = false;
            ch.close();
            outbound().release();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aPingFrameIsASignOfLifeForTheHeartbeat() {
        open();
        send(TEXT, "LOGIN alice");
        assertThat(frames()).containsExactly(new Frame(TEXT, "OK LOGIN alice"));
        time.advance(Duration.ofSeconds(20));
        send(PING, "keepalive"); // what many clients send, and nothing else
        assertThat(frames()).containsExactly(new Frame(PONG, "keepalive"));
        time.advance(Duration.ofSeconds(20)); // 40 s since the last text message, 20 s since the ping
        send(PONG, ""); // an unsolicited pong (RFC 6455: a one-way heartbeat) counts too
        time.advance(Duration.ofSeconds(29));
        assertThat(ch.isOpen()).isTrue();
        assertThat(frames()).isEmpty();
        assertThat(presence.online()).isEqualTo(1);

        time.advance(Duration.ofSeconds(2)); // 31 s of silence
        List<Frame> last = frames();
        assertThat(last)
                .first()
                .isEqualTo(new Frame(
                        TEXT, "BYE timeout silent for more than 30 s (heartbeat-timeout): send PING to stay online"));
        assertThat(count(last, CLOSE)).isEqualTo(1);
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aCloseFromTheClientIsAnsweredWithOneCloseFrame() {
        open();
        send(TEXT, "LOGIN alice");
        frames();
        send(CLOSE, "");
        List<Frame> out = frames();
        assertThat(count(out, CLOSE)).isEqualTo(1);
        assertThat(ch.isOpen()).isFalse();
        assertThat(presence.online()).isZero();
    }

    /**
     * The server closes (QUIT) while its Close frame waits behind queued output (a client that reads
     * slowly); the client's Close crosses it. The queued output still goes out (Netty's default force-close
     * timeout of 0 closed the socket at once, dropping it), and no second Close frame is sent.
     */
    @Test
    void aCloseWaitingBehindQueuedOutputKeepsThatOutputAndACrossingCloseGetsNoSecondCloseFrame() {
        open();
        send(TEXT, "LOGIN alice");
        frames();
        held.holding = true;
        send(TEXT, "QUIT");
        assertThat(ch.isOpen()).isTrue(); // our Close frame is not written yet
        send(CLOSE, ""); // the client's answer
        held.release(ch.pipeline().context("held"));
        List<Frame> out = frames();
        assertThat(out).first().isEqualTo(new Frame(TEXT, "OK QUIT"));
        assertThat(count(out, CLOSE)).as("Close frames in %s", out).isEqualTo(1);
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aWebSocketMessageWithABidiOverrideIsRefused() {
        open();
        send(TEXT, "LOGIN alice");
        frames();
        send(TEXT, "PING \u202eevil");
        assertThat(frames())
                .containsExactly(
                        new Frame(
                                TEXT,
                                "ERR bad-input the line holds U+202E (a bidi control: it would"
                                        + " reorder what others see) and was discarded: send UTF-8 text lines, one command per line"));
    }
}
