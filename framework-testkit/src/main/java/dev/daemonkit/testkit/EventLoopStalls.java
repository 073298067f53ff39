package dev.daemonkit.testkit;

import dev.daemonkit.internal.transport.StallWatchdog;
import dev.daemonkit.internal.transport.Transport;
import java.time.Duration;
import java.util.List;

/**
 * Counts stalls of a test launcher's event loops (from {@link TestLauncher#watchEventLoops(Duration)}): a handler
 * that blocks an event loop delays every connection on it. The launcher's log names the daemon, the plugin and the
 * blocked stack of each stall.
 */
public final class EventLoopStalls implements AutoCloseable {
    private final StallWatchdog watchdog;

    EventLoopStalls(Transport transport, Duration threshold) {
        this.watchdog = new StallWatchdog(transport, threshold);
    }

    /** How many stalls were seen since the watch began. */
    public long count() {
        return watchdog.stalls();
    }

    /** The names of the event loop threads blocked past the threshold right now. */
    public List<String> stalledNow() {
        return watchdog.stalledNow();
    }

    /** Stops watching. Idempotent. */
    @Override
    public void close() {
        watchdog.close();
    }
}
