package dev.daemonkit.internal.transport;

import dev.daemonkit.api.InboundLimitExceeded;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last handler of every pipeline: an exception no protocol handler dealt with is logged with the
 * connection's context and closes only that connection (a UDP socket stays open). Foreign input
 * (decoder errors) and vanished peers are expected on the internet and logged without a stack trace.
 */
@Sharable
public final class ExceptionBarrier extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ExceptionBarrier.class);
    public static final ExceptionBarrier INSTANCE = new ExceptionBarrier();

    private ExceptionBarrier() {}

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        boolean udp = ctx.channel() instanceof DatagramChannel;
        String who = FrontHandler.describe(ctx.channel());
        String action = udp ? "dropped the datagram" : "closed the connection";
        if (cause instanceof InboundLimitExceeded) {
            log.debug(
                    "{}: {}, {}",
                    who,
                    cause.getMessage(),
                    action); // counted and reported, thinned, by DaemonConnections
        } else if (cause instanceof TooLongFrameException || cause instanceof DecoderException) {
            log.warn("{}: bad input, {}: {}", who, action, cause.getMessage());
        } else if (cause instanceof IOException) {
            log.debug("{}: I/O error, {}: {}", who, action, cause.toString());
        } else {
            log.error("{}: unhandled exception in the protocol handlers, {}", who, action, cause);
        }
        if (!udp) {
            ctx.close();
        }
    }
}
