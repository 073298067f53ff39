package dev.daemonkit.testplugins;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import dev.daemonkit.api.Timeout;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A plugin that must reach its backend before it is ready, with the backend played by two files: its
 * start completes when {@code ready-file} appears, and fails with the text of {@code fail-file} when
 * that one appears. Once ready it answers {@code ready LINE}.
 */
public final class SlowStartPlugin implements DaemonPlugin {
    @Override
    public String name() {
        return "slow-start";
    }

    @Override
    public void configure(DaemonContext daemon) {
        Path ready = Path.of(daemon.config().getString("ready-file"));
        Path fail = Path.of(daemon.config().getString("fail-file"));
        CompletableFuture<Void> connected = new CompletableFuture<>();
        Timeout[] poll = new Timeout[1];
        poll[0] = daemon.timers().scheduleWithFixedDelay(Duration.ofMillis(10), Duration.ofMillis(10), () -> {
            try {
                if (Files.exists(fail)) {
                    connected.completeExceptionally(
                            new IllegalStateException(Files.readString(fail).trim()));
                } else if (Files.exists(ready)) {
                    connected.complete(null);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (connected.isDone()) {
                poll[0].cancel();
            }
        });
        daemon.readyWhen(connected);
        daemon.listen(
                "listen",
                p -> p.addLast(
                        new LineBasedFrameDecoder(256),
                        new StringDecoder(StandardCharsets.UTF_8),
                        new StringEncoder(StandardCharsets.UTF_8),
                        new SimpleChannelInboundHandler<String>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, String line) {
                                ctx.writeAndFlush("ready " + line + "\n");
                            }
                        }));
    }
}
