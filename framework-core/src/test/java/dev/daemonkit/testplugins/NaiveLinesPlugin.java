package dev.daemonkit.testplugins;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Echoes lines, written as a hurried author would: its line decoder has no length limit, so only the
 * framework's inbound limits stand between a client's endless line and the process's memory.
 */
public final class NaiveLinesPlugin implements DaemonPlugin {
    @Override
    public String name() {
        return "naive";
    }

    @Override
    public void configure(DaemonContext daemon) {
        daemon.listen("listen", p -> p.addLast(
                new LineBasedFrameDecoder(Integer.MAX_VALUE),
                new StringDecoder(StandardCharsets.UTF_8),
                new StringEncoder(StandardCharsets.UTF_8),
                new SimpleChannelInboundHandler<String>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, String line) {
                        ctx.writeAndFlush(line.length() > 20 ? line.length() + "\n" : line + "\n");
                    }
                }));
    }
}
