package dev.daemonkit.samples.echo;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;

/**
 * Logs every line's length at INFO ({@code log-lines = true}): a debugging aid, and the load of
 * {@code benchmarks/echo-logging.sh}. In the pipeline only when asked for; one for all connections.
 */
@ChannelHandler.Sharable
final class LineLog extends ChannelInboundHandlerAdapter {
    private final Logger log;

    LineLog(Logger log) {
        this.log = log;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        log.info("echo {} bytes", ((ByteBuf) msg).readableBytes());
        ctx.fireChannelRead(msg);
    }
}
