package ${package};

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The daemon '${daemon}': answers every line with a greeting. Replace the handlers with your protocol's; the launcher
 * owns the socket, the threads, the limits and the logging setup.
 */
public final class ${pluginClass} implements DaemonPlugin {

    /** The daemon's name: its config block {@code daemons.${daemon}} and its log file {@code logs/${daemon}.log}. */
    @Override
    public String name() {
        return "${daemon}";
    }

    /** Called by the framework once per daemon instance, while it starts: declare here, do not block. */
    @Override
    public void configure(DaemonContext daemon) {
        String greeting = daemon.config().getString("greeting");
        int maxLineBytes = daemon.config().getInt("max-line-bytes");
        String maxLineBytesKey = "daemons." + daemon.name() + ".max-line-bytes";
        daemon.listen("listen", pipeline -> pipeline.addLast( // called once per accepted connection
                new LineBasedFrameDecoder(maxLineBytes),
                new StringDecoder(StandardCharsets.UTF_8),
                new StringEncoder(StandardCharsets.UTF_8),
                new GreetingHandler(greeting, maxLineBytes, maxLineBytesKey, daemon)));
    }
}
