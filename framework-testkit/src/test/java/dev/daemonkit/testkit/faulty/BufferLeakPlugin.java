package dev.daemonkit.testkit.faulty;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.nio.charset.StandardCharsets;

/** Allocates a buffer for every line and drops it without releasing it: what Netty's leak detector reports. */
public final class BufferLeakPlugin implements DaemonPlugin {
    @Override
    public String name() {
        return "buffer-leak";
    }

    @Override
    public void configure(DaemonContext daemon) {
        daemon.listen(
                "listen",
                pipeline -> pipeline.addLast(
                        new LineBasedFrameDecoder(1024),
                        new StringDecoder(StandardCharsets.UTF_8),
                        new StringEncoder(StandardCharsets.UTF_8),
                        new SimpleChannelInboundHandler<String>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, String line) {
                                ByteBuf forgotten = ctx.alloc().buffer(64);
                                forgotten.writeCharSequence(line, StandardCharsets.UTF_8);
                                ctx.writeAndFlush("ok\n");
                            }
                        }));
    }
}
