package dev.daemonkit.samples.presence;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;

/**
 * The line transport: after a {@code LineBasedFrameDecoder} (delimiters stripped, fail fast), each
 * line is one command; replies and events are lines ending in {@code \n}.
 */
final class LineSession extends Session {

    LineSession(Presence presence, int loopIndex) {
        super(presence, loopIndex);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        startHeartbeat();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf line = (ByteBuf) msg;
        try {
            if (ByteBufUtil.isText(line, StandardCharsets.UTF_8)) {
                onLine(line.toString(StandardCharsets.UTF_8));
            } else {
                badInput("the line is not UTF-8 text");
            }
        } finally {
            line.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            tooLong(); // the decoder discards the rest of the line; the connection stays usable
            ctx.flush();
            return;
        }
        ctx.fireExceptionCaught(cause); // the framework's barrier logs it and closes this connection
    }

    @Override
    void writeLine(ByteBuf line) {
        ctx.write(line, ctx.voidPromise());
    }
}
