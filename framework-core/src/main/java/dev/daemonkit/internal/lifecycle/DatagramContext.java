package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.internal.transport.LoopActivity;
import dev.daemonkit.logging.LogContext;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import org.slf4j.MDC;

/** Sets the logging context (daemon, sender) around every datagram a UDP listener receives. */
final class DatagramContext extends ChannelInboundHandlerAdapter {
    private final String daemon;

    DatagramContext(String daemon) {
        this.daemon = daemon;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        LoopActivity.forget(daemon);
        MDC.put(LogContext.DAEMON, daemon);
        if (msg instanceof DatagramPacket p && p.sender() != null) {
            MDC.put(LogContext.PEER, dev.daemonkit.internal.config.Addresses.format(p.sender()));
        }
        try {
            ctx.fireChannelRead(msg);
        } finally {
            MDC.remove(LogContext.DAEMON);
            MDC.remove(LogContext.PEER);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LoopActivity.forget(daemon);
        MDC.put(LogContext.DAEMON, daemon);
        try {
            ctx.fireExceptionCaught(cause);
        } finally {
            MDC.remove(LogContext.DAEMON);
        }
    }
}
