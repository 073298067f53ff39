package dev.daemonkit.samples.echo;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.util.concurrent.atomic.LongAdder;

/** Sends every line back to the client that wrote it. */
public final class EchoPlugin implements DaemonPlugin {

    @Override
    public String name() {
        return "echo"; // config block daemons.echo, log logs/echo.log
    }

    @Override
    public void configure(DaemonContext daemon) {
        EchoSettings settings = EchoSettings.from(daemon.name(), daemon.config());
        LongAdder echoed = new LongAdder();

        // A fresh pipeline per connection: frame decoders keep state and must not be shared.
        // The decoder keeps the delimiter, so a line goes back byte for byte, \r\n or \n.
        LineLog lineLog = new LineLog(daemon.log());
        // The echo handler keeps no state of its own connection: one instance serves them all (one
        // object less per held connection, 32 bytes).
        EchoHandler echo =
                new EchoHandler(settings.maxLineBytes(), settings.maxLineBytesKey(), echoed, daemon.requests());
        daemon.listen("listen", pipeline -> {
            pipeline.addLast(new LineBasedFrameDecoder(settings.maxLineBytes(), false, true));
            if (settings.logLines()) {
                pipeline.addLast(lineLog);
            }
            pipeline.addLast(echo);
        });

        daemon.timers()
                .every(
                        settings.statsInterval(),
                        () -> { // cancelled by the framework on stop
                            long n = echoed.sumThenReset();
                            if (n > 0) {
                                daemon.log().info("echoed {} lines in the last {}", n, settings.statsInterval());
                            }
                        });
    }
}
