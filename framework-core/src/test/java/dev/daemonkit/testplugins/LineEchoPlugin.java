package dev.daemonkit.testplugins;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import dev.daemonkit.api.DaemonStopping;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Echoes lines with a configured prefix; optionally says BYE when the daemon stops; "later" answers after 100 ms. */
public final class LineEchoPlugin implements DaemonPlugin {
    @Override
    public String name() {
        return "line-echo";
    }

    @Override
    public void configure(DaemonContext daemon) {
        String prefix = daemon.config().getString("prefix");
        boolean goodbye = daemon.config().getBoolean("say-goodbye");
        daemon.listen(
                "listen",
                p -> p.addLast(
                        new LineBasedFrameDecoder(1024),
                        new StringDecoder(StandardCharsets.UTF_8),
                        new StringEncoder(StandardCharsets.UTF_8),
                        new SimpleChannelInboundHandler<String>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, String line) {
                                if (line.equals("later")) {
                                    daemon.timers(ctx.channel())
                                            .schedule(
                                                    Duration.ofMillis(100),
                                                    () -> ctx.writeAndFlush(prefix + "later\n"));
                                } else if (line.equals("log")) {
                                    daemon.log().info("read {}", line);
                                    daemon.timers(ctx.channel())
                                            .schedule(
                                                    Duration.ofMillis(5),
                                                    () -> daemon.log().info("timer {}", line));
                                    ctx.writeAndFlush(prefix + "logged\n");
                                } else if (line.equals("hold")) {
                                    daemon.timers(ctx.channel())
                                            .schedule(Duration.ofHours(1), () -> ctx.writeAndFlush("late\n"));
                                    ctx.writeAndFlush(prefix + "holding\n");
                                } else if (line.equals("boom")) {
                                    throw new IllegalStateException("boom requested by the client");
                                } else {
                                    ctx.writeAndFlush(prefix + line + "\n");
                                }
                            }

                            @Override
                            public void channelReadComplete(ChannelHandlerContext ctx) {
                                daemon.log().debug("read complete");
                                ctx.fireChannelReadComplete();
                            }

                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof DaemonStopping && goodbye) {
                                    ctx.writeAndFlush("BYE\n").addListener(f -> ctx.close());
                                }
                                ctx.fireUserEventTriggered(evt);
                            }
                        }));
    }
}
