package dev.daemonkit.testplugins;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;

/**
 * Does what Lettuce does from a plugin's start: hands work to the launcher's event loops from its {@code configure}
 * and its {@code onStarted} hook, so that loops not running yet start their threads from the plugin's code (with its
 * classes on the stack). Answers "loop" with the context class loader its handler sees on the event loop, and "hook"
 * with the one its {@code onStarted} hook saw; any other line with {@code tag:line}.
 */
public final class LoopStarterPlugin implements DaemonPlugin {
    private volatile String hookLoader = "none";

    @Override
    public String name() {
        return "starter";
    }

    @Override
    public void configure(DaemonContext daemon) {
        String tag = daemon.config().getString("tag");
        touchEveryLoop(daemon);
        daemon.onStarted(() -> {
            hookLoader = String.valueOf(Thread.currentThread().getContextClassLoader());
            touchEveryLoop(daemon);
        });
        daemon.listen(
                "listen",
                p -> p.addLast(
                        new LineBasedFrameDecoder(1024),
                        new StringDecoder(StandardCharsets.UTF_8),
                        new StringEncoder(StandardCharsets.UTF_8),
                        new SimpleChannelInboundHandler<String>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, String line) {
                                String reply = switch (line) {
                                    case "loop" ->
                                        String.valueOf(Thread.currentThread().getContextClassLoader());
                                    case "hook" -> hookLoader;
                                    default -> tag + ":" + line;
                                };
                                ctx.writeAndFlush(reply + "\n");
                            }
                        }));
    }

    private static void touchEveryLoop(DaemonContext daemon) {
        for (EventExecutor loop : daemon.eventLoops()) {
            loop.execute(() -> {});
        }
    }
}
