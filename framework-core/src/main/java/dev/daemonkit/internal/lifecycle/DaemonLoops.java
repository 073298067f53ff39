package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.internal.config.DaemonSpec;
import dev.daemonkit.internal.timers.ScopedTimers;
import dev.daemonkit.timers.EventLoopTimerWheels;
import dev.daemonkit.timers.TimerScope;
import dev.daemonkit.timers.TimerWheelSettings;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.TimeUnit;

/**
 * Where one daemon instance runs: its own event loops and their timer wheels ({@code io-threads} > 0),
 * or the launcher's; and its timer scope on them. Owned by the instance, which releases it on every
 * terminal path (stop, failure, abandon).
 */
final class DaemonLoops {
    /** The daemon's own loops, or null: it shares the launcher's. */
    final EventLoopGroup own;

    private final EventLoopTimerWheels ownWheels;
    /** The loops its connections and timers run on. */
    final EventLoopGroup loops;

    final TimerScope timers;

    DaemonLoops(DaemonSpec spec, FrameworkServices services) {
        int threads = spec.settings().ioThreads();
        if (threads > 0) {
            own = services.transport().newDaemonLoops(spec.name(), threads);
            ownWheels = EventLoopTimerWheels.create(
                    own,
                    new TimerWheelSettings(
                            services.settings().timers().tick(),
                            services.settings().timers().wheelSize()),
                    ScopedTimers.NODES);
            timers = ownWheels.newScope(spec.name());
            loops = own;
        } else {
            own = null;
            ownWheels = null;
            timers = services.wheels().newScope(spec.name());
            loops = services.transport().workers();
        }
    }

    /** Stops the daemon's own loops, if it has them, once nothing of it runs there any more. Idempotent. */
    void release() {
        if (ownWheels != null) {
            ownWheels.close();
        }
        if (own != null && !own.isShuttingDown()) {
            own.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
