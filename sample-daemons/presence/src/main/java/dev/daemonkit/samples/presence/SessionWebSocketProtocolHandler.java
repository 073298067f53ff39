package dev.daemonkit.samples.presence;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.util.List;

/**
 * Netty's WebSocket server protocol handler (handshake, pings, close frames) with two changes for one
 * presence session:
 * <ul>
 * <li>Ping and pong frames are a sign of life: they push the session's heartbeat back. Netty answers
 *     pings itself and never passes them on, and many clients keep a connection alive with pings only.
 * <li>At most one Close frame is sent. Netty answers every Close frame it receives with one of its
 *     own, even when it sent a Close first (QUIT, heartbeat timeout, stopping) and the peer's Close is
 *     the reply to it, which arrives before the socket is closed whenever our Close waits behind
 *     queued output. RFC 6455 section 5.5.1: an endpoint that has sent a Close frame sends no other
 *     one; it closes the connection.
 * </ul>
 * One per connection (it keeps the state of the closing handshake), like the session it serves.
 */
final class SessionWebSocketProtocolHandler extends WebSocketServerProtocolHandler {
    private final Session session;
    private boolean closeSent;

    SessionWebSocketProtocolHandler(WebSocketServerProtocolConfig config, Session session) {
        super(config);
        this.session = session;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) throws Exception {
        if (frame instanceof PingWebSocketFrame || frame instanceof PongWebSocketFrame) {
            session.alive();
        } else if (frame instanceof CloseWebSocketFrame) {
            if (closeSent) {
                // The peer's Close crossed ours (or answers it): no second one. Our close is under way: the
                // channel closes once our Close frame is written (or after the force-close timeout), so the
                // output queued before it (OK QUIT, BYE) still reaches the peer.
                return;
            }
            closeSent = true; // Netty answers this one
        }
        super.decode(ctx, frame, out);
    }

    /**
     * A frame that breaks the protocol (unmasked, too large, bad UTF-8): the Close frame with the status the
     * decoder chose (1002, 1009, 1007), sent through {@link #write} so that it is the only one. Netty's decoder
     * would send it itself (it is told not to: {@code closeOnProtocolViolation(false)}) from its place in the
     * pipeline, not through this handler, whose close then sent a second Close frame (1000) after it.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (cause instanceof CorruptedWebSocketFrameException bad
                && !closeSent
                && ctx.channel().isActive()) {
            write(ctx, new CloseWebSocketFrame(bad.closeStatus()), ctx.newPromise());
            ctx.flush();
        }
        super.exceptionCaught(ctx, cause); // on to the barrier (a WARN naming the connection), and closes
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof CloseWebSocketFrame) {
            closeSent = true; // ours, sent when the channel is closed from our side
        }
        super.write(ctx, msg, promise);
    }
}
