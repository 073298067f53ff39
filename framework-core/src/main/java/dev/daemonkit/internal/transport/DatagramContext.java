package dev.daemonkit.internal.transport;

import dev.daemonkit.internal.config.Addresses;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;

/**
 * First handler of a UDP socket: enters the daemon's logging context, with the sender, around every datagram, and
 * counts the datagrams' bytes in and out for the daemon (daemonkit_bytes_in_total, _out_total), as {@link
 * FrontHandler} does for TCP connections.
 */
final class DatagramContext extends ChannelDuplexHandler {
    private final LogScope daemon;
    private final DaemonConnections owner;

    DatagramContext(LogScope daemon, DaemonConnections owner) {
        this.daemon = daemon;
        this.owner = owner;
    }

    /** The payload size of a datagram, or of the bytes a handler writes to a connected datagram channel. */
    private static long bytes(Object msg) {
        if (msg instanceof DatagramPacket p) {
            return p.content().readableBytes();
        }
        return msg instanceof ByteBuf b ? b.readableBytes() : 0;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        owner.bytesIn.add(bytes(msg));
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
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        owner.bytesOut.add(bytes(msg));
        ctx.write(msg, promise);
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
