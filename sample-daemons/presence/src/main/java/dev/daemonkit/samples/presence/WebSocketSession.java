package dev.daemonkit.samples.presence;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.nio.charset.StandardCharsets;

/**
 * The WebSocket transport: each text message is one command line (no line end); each reply and
 * event is one text message holding one line, without its {@code \n}. Sits after Netty's
 * {@code WebSocketServerProtocolHandler}, which answers the handshake, pings and close frames. On a
 * connection that only fetches the page it stays idle.
 */
final class WebSocketSession extends Session {
    private boolean upgraded;

    WebSocketSession(Presence presence, int loopIndex) {
        super(presence, loopIndex);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            upgraded = true;
            startHeartbeat();
        }
        if (upgraded) {
            super.userEventTriggered(ctx, evt);
        } else {
            ctx.fireUserEventTriggered(evt); // a plain HTTP connection: the framework drains it
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof WebSocketFrame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            ByteBuf content = frame.content();
            if (!(frame instanceof TextWebSocketFrame) || !frame.isFinalFragment()) {
                badInput("binary and fragmented WebSocket messages are not understood");
            } else if (content.readableBytes() > presence.settings.maxLineBytes()) {
                tooLong();
            } else if (!ByteBufUtil.isText(content, StandardCharsets.UTF_8)) {
                badInput("the message is not UTF-8 text");
            } else {
                onLine(content.toString(StandardCharsets.UTF_8));
            }
        } finally {
            frame.release();
        }
    }

    @Override
    void writeLine(ByteBuf line) {
        line.writerIndex(line.writerIndex() - 1); // one message per line: the '\n' is the line protocol's
        ctx.write(new TextWebSocketFrame(line), ctx.voidPromise());
    }
}
