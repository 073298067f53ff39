package dev.daemonkit.internal.admin;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.lifecycle.DaemonStatus;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.internal.transport.StallWatchdog;
import java.util.List;

/**
 * The answers of the three probe routes a container platform calls ({@code /health/live},
 * {@code /health/ready}, {@code /health/started}). They need no token (kubelet cannot send one), so
 * their bodies say only "ok" or why not, with counts and event loop thread names but no daemon
 * names, addresses or versions; {@code GET /health} (with the token) lists the daemons.
 *
 * <p>Called on an admin connection's event loop; every answer reads published state only and never blocks.
 */
final class Probes {
    static final String LIVE = "/health/live";
    static final String READY = "/health/ready";
    static final String STARTED = "/health/started";

    /** One probe's answer: 200 when {@code ok}, else 503, with {@code body} as plain text. */
    record Answer(boolean ok, String body) {}

    private final Launcher launcher;
    /** Null when the watchdog is off ({@code daemonkit.watchdog.enabled = false}): liveness cannot see stalls then. */
    private final StallWatchdog watchdog;

    private volatile boolean startedOnce;

    Probes(Launcher launcher, StallWatchdog watchdog) {
        this.launcher = launcher;
        this.watchdog = watchdog;
    }

    Launcher launcher() {
        return launcher;
    }

    /**
     * Alive: the process answers and no event loop has been blocked past the watchdog's threshold.
     * A stopping launcher is alive until it exits: a restart during the drain would cut it short.
     */
    Answer live() {
        List<String> stalled = watchdog == null ? List.of() : watchdog.stalledNow();
        if (!stalled.isEmpty()) {
            return new Answer(
                    false,
                    "not live: " + stalled.size() + " event loop(s) blocked for more than "
                            + watchdog.threshold().toMillis() + " ms (daemonkit.watchdog.threshold): "
                            + String.join(", ", stalled) + "\n");
        }
        return new Answer(true, "ok\n");
    }

    /**
     * Ready: every enabled daemon is RUNNING and the launcher is not stopping. From the moment a TERM
     * (or {@code POST /shutdown}) arrives this is false for good, while the daemons keep serving for
     * {@code daemonkit.shutdown.delay}.
     */
    Answer ready() {
        if (launcher.stopping()) {
            return new Answer(false, "not ready: stopping (the daemons drain, then the launcher exits)\n");
        }
        if (!launcher.started()) {
            return new Answer(false, "not ready: starting\n");
        }
        int down = launcher.daemons().unresolved().size();
        List<DaemonStatus> statuses = launcher.daemons().statuses();
        for (DaemonStatus s : statuses) {
            if (s.state() != DaemonState.RUNNING || degraded(s) != null) {
                down++;
            }
        }
        if (down > 0) {
            return new Answer(
                    false,
                    "not ready: " + down + " of "
                            + (statuses.size() + launcher.daemons().unresolved().size())
                            + " daemon(s) not RUNNING or degraded (GET /health names them and why)\n");
        }
        return new Answer(true, "ok\n");
    }

    /** Why a RUNNING daemon reports itself degraded ({@code DaemonContext.degraded}), or null. */
    static String degraded(DaemonStatus s) {
        return s.state() == DaemonState.RUNNING && s.instance() != null
                ? s.instance().degradedReason()
                : null;
    }

    /**
     * Started: the launcher's start has finished and no daemon is still STARTING (a plugin that warms
     * up first, {@code DaemonContext.readyWhen}). Once true it stays true, as a startup probe expects:
     * it gates the other probes only until the first success.
     */
    Answer started() {
        if (!startedOnce) {
            if (!launcher.started()) {
                return new Answer(false, "not started: the launcher is starting its daemons\n");
            }
            long starting = launcher.daemons().statuses().stream()
                    .filter(s -> s.state() == DaemonState.STARTING)
                    .count();
            if (starting > 0) {
                return new Answer(false, "not started: " + starting + " daemon(s) still STARTING\n");
            }
            startedOnce = true;
        }
        return new Answer(true, "ok\n");
    }
}
