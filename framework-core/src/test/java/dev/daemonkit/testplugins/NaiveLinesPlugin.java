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
 * {@code thread} answers the serving thread's name; {@code block} holds the event loop for 1.5 s;
 * {@code big N} answers N bytes at once, with no care for a client that does not read them.
 */
public final class NaiveLinesPlugin implements DaemonPlugin {
    @Override
    public String name() {
        return "naive";
    }

    @Override
    public void configure(DaemonContext daemon) {
        daemon.listen(
                "listen",
                p -> p.addLast(
                        new LineBasedFrameDecoder(Integer.MAX_VALUE),
                        new StringDecoder(StandardCharsets.UTF_8),
                        new StringEncoder(StandardCharsets.UTF_8),
                        new SimpleChannelInboundHandler<String>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, String line) {
                                if (line.equals("thread")) {
                                    ctx.writeAndFlush(Thread.currentThread().getName() + "\n");
                                } else if (line.startsWith("big ")) {
                                    ctx.writeAndFlush("b".repeat(Integer.parseInt(line.substring(4))) + "\n");
                                } else if (line.equals("block")) {
                                    ctx.writeAndFlush("blocking\n"); // flushed now: the client's signal
                                    sleep(1_500); // a burst that holds the loop, as a noisy daemon would
                                    ctx.writeAndFlush("unblocked\n");
                                } else {
                                    ctx.writeAndFlush(line.length() > 20 ? line.length() + "\n" : line + "\n");
                                }
                            }
                        }));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
