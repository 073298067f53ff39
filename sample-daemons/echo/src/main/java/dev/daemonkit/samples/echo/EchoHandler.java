package dev.daemonkit.samples.echo;

import dev.daemonkit.api.RequestCounter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;

/**
 * Writes each line (a buffer ending in its delimiter) straight back, and flushes once per read from
 * the socket rather than once per line, so a client that pipelines many lines costs one syscall.
 * Shared by all the daemon's connections: it holds only the daemon's settings and counters.
 */
@Sharable
final class EchoHandler extends ChannelInboundHandlerAdapter {
    private final int maxLineBytes;
    private final String maxLineBytesKey;
    private final LongAdder echoed;
    private final RequestCounter requests;

    /**
     * @param maxLineBytesKey the instance's own key of the limit, named in the error line
     * @param requests        the daemon's request counter (daemonkit_requests_total)
     */
    EchoHandler(int maxLineBytes, String maxLineBytesKey, LongAdder echoed, RequestCounter requests) {
        this.maxLineBytes = maxLineBytes;
        this.maxLineBytesKey = maxLineBytesKey;
        this.echoed = echoed;
        this.requests = requests;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        echoed.increment();
        requests.increment();
        ctx.write(msg); // the buffer's ownership passes to the write
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            ByteBuf error = Unpooled.copiedBuffer(
                    "ERROR line too long: the limit is " + maxLineBytes + " bytes (" + maxLineBytesKey + ")\r\n",
                    StandardCharsets.US_ASCII);
            ctx.writeAndFlush(error).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireExceptionCaught(cause); // the framework's barrier logs it and closes this connection
    }
}
