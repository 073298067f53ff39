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
    // Dropped on close: the watchdog reaches the launcher's event loops and, through them, the plugin's classes; a
    // test that keeps this object in a field would otherwise keep the plugin's class loader from being collected.
    private StallWatchdog watchdog;
    private long countAtClose;

    EventLoopStalls(Transport transport, Duration threshold) {
        this.watchdog = new StallWatchdog(transport, threshold);
    }

    /** How many stalls were seen since the watch began (until it was closed). */
    public synchronized long count() {
        return watchdog == null ? countAtClose : watchdog.stalls();
    }

    /** The names of the event loop threads blocked past the threshold right now; none once closed. */
    public synchronized List<String> stalledNow() {
        return watchdog == null ? List.of() : watchdog.stalledNow();
    }

    /** Stops watching; {@link #count()} keeps its last value. Idempotent. */
    @Override
    public synchronized void close() {
        if (watchdog != null) {
            countAtClose = watchdog.stalls();
            watchdog.close();
            watchdog = null;
        }
    }
}
