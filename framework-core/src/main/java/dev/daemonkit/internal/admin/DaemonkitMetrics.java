package dev.daemonkit.internal.admin;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.lifecycle.DaemonInstance;
import dev.daemonkit.internal.lifecycle.DaemonStatus;
import dev.daemonkit.internal.lifecycle.DaemonTable;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.internal.transport.ConnectionBudget;
import dev.daemonkit.internal.transport.DaemonConnections;
import dev.daemonkit.internal.transport.StallWatchdog;
import dev.daemonkit.internal.transport.TlsContext;
import dev.daemonkit.internal.transport.TlsWatch;
import dev.daemonkit.logging.LoggingSystem;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.netty.util.internal.PlatformDependent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * The process's metrics in Prometheus form (Micrometer): per daemon connections open, accepted and
 * rejected, bytes in and out, requests (where the protocol counts them), timers pending, up,
 * restarts; per event loop pending tasks; log events dropped; stalls; JVM metrics.
 */
public final class DaemonkitMetrics implements DaemonTable.Listener, AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, List<Meter>> perDaemon = new ConcurrentHashMap<>();
    /** What the meters read: Micrometer holds function meters' objects weakly. */
    private final Map<String, Reading> readings = new ConcurrentHashMap<>();

    /** One expiry gauge per TLS listener (daemon/key) seen registered; removed when it is gone. */
    private final Map<String, Meter> tlsExpiry = new ConcurrentHashMap<>();

    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Launcher launcher;

    /** One daemon's meters read its latest published status (so a restart or swap needs no new meters). */
    private record Reading(DaemonTable table, String daemon) {
        DaemonStatus status() {
            return table.status(daemon);
        }

        long instance(ToLongFunction<DaemonInstance> f) {
            DaemonStatus s = status();
            return s == null || s.instance() == null ? 0 : f.applyAsLong(s.instance());
        }
    }

    public DaemonkitMetrics(Launcher launcher, LoggingSystem logging, StallWatchdog watchdog) {
        this.launcher = launcher;
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        int i = 0;
        for (EventExecutor loop : launcher.transport().workers()) {
            if (loop instanceof SingleThreadEventExecutor s) {
                Gauge.builder("daemonkit.eventloop.pending.tasks", s, SingleThreadEventExecutor::pendingTasks)
                        .tag("loop", Integer.toString(i))
                        .strongReference(true)
                        .description("tasks waiting in the event loop's queue")
                        .register(registry);
            }
            i++;
        }
        if (logging != null) {
            FunctionCounter.builder("daemonkit.log.events.dropped", logging, LoggingSystem::droppedEvents)
                    .description("TRACE/DEBUG/INFO lines dropped because a log output could not keep up")
                    .register(registry);
            FunctionCounter.builder("daemonkit.log.lines.lost", logging, LoggingSystem::lostLines)
                    .description("lines of any level lost because a log file could not be written (disk full, ...)")
                    .register(registry);
        }
        // Netty allocates its direct buffers without the JDK's Cleaner (the launcher lets it count them itself),
        // so jvm_buffer_memory_used_bytes does not see them: a hostile review watched it read 25 KB while
        // replies held 500 MB. Netty's own count, -1 where it does not count.
        Gauge.builder("daemonkit.netty.direct.memory.used", PlatformDependent::usedDirectMemory)
                .baseUnit("bytes")
                .description("direct memory Netty's buffers hold now (-1: Netty does not count it here)")
                .register(registry);
        Gauge.builder("daemonkit.netty.direct.memory.max", PlatformDependent::maxDirectMemory)
                .baseUnit("bytes")
                .description("direct memory Netty may hold (-XX:MaxDirectMemorySize, else the heap's maximum)")
                .register(registry);
        if (watchdog != null) {
            FunctionCounter.builder("daemonkit.eventloop.stalls", watchdog, StallWatchdog::stalls)
                    .description("event loops found blocked longer than daemonkit.watchdog.threshold")
                    .register(registry);
        }
        ConnectionBudget budget = launcher.connectionBudget();
        if (budget != null) {
            Gauge.builder("daemonkit.connections.budget", budget, ConnectionBudget::limit)
                    .strongReference(true)
                    .description("connections the process may hold (file descriptor limit minus the reserve)")
                    .register(registry);
            Gauge.builder("daemonkit.connections.budget.used", budget, ConnectionBudget::open)
                    .strongReference(true)
                    .description("connections the process holds now, every daemon and admin")
                    .register(registry);
            FunctionCounter.builder("daemonkit.connections.budget.pauses", budget, ConnectionBudget::pauses)
                    .description("times accepting paused because the process held its whole connection budget")
                    .register(registry);
        }
        FunctionCounter.builder("daemonkit.plugin.scan.errors", launcher, Launcher::pluginScanErrors)
                .description(
                        "looks at the plugins folder that could not read it (or a plugin file); nothing was changed")
                .register(registry);
        launcher.daemons().addListener(this);
    }

    /** The admin endpoint's connections, under daemon="admin" like a daemon's. */
    public void bindAdmin(DaemonConnections admin) {
        Tags tags = Tags.of("daemon", admin.daemon());
        Gauge.builder("daemonkit.connections.open", admin, DaemonConnections::open)
                .tags(tags)
                .strongReference(true)
                .description("connections open now")
                .register(registry);
        FunctionCounter.builder("daemonkit.connections.rejected", admin, DaemonConnections::rejected)
                .tags(tags)
                .description("connections refused by max-connections")
                .register(registry);
        FunctionCounter.builder("daemonkit.connections.deadline.closed", admin, DaemonConnections::deadlineClosed)
                .tags(tags)
                .description("connections closed because a request did not complete within request-timeout")
                .register(registry);
        FunctionCounter.builder("daemonkit.inbound.refused", admin, DaemonConnections::inboundRefused)
                .tags(tags)
                .description("reads refused (and connections closed) by the inbound limits")
                .register(registry);
        FunctionCounter.builder("daemonkit.connections.evicted", admin, DaemonConnections::evicted)
                .tags(tags)
                .description("connections closed, when full, to make room for a new one (the one waiting longest)")
                .register(registry);
    }

    @Override
    public void added(String daemon) {
        removed(daemon);
        Tags tags = Tags.of("daemon", daemon);
        Reading view = new Reading(launcher.daemons(), daemon);
        readings.put(daemon, view);
        List<Meter> meters = new ArrayList<>();
        meters.add(gauge(
                "daemonkit.connections.open",
                view,
                tags,
                "connections open now",
                v -> v.instance(i -> i.connections().open())));
        meters.add(counter(
                "daemonkit.connections.accepted",
                view,
                tags,
                "connections accepted",
                v -> v.instance(i -> i.connections().accepted())));
        meters.add(counter(
                "daemonkit.connections.rejected",
                view,
                tags,
                "connections refused by max-connections",
                v -> v.instance(i -> i.connections().rejected())));
        meters.add(gauge(
                "daemonkit.connections.limit",
                view,
                tags,
                "the daemon's max-connections (its share of the budget)",
                v -> v.instance(i -> i.connections().maxConnections())));
        meters.add(counter(
                "daemonkit.connections.refused.budget",
                view,
                tags,
                "connections refused because the process held its whole connection budget",
                v -> v.instance(i -> i.connections().refusedByBudget())));
        meters.add(counter(
                "daemonkit.connections.deadline.closed",
                view,
                tags,
                "connections closed because a request did not complete within request-timeout",
                v -> v.instance(i -> i.connections().deadlineClosed())));
        meters.add(counter(
                "daemonkit.io_uring.ring.exhausted",
                view,
                tags,
                "reads that found the io_uring buffer ring empty (daemonkit.transport.io-uring-buffer-ring too small)",
                v -> v.instance(i -> i.connections().ringExhausted())));
        meters.add(counter(
                "daemonkit.inbound.refused",
                view,
                tags,
                "reads refused (and connections closed) by the inbound limits",
                v -> v.instance(i -> i.connections().inboundRefused())));
        meters.add(gauge(
                "daemonkit.inbound.buffered.bytes",
                view,
                tags,
                "bytes held for incomplete requests",
                v -> v.instance(i -> i.connections().inboundBuffered())));
        meters.add(gauge(
                "daemonkit.outbound.stalled.bytes",
                view,
                tags,
                "bytes of replies held for clients that stopped reading them (capped by write-buffer.max-total)",
                v -> v.instance(i -> i.connections().stalledReplyBytes())));
        meters.add(counter(
                "daemonkit.outbound.evicted",
                view,
                tags,
                "connections closed because the replies held for stalled clients passed write-buffer.max-total",
                v -> v.instance(i -> i.connections().stalledEvicted())));
        meters.add(counter(
                "daemonkit.bytes.in",
                view,
                tags,
                "bytes read from clients",
                v -> v.instance(i -> i.connections().bytesIn())));
        meters.add(counter(
                "daemonkit.bytes.out",
                view,
                tags,
                "bytes written to clients",
                v -> v.instance(i -> i.connections().bytesOut())));
        meters.add(counter(
                "daemonkit.requests",
                view,
                tags,
                "requests, where the protocol counts them",
                v -> v.instance(DaemonInstance::requests)));
        meters.add(gauge(
                "daemonkit.timers.pending",
                view,
                tags,
                "timers pending",
                v -> v.instance(DaemonInstance::timersPending)));
        meters.add(gauge(
                "daemonkit.daemon.up",
                view,
                tags,
                "1 when the daemon is RUNNING",
                v -> v.status() != null && v.status().state() == DaemonState.RUNNING ? 1 : 0));
        meters.add(counter(
                "daemonkit.daemon.restarts",
                view,
                tags,
                "automatic restarts",
                v -> v.status() == null ? 0 : v.status().restarts()));
        perDaemon.put(daemon, meters);
    }

    private Meter gauge(String name, Reading view, Tags tags, String help, ToDoubleFunction<Reading> f) {
        return Gauge.builder(name, view, f).tags(tags).description(help).register(registry);
    }

    private Meter counter(String name, Reading view, Tags tags, String help, ToDoubleFunction<Reading> f) {
        return FunctionCounter.builder(name, view, f)
                .tags(tags)
                .description(help)
                .register(registry);
    }

    @Override
    public void removed(String daemon) {
        List<Meter> meters = perDaemon.remove(daemon);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
        readings.remove(daemon);
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        syncTls();
        return registry.scrape();
    }

    /**
     * {@code daemonkit_tls_certificate_expiry_seconds{daemon,listener}}: when each TLS listener's current
     * certificate expires (seconds since the epoch), as the blackbox exporter's
     * {@code probe_ssl_earliest_cert_expiry}; alert on {@code ... - time() < 14 * 86400}. Listeners come and
     * go with daemons and reloads, so the gauges follow the registered contexts at each scrape.
     */
    private synchronized void syncTls() {
        TlsWatch watch = launcher.tls();
        if (watch == null) {
            return;
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (TlsContext c : watch.active()) {
            String daemon = c.daemon();
            String key = c.key(); // strings only: a gauge must not hold a context of a replaced instance
            String id = daemon + "/" + key;
            seen.add(id);
            tlsExpiry.computeIfAbsent(
                    id,
                    ignored -> Gauge.builder(
                                    "daemonkit.tls.certificate.expiry", watch, w -> w.expirySeconds(daemon, key))
                            .tags("daemon", daemon, "listener", key)
                            .baseUnit("seconds")
                            .strongReference(true)
                            .description("when the listener's current certificate expires, in seconds since the epoch")
                            .register(registry));
        }
        tlsExpiry.entrySet().removeIf(e -> {
            if (seen.contains(e.getKey())) {
                return false;
            }
            registry.remove(e.getValue());
            return true;
        });
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
