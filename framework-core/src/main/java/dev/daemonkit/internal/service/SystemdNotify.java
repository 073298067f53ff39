package dev.daemonkit.internal.service;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.lifecycle.DaemonStatus;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.internal.lifecycle.ReloadListener;
import dev.daemonkit.internal.transport.StallWatchdog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd how the launcher is doing ({@code Type=notify}, sd_notify(3)): {@code READY=1} with a
 * {@code STATUS=} line once the start has finished, {@code RELOADING=1} with {@code MONOTONIC_USEC=}
 * when a reload begins and {@code READY=1} when it has ended, {@code STOPPING=1} on TERM, a new
 * {@code STATUS=} when the daemons' states change, and {@code WATCHDOG=1} every half
 * {@code WATCHDOG_USEC} (systemd's {@code WatchdogSec}) while no event loop is stalled past
 * {@code daemonkit.watchdog.threshold}, so that systemd restarts a wedged launcher.
 *
 * <p>Without {@code NOTIFY_SOCKET} in the environment every method does nothing (and nothing is logged).
 * The methods are called from the main thread, the launcher's control thread (reload) and this
 * class's own timer thread; they never block.
 */
public final class SystemdNotify implements ReloadListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotify.class);
    private static final Duration STATUS_CHECK = Duration.ofSeconds(1);

    /** Sends one notification datagram (lines {@code KEY=value}); any thread, never blocks. */
    @FunctionalInterface
    interface Sender extends AutoCloseable {
        void send(String message);

        @Override
        default void close() {}
    }

    private final Sender sender; // null: not run by systemd
    private final Supplier<String> status;
    private final long keepAliveNanos; // 0: no WatchdogSec
    private final ScheduledExecutorService timer; // null: no sender, or a test drives the ticks itself

    private volatile Supplier<List<String>> stalledNow = List::of;
    private volatile Duration stallThreshold = Duration.ZERO;
    // Guarded by this.
    private boolean ready;
    private boolean reloading;
    private boolean stopping;
    private boolean withholding;
    private String lastStatus;

    SystemdNotify(Sender sender, Supplier<String> status, long keepAliveNanos, ScheduledExecutorService timer) {
        this.sender = sender;
        this.status = status;
        this.keepAliveNanos = keepAliveNanos;
        this.timer = timer;
    }

    /**
     * Reads {@code NOTIFY_SOCKET}, {@code WATCHDOG_USEC} and {@code WATCHDOG_PID} from {@code env}; registers
     * for the launcher's reloads. Starts the keep-alives at once (a slow start must not look wedged).
     */
    public static SystemdNotify fromEnvironment(Map<String, String> env, Launcher launcher) {
        String socket = env.get("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty()) {
            return new SystemdNotify(null, () -> "", 0, null);
        }
        Sender sender;
        try {
            sender = NotifySocket.open(socket);
        } catch (RuntimeException e) {
            log.warn(
                    "NOTIFY_SOCKET={} is set, but this launcher cannot notify systemd: {}. Run it with Type=simple"
                            + " (and no WatchdogSec) instead of Type=notify.",
                    socket,
                    e.getMessage());
            return new SystemdNotify(null, () -> "", 0, null);
        }
        long keepAlive = keepAliveNanos(env);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "daemonkit-systemd");
            t.setDaemon(true);
            return t;
        });
        SystemdNotify notify = new SystemdNotify(sender, () -> statusOf(launcher), keepAlive, timer);
        launcher.onReload(notify);
        if (keepAlive > 0) {
            timer.scheduleAtFixedRate(notify::keepAlive, 0, keepAlive, TimeUnit.NANOSECONDS);
        }
        timer.scheduleWithFixedDelay(
                notify::statusCheck, STATUS_CHECK.toMillis(), STATUS_CHECK.toMillis(), TimeUnit.MILLISECONDS);
        log.info(
                "systemd: notifying through NOTIFY_SOCKET={}{}",
                socket,
                keepAlive > 0 ? ", watchdog keep-alive every " + TimeUnit.NANOSECONDS.toMillis(keepAlive) + " ms" : "");
        return notify;
    }

    /** Half of {@code WATCHDOG_USEC} (as sd_watchdog_enabled(3) advises), or 0 when it is unset, bad, or meant for another process. */
    static long keepAliveNanos(Map<String, String> env) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null) {
            return 0;
        }
        String pid = env.get("WATCHDOG_PID");
        try {
            if (pid != null
                    && Long.parseLong(pid.trim()) != ProcessHandle.current().pid()) {
                return 0;
            }
            long micros = Long.parseLong(usec.trim());
            return micros > 0 ? TimeUnit.MICROSECONDS.toNanos(micros) / 2 : 0;
        } catch (NumberFormatException e) {
            log.warn("WATCHDOG_USEC={} / WATCHDOG_PID={} are not numbers: no watchdog keep-alives are sent", usec, pid);
            return 0;
        }
    }

    /**
     * The start has finished (the daemons that could start run): {@code READY=1} with the status line.
     * From now on the keep-alives stop while the watchdog sees a stalled loop.
     *
     * @param watchdog the stall watchdog, or null when it is off ({@code daemonkit.watchdog.enabled = false}):
     *     the keep-alives then go on whatever the loops do
     */
    public void started(StallWatchdog watchdog) {
        if (watchdog == null) {
            readyNow();
        } else {
            started(watchdog::stalledNow, watchdog.threshold());
        }
    }

    /** {@link #started(StallWatchdog)} with the stall view given apart (a test's fake one). */
    void started(Supplier<List<String>> stalledNow, Duration threshold) {
        this.stallThreshold = threshold;
        this.stalledNow = stalledNow;
        readyNow();
    }

    private synchronized void readyNow() {
        ready = true;
        reloading = false;
        send("READY=1\nSTATUS=" + (lastStatus = status.get()));
    }

    /** Launcher's control thread, as a reload begins (only after {@link #started}). */
    @Override
    public synchronized void reloading() {
        if (!ready || stopping) {
            return;
        }
        reloading = true;
        // CLOCK_MONOTONIC, which is what System.nanoTime reads on Linux.
        send("RELOADING=1\nMONOTONIC_USEC=" + TimeUnit.NANOSECONDS.toMicros(System.nanoTime()));
    }

    /** Launcher's control thread, as the reload ends (applied or rejected): {@code READY=1} and the status. */
    @Override
    public synchronized void reloaded() {
        if (reloading && !stopping) {
            readyNow();
        }
    }

    /** TERM, INT or {@code POST /shutdown}: {@code STOPPING=1}. The first call counts; later ones do nothing. */
    public synchronized void stopping() {
        if (stopping) {
            return;
        }
        stopping = true;
        send("STOPPING=1\nSTATUS=stopping: draining the daemons");
    }

    /**
     * One keep-alive: {@code WATCHDOG=1}, unless an event loop is stalled past the threshold; then none is
     * sent (so systemd restarts the launcher once {@code WatchdogSec} passes) and the status says why.
     */
    synchronized void keepAlive() {
        List<String> stalled = stalledNow.get();
        if (!stalled.isEmpty()) {
            if (!withholding) {
                withholding = true;
                String why = stalled.size() + " event loop(s) blocked for more than " + stallThreshold.toMillis()
                        + " ms: " + String.join(", ", stalled);
                log.warn(
                        "not sending the systemd watchdog keep-alive: {}. If it stays blocked for WatchdogSec, systemd"
                                + " restarts the launcher.",
                        why);
                send("STATUS=wedged, no watchdog keep-alive: " + why);
            }
            return;
        }
        if (withholding) {
            withholding = false;
            log.info("event loops running again: systemd watchdog keep-alives resume");
            send("WATCHDOG=1\nSTATUS=" + (lastStatus = status.get()));
        } else {
            send("WATCHDOG=1");
        }
    }

    /** A new {@code STATUS=} when the daemons' states changed (a daemon failed, restarted, was stopped). */
    synchronized void statusCheck() {
        if (!ready || reloading || stopping || withholding) {
            return;
        }
        String now = status.get();
        if (!now.equals(lastStatus)) {
            lastStatus = now;
            send("STATUS=" + now);
        }
    }

    private void send(String message) {
        if (sender != null) {
            sender.send(message);
        }
    }

    /**
     * The one-line status: {@code 3 daemon(s) running}, or {@code 2 of 3 daemon(s) running; failed: echo-b}
     * with the daemons that are not running grouped by state.
     */
    static String statusOf(Launcher launcher) {
        return statusOf(launcher.daemons().statuses(), launcher.daemons().unresolved());
    }

    static String statusOf(List<DaemonStatus> daemons, List<String> unresolved) {
        Map<String, List<String>> down = new LinkedHashMap<>();
        int running = 0;
        for (DaemonStatus d : daemons) {
            if (d.state() == DaemonState.RUNNING) {
                running++;
            } else {
                String state =
                        d.restartPending() ? "restarting" : d.state().name().toLowerCase(Locale.ROOT);
                down.computeIfAbsent(state, k -> new ArrayList<>()).add(d.name());
            }
        }
        int total = daemons.size() + unresolved.size();
        StringBuilder s = new StringBuilder();
        s.append(running == total ? String.valueOf(running) : running + " of " + total)
                .append(" daemon(s) running");
        down.forEach((state, names) -> s.append("; ").append(state).append(": ").append(String.join(", ", names)));
        if (!unresolved.isEmpty()) {
            // The table keeps messages, not names, for these: the log and status name them.
            s.append("; ").append(unresolved.size()).append(" whose plugin is not installed");
        }
        return s.toString();
    }

    /** Stops the keep-alives and closes the socket (after what was sent). Idempotent. */
    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
        if (sender != null) {
            sender.close();
        }
    }
}
