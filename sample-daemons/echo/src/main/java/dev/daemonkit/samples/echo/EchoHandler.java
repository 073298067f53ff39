package dev.daemonkit.samples.echo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/**
 * Writes each line (a buffer ending in its delimiter) straight back, and flushes once per read from
 * the socket rather than once per line, so a client that pipelines many lines costs one syscall.
 */
final class EchoHandler extends ChannelInboundHandlerAdapter {
    private final int maxLineBytes;
    private final LongAdder echoed;
    private final LongAdder requests;
    private final Logger lineLog;

    /**
     * @param requests the daemon's request counter (daemonkit_requests_total)
     * @param lineLog  where to log every line at INFO, or null not to
     */
    EchoHandler(int maxLineBytes, LongAdder echoed, LongAdder requests, Logger lineLog) {
        this.maxLineBytes = maxLineBytes;
        this.echoed = echoed;
        this.requests = requests;
        this.lineLog = lineLog;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        echoed.increment();
        requests.increment();
        if (lineLog != null) {
            lineLog.info("echo {} bytes", ((ByteBuf) msg).readableBytes());
        }
        ctx.write(msg);   // the buffer's ownership passes to the write
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            ByteBuf error = Unpooled.copiedBuffer("ERROR line too long: the limit is " + maxLineBytes
                    + " bytes (daemons.echo.max-line-bytes)\r\n", StandardCharsets.US_ASCII);
            ctx.writeAndFlush(error).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireExceptionCaught(cause);   // the framework's barrier logs it and closes this connection
    }
}
