package dev.daemonkit.samples.echo;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
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

        // What the connections share: one object per daemon. Each connection gets only its own EchoLines
        // (it keeps the part of a line not yet ended), as the one handler of its pipeline.
        Echo echo = new Echo(
                settings.maxLineBytes(),
                settings.maxLineBytesKey(),
                echoed,
                daemon.requests(),
                settings.logLines() ? daemon.log() : null);
        daemon.listen("listen", pipeline -> pipeline.addLast(new EchoLines(echo)));

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
