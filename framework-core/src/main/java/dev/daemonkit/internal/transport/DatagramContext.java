package dev.daemonkit.internal.transport;

import dev.daemonkit.internal.config.Addresses;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;

/** First handler of a UDP socket: enters the daemon's logging context, with the sender, around every datagram. */
final class DatagramContext extends ChannelInboundHandlerAdapter {
    private final LogScope daemon;

    DatagramContext(LogScope daemon) {
        this.daemon = daemon;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        LogScope scope = msg instanceof DatagramPacket p && p.sender() != null
                ? LogScope.of(daemon.daemon(), null, Addresses.format(p.sender()))
                : daemon;
        Object previous = scope.enter();
        try {
            ctx.fireChannelRead(msg);
        } finally {
            scope.exit(previous);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Object previous = daemon.enter();
        try {
            ctx.fireExceptionCaught(cause);
        } finally {
            daemon.exit(previous);
        }
    }
}
