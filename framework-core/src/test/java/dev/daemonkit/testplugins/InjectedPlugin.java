package dev.daemonkit.testplugins;

import com.google.inject.Module;
import com.typesafe.config.Config;
import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import dev.daemonkit.api.Timers;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import org.slf4j.Logger;

/**
 * Reports, to each client, what the framework injected and which lifecycle hooks ran: proves the
 * child injector's bindings, the plugin's own module, and the hooks.
 */
public final class InjectedPlugin implements DaemonPlugin {
    /** The plugin's own binding. */
    public interface Motto {
        String text();
    }

    @Inject
    Config config;

    @Inject
    Logger log;

    @Inject
    Timers timers;

    @Inject
    EventLoopGroup loops;

    @Inject
    DaemonContext context;

    private final List<String> events = Collections.synchronizedList(new ArrayList<>());

    @Override
    public String name() {
        return "injected";
    }

    @Override
    public Module module() {
        return binder -> binder.bind(Motto.class).toInstance(() -> "motto of " + "injected");
    }

    @Override
    public void configure(DaemonContext daemon) {
        Motto motto = daemon.injector().getInstance(Motto.class);
        daemon.onStarted(() -> events.add("started"));
        timers.schedule(Duration.ofMillis(1), () -> events.add("timer"));
        String report = "config=" + config.getString("word")
                + " log=" + (log == daemon.log())
                + " loops=" + (loops == daemon.eventLoops())
                + " context=" + (context == daemon)
                + " motto=" + motto.text();
        daemon.listen(
                "listen",
                p -> p.addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        String line;
                        synchronized (events) {
                            line = report + " events=" + new TreeSet<>(events) + "\n";
                        }
                        ctx.writeAndFlush(Unpooled.copiedBuffer(line, StandardCharsets.UTF_8))
                                .addListener(ChannelFutureListener.CLOSE);
                    }
                }));
    }
}
