package dev.daemonkit.samples.echo;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The daytime protocol (RFC 867): a TCP client gets the current time as one line and is closed; a
 * UDP datagram is answered with the time. The smallest useful daemon, and one with a UDP listener.
 */
public final class DaytimePlugin implements DaemonPlugin {

    @Override
    public String name() {
        return "daytime";
    }

    static String now() {
        return DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now()) + "\r\n";
    }

    @Override
    public void configure(DaemonContext daemon) {
        daemon.listen(
                "listen",
                pipeline -> pipeline.addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ctx.writeAndFlush(Unpooled.copiedBuffer(now(), StandardCharsets.US_ASCII))
                                .addListener(ChannelFutureListener.CLOSE);
                    }
                }));
        daemon.listenUdp(
                "listen-udp",
                pipeline -> pipeline.addLast(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket request) {
                        ctx.writeAndFlush(new DatagramPacket(
                                Unpooled.copiedBuffer(now(), StandardCharsets.US_ASCII), request.sender()));
                    }
                }));
    }
}
