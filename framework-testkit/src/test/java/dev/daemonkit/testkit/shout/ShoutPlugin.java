package dev.daemonkit.testkit.shout;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** The kit's own plugin under test: answers every line in capitals, on two listeners, and over HTTP/WebSocket. */
public final class ShoutPlugin implements DaemonPlugin {
    @Override
    public String name() {
        return "shout";
    }

    @Override
    public void configure(DaemonContext daemon) {
        for (String key : new String[] {"listen", "listen-quiet"}) {
            daemon.listen(
                    key,
                    pipeline -> pipeline.addLast(
                            new LineBasedFrameDecoder(1024),
                            new StringDecoder(StandardCharsets.UTF_8),
                            new StringEncoder(StandardCharsets.UTF_8),
                            new SimpleChannelInboundHandler<String>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, String line) {
                                    daemon.log().info("shouting {}", line);
                                    ctx.writeAndFlush(line.toUpperCase(Locale.ROOT) + "\n");
                                }
                            }));
        }
        daemon.listen("listen-web", ShoutWeb::initialize);
    }
}
