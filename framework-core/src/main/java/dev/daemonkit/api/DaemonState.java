package dev.daemonkit.api;

/**
 * Where a daemon instance is in its life: NEW -> STARTING -> RUNNING -> STOPPING -> STOPPED, or
 * FAILED from any of them.
 */
public enum DaemonState {
    NEW,
    STARTING,
    RUNNING,
    STOPPING,
    STOPPED,
    FAILED;

    /** True for the states a daemon rests in: nothing of it runs any more. */
    public boolean isTerminal() {
        return this == STOPPED || this == FAILED;
    }
}
