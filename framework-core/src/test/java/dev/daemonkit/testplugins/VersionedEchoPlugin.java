package dev.daemonkit.testplugins;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Echoes lines prefixed with {@code tag} (from reference.conf: two jars with two tags are two
 * versions). "die" reports a fatal failure; "block" blocks the event loop for {@code block-ms}.
 * With {@code accept-reload = true} it applies a new tag on reload without a restart.
 */
public final class VersionedEchoPlugin implements DaemonPlugin {
    private volatile String tag;

    @Override
    public String name() {
        return "ver";
    }

    @Override
    public void configure(DaemonContext daemon) {
        tag = daemon.config().getString("tag");
        long blockMs = daemon.config().getLong("block-ms");
        if (daemon.config().getBoolean("accept-reload")) {
            daemon.onReload(block -> {
                tag = block.getString("tag");
                return true;
            });
        }
        if (!daemon.config().getString("listen-udp").isEmpty()) {
            daemon.listenUdp(
                    "listen-udp",
                    p -> p.addLast(new SimpleChannelInboundHandler<DatagramPacket>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                            String text = packet.content().toString(StandardCharsets.UTF_8);
                            ctx.writeAndFlush(new DatagramPacket(
                                    Unpooled.copiedBuffer(tag + ":" + text, StandardCharsets.UTF_8), packet.sender()));
                        }
                    }));
        }
        daemon.listen(
                "listen",
                p -> p.addLast(
                        new LineBasedFrameDecoder(1024),
                        new StringDecoder(StandardCharsets.UTF_8),
                        new StringEncoder(StandardCharsets.UTF_8),
                        new SimpleChannelInboundHandler<String>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, String line) throws Exception {
                                daemon.requests().increment();
                                if (line.equals("die")) {
                                    daemon.fail("the client asked it to die", null);
                                    return;
                                }
                                if (line.equals("block")) {
                                    Thread.sleep(
                                            blockMs); // deliberately blocks the event loop: the watchdog must see it
                                }
                                ctx.writeAndFlush(tag + ":" + line + "\n");
                            }
                        }));
    }
}
