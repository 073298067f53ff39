package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.config.DaemonSpec;
import dev.daemonkit.internal.plugins.InstalledPlugin;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ScheduledFuture;

/**
 * One entry of the {@link DaemonTable}: a daemon name and its history: the spec and plugin version
 * it runs now, the current instance (a new {@link DaemonInstance} per start), restarts, the last
 * failure, and what the {@link Supervisor} keeps for its restart policy. Changed only on the
 * launcher's control thread; its fields are volatile so that {@link DaemonTable#publish} may read
 * them from any thread.
 */
final class DaemonSlot {
    final String name;
    volatile DaemonSpec spec;
    volatile InstalledPlugin plugin;
    volatile DaemonInstance current;
    volatile int restarts;
    volatile String lastFailure;
    volatile long lastFailureMillis;
    /** Set when the restart policy gave up, or the daemon was stopped on request: no automatic restart. */
    volatile boolean held;

    final Deque<Long> recentRestarts = new ArrayDeque<>();
    volatile ScheduledFuture<?> pendingRestart;

    DaemonSlot(DaemonSpec spec, InstalledPlugin plugin) {
        this.name = spec.name();
        this.spec = spec;
        this.plugin = plugin;
    }

    DaemonState state() {
        DaemonInstance i = current;
        return i == null ? DaemonState.STOPPED : i.state();
    }

    void cancelPendingRestart() {
        if (pendingRestart != null) {
            pendingRestart.cancel(false);
            pendingRestart = null;
        }
    }
}
