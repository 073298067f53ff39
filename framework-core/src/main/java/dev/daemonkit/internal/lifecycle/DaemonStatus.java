package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.api.DaemonState;
import java.nio.file.Path;

/**
 * One daemon as the {@link DaemonTable} held it when it published: which plugin version it runs,
 * its state, restarts and last failure. Immutable; a change makes a new record. {@code instance} is
 * the run it had then (or null): its counters and listeners are live, since they belong to the run.
 *
 * @param restartPending the restart policy has scheduled a restart that has not run yet
 */
public record DaemonStatus(
        String name,
        String plugin,
        String version,
        Path source,
        DaemonState state,
        int restarts,
        String lastFailure,
        long lastFailureMillis,
        boolean restartPending,
        DaemonInstance instance) {

    static DaemonStatus of(DaemonSlot slot) {
        return new DaemonStatus(
                slot.name,
                slot.plugin.name(),
                slot.plugin.version(),
                slot.plugin.source(),
                slot.state(),
                slot.restarts,
                slot.lastFailure,
                slot.lastFailureMillis,
                slot.pendingRestart != null,
                slot.current);
    }
}
