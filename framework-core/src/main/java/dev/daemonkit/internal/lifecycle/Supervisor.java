package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.DaemonSettings;
import dev.daemonkit.internal.config.DaemonSpec;
import dev.daemonkit.internal.config.LauncherSettings;
import dev.daemonkit.internal.plugins.InstalledPlugin;
import dev.daemonkit.internal.transport.DaemonSockets.HandOver;
import dev.daemonkit.internal.transport.ListenerRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes every daemon instance, so that each one that fails is reported here, and applies the
 * daemon's restart policy ({@code daemons.NAME.restart}): with {@code on-failure}, a restart after an
 * exponential backoff, until {@code max-restarts} within {@code window}; then the daemon stays FAILED
 * (held) until an operator starts it. Runs on the launcher's control thread.
 */
final class Supervisor {
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private final ScheduledExecutorService control;
    private final DaemonTable table;
    private final FrameworkServices services;
    private final ListenerRegistry registry;
    private volatile boolean stopping;

    Supervisor(
            ScheduledExecutorService control,
            DaemonTable table,
            FrameworkServices services,
            ListenerRegistry registry) {
        this.control = control;
        this.table = table;
        this.services = services;
        this.registry = registry;
    }

    /**
     * A new instance of {@code slot}'s daemon running {@code spec} and {@code plugin}; not configured yet.
     * Its failure comes to the restart policy, and its end republishes the table.
     */
    DaemonInstance newInstance(DaemonSlot slot, DaemonSpec spec, InstalledPlugin plugin) {
        DaemonInstance instance = new DaemonInstance(spec, plugin, services, registry, failed -> {
            try {
                control.execute(() -> onFailed(slot, failed));
            } catch (RejectedExecutionException stopped) {
                // the launcher is stopping: nothing to restart
            }
        });
        instance.terminated().thenRun(table::publish);
        return instance;
    }

    /** Creates, configures and binds a new instance for the slot (a start or a restart), and publishes. */
    DaemonInstance start(DaemonSlot slot) {
        DaemonInstance instance = newInstance(slot, slot.spec, slot.plugin);
        slot.current = instance;
        try {
            instance.configure();
        } catch (ConfigError e) {
            instance.markFailed("its config is wrong: " + e.getMessage(), null);
            return instance;
        }
        instance.start(HandOver.NONE);
        table.publish();
        return instance;
    }

    /** Forgets the daemon's failures and restarts: an operator's start, or a new config. */
    void release(DaemonSlot slot) {
        slot.cancelPendingRestart();
        slot.held = false;
        slot.recentRestarts.clear();
    }

    /** No automatic restart of the daemon until it is {@link #release released}: an operator's stop. */
    void hold(DaemonSlot slot) {
        slot.held = true;
        slot.cancelPendingRestart();
    }

    /** Holds the daemon, takes it out of the table and stops its instance (draining). */
    CompletableFuture<Void> stopAndRemove(DaemonSlot slot, LauncherSettings.Shutdown shutdown) {
        hold(slot);
        table.remove(slot);
        DaemonInstance i = slot.current;
        if (i == null || i.state().isTerminal()) {
            return CompletableFuture.completedFuture(null);
        }
        return i.stop(shutdown.grace(), shutdown.quietPeriod());
    }

    /** The launcher is stopping: no restart from now on. */
    void stop() {
        stopping = true;
        for (DaemonSlot slot : table.slots()) {
            slot.cancelPendingRestart();
        }
    }

    /** The restart policy, on the control thread, when an instance became FAILED. */
    private void onFailed(DaemonSlot slot, DaemonInstance failed) {
        table.publish();
        if (slot.current != failed || table.get(slot.name) != slot) {
            return; // an older version, or a slot already removed
        }
        slot.lastFailure = failed.failure();
        slot.lastFailureMillis = System.currentTimeMillis();
        if (stopping || slot.held) {
            table.publish();
            return;
        }
        DaemonSettings.RestartPolicy policy = slot.spec.settings().restart();
        if (!policy.onFailure()) {
            log.error(
                    "daemon '{}' stays FAILED (restart policy: never). Fix the cause, then: daemonkit restart {}",
                    slot.name,
                    slot.name);
            table.publish();
            return;
        }
        long now = System.currentTimeMillis();
        while (!slot.recentRestarts.isEmpty()
                && now - slot.recentRestarts.peekFirst() > policy.window().toMillis()) {
            slot.recentRestarts.removeFirst();
        }
        if (slot.recentRestarts.size() >= policy.maxRestarts()) {
            slot.held = true;
            slot.lastFailure = "gave up after " + slot.recentRestarts.size() + " restart(s) within "
                    + policy.window().toSeconds() + " s; last failure: " + failed.failure();
            log.error(
                    "daemon '{}' FAILED for good: {}. The other daemons keep running. Fix the cause, then:"
                            + " daemonkit restart {}",
                    slot.name,
                    slot.lastFailure,
                    slot.name);
            table.publish();
            return;
        }
        int attempt = slot.recentRestarts.size() + 1;
        Duration delay = policy.backoff(attempt);
        log.warn(
                "daemon '{}' failed; restart {} of at most {} in {} ms",
                slot.name,
                attempt,
                policy.maxRestarts(),
                delay.toMillis());
        slot.pendingRestart = control.schedule(
                () -> {
                    slot.pendingRestart = null;
                    if (stopping || slot.held || table.get(slot.name) != slot) {
                        table.publish();
                        return;
                    }
                    slot.recentRestarts.addLast(System.currentTimeMillis());
                    slot.restarts++;
                    start(slot);
                },
                delay.toMillis(),
                TimeUnit.MILLISECONDS);
        table.publish();
    }
}
