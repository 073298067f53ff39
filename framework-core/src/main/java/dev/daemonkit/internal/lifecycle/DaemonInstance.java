package dev.daemonkit.internal.lifecycle;

import com.typesafe.config.Config;
import dev.daemonkit.api.DaemonState;
import dev.daemonkit.api.Listener;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.DaemonSpec;
import dev.daemonkit.internal.plugins.InstalledPlugin;
import dev.daemonkit.internal.transport.DaemonConnections;
import dev.daemonkit.internal.transport.DaemonSockets;
import dev.daemonkit.internal.transport.DaemonSockets.HandOver;
import dev.daemonkit.internal.transport.ListenerRegistry;
import dev.daemonkit.internal.transport.LogScope;
import dev.daemonkit.timers.TimerScope;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a daemon, and its state machine: NEW -> STARTING -> RUNNING -> STOPPING -> STOPPED, or
 * FAILED. A failure is confined to this instance: it is logged in one line saying what and where, and
 * everything it holds is released (sockets, connections, timers, its own event loops).
 *
 * <p>What the plugin sees is its {@link InstanceContext}; the sockets are its {@link DaemonSockets}.
 * The launcher calls the lifecycle methods from its control thread; the blocking steps of a stop run
 * on the lifecycle executor.
 */
public final class DaemonInstance {
    private static final Logger log = LoggerFactory.getLogger(DaemonInstance.class);

    private final DaemonSpec spec;
    private final InstalledPlugin plugin;
    private final FrameworkServices services;
    private final Consumer<DaemonInstance> onFailed;
    private final AtomicReference<DaemonState> state = new AtomicReference<>(DaemonState.NEW);
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** Completes when the start has ended: RUNNING, FAILED, or STOPPING (a stop came first). */
    private final CompletableFuture<DaemonState> started = new CompletableFuture<>();

    private final LogScope logScope;
    private final DaemonLoops loops;
    private final TimerScope timerScope;
    private final DaemonConnections connections;
    private final DaemonSockets sockets;
    private final InstanceContext context;
    private volatile long runningSinceMillis;
    private volatile String failure;
    /** Why the daemon runs degraded ({@code DaemonContext.degraded}), or null while it is whole. */
    private volatile String degraded;
    /** Set when this instance failed because an address of it could not be bound. */
    private volatile boolean bindFailed;

    /**
     * @param onFailed told (on the failing thread) when this instance becomes FAILED, for supervision
     */
    public DaemonInstance(
            DaemonSpec spec,
            InstalledPlugin plugin,
            FrameworkServices services,
            ListenerRegistry registry,
            Consumer<DaemonInstance> onFailed) {
        this.spec = spec;
        this.plugin = plugin;
        this.services = services;
        this.onFailed = onFailed;
        this.logScope = LogScope.of(spec.name());
        this.loops = new DaemonLoops(spec, services);
        this.timerScope = loops.timers;
        this.connections = new DaemonConnections(spec.settings(), timerScope, services.connections(), loops.own);
        this.sockets = new DaemonSockets(
                spec.name(),
                spec.block(),
                registry,
                services.transport(),
                connections,
                loops.loops,
                logScope,
                services.tls());
        this.context = new InstanceContext(this, spec.block(), logScope, timerScope, loops.loops, connections, sockets);
    }

    // ---- lifecycle, called by the launcher ----

    /**
     * STARTING: creates the injector and the plugin instance and calls its {@code configure}. A
     * {@link ConfigError} (a bad address, a config key of the wrong type) propagates so the launcher
     * can stop before binding anything; any other failure marks this daemon FAILED.
     */
    void configure() {
        if (!state.compareAndSet(DaemonState.NEW, DaemonState.STARTING)) {
            throw new IllegalStateException("daemon '" + name() + "' is " + state.get() + ", not NEW");
        }
        Object previousScope = logScope.enter();
        try {
            PluginConfigure.Failed failed = PluginConfigure.run(name(), plugin, services, context);
            if (failed != null) {
                markFailed(failed.reason(), failed.cause());
            } else {
                sockets.checkTlsKeys();
            }
        } finally {
            logScope.exit(previousScope);
        }
    }

    List<DeclaredAddress> declaredAddresses() {
        List<DeclaredAddress> out = new ArrayList<>();
        for (Listener l : sockets.listeners()) {
            out.add(new DeclaredAddress(l.transport(), l.address(), sockets.where(l)));
        }
        return out;
    }

    /**
     * Once the plugin is ready ({@code readyWhen}; at once if it gave nothing to wait for), binds
     * every declared socket as {@code handOver} says: RUNNING on success, FAILED (nothing left bound)
     * otherwise. Without a start to wait for, all of it happens on the caller's thread; else the bind
     * runs on the lifecycle executor when the plugin is ready, and a start not ready within
     * {@code start-timeout} fails. The future completes with the state the start ended in (RUNNING,
     * FAILED, or STOPPING if a stop came first).
     */
    CompletableFuture<DaemonState> start(HandOver handOver) {
        if (state.get() != DaemonState.STARTING) {
            return CompletableFuture.completedFuture(state.get());
        }
        CompletableFuture<Void> ready = context.ready();
        if (ready.isDone()) {
            finishStart(
                    handOver,
                    ready.isCompletedExceptionally() ? ready.handle((v, e) -> e).join() : null);
        } else {
            Duration timeout = spec.settings().startTimeout();
            logScope.run(() -> log.info(
                    "daemon '{}' STARTING: waiting up to {} ms for its plugin to be ready",
                    name(),
                    timeout.toMillis()));
            ready.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .whenCompleteAsync((v, e) -> finishStart(handOver, e), services.lifecycle());
        }
        return started;
    }

    private void finishStart(HandOver handOver, Throwable notReady) {
        synchronized (this) {
            if (state.get() != DaemonState.STARTING) {
                started.complete(state.get());
                return;
            }
            if (notReady != null) {
                Throwable cause = Failures.unwrap(notReady);
                markFailed(Failures.notReady(name(), spec.settings().startTimeout(), cause), cause);
                return;
            }
            try {
                sockets.bind(handOver);
            } catch (DaemonSockets.BindError e) {
                bindFailed = true;
                markFailed(e.getMessage(), null);
                return;
            }
            if (!state.compareAndSet(DaemonState.STARTING, DaemonState.RUNNING)) {
                started.complete(state.get());
                return;
            }
        }
        runningSinceMillis = System.currentTimeMillis();
        logScope.run(() ->
                log.info("daemon '{}' (plugin {} {}) RUNNING on {}", name(), plugin.name(), plugin.version(), sockets));
        context.runHooks(context.onStarted, "onStarted");
        started.complete(DaemonState.RUNNING);
    }

    /** This instance's sockets, for a newer instance to take over ({@link HandOver#from}). */
    HandOver handOver() {
        return HandOver.from(sockets);
    }

    /**
     * STOPPING: stop accepting, tell the plugin, let open connections finish (each is closed once it
     * is quiet) for up to {@code grace}, then close what is left, cancel timers, STOPPED.
     */
    CompletableFuture<Void> stop(Duration grace, Duration quiet) {
        return stop(grace, quiet, "STOPPING");
    }

    /**
     * Retires this version after a newer one took over its listeners: open connections stay on this
     * version until their clients close them or {@code grace} ends; nothing is closed early.
     */
    CompletableFuture<Void> retire(Duration grace) {
        return stop(grace, null, "version " + plugin.version() + " retiring (a new version took over)");
    }

    /**
     * Stops this instance after a new one (a reload's new config) took over its listeners: like a
     * stop (open connections are told and closed once quiet), but only the sockets the new instance
     * did not take over are closed.
     */
    CompletableFuture<Void> replaced(Duration grace, Duration quiet) {
        return stop(grace, quiet, "replaced (its new config took over)");
    }

    private CompletableFuture<Void> stop(Duration grace, Duration quiet, String what) {
        synchronized (this) {
            DaemonState s = state.get();
            if (s != DaemonState.RUNNING && s != DaemonState.STARTING
                    || !state.compareAndSet(s, DaemonState.STOPPING)) {
                return CompletableFuture.completedFuture(null);
            }
            // Closes only the sockets this instance still owns: one a newer instance took over stays bound
            // (a hot swap), one the newer instance no longer declares is closed (a reload moved the port).
            sockets.close();
            started.complete(DaemonState.STOPPING);
        }
        long started = System.nanoTime();
        logScope.run(() -> log.info(
                "daemon '{}' {}: no new connections; {} open get up to {} ms to finish",
                name(),
                what,
                connections.open(),
                grace.toMillis()));
        return connections
                .drain(grace, quiet)
                .completeOnTimeout(null, grace.toMillis(), TimeUnit.MILLISECONDS)
                .thenRunAsync(
                        logScope.wrap(() -> {
                            int left = connections.closeAll();
                            if (left > 0) {
                                log.info(
                                        "daemon '{}': closed {} connection(s) still open after the grace period",
                                        name(),
                                        left);
                            }
                            timerScope.close();
                            context.runHooks(context.onStopped, "onStopped");
                            loops.release();
                            state.set(DaemonState.STOPPED);
                            terminated.complete(null);
                            log.info(
                                    "daemon '{}' STOPPED after {} ms",
                                    name(),
                                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
                        }),
                        services.lifecycle());
    }

    /** Releases a daemon that never ran because the launch was abandoned (a config error elsewhere). */
    void abandon() {
        synchronized (this) {
            DaemonState s = state.get();
            if (!s.isTerminal() && state.compareAndSet(s, DaemonState.STOPPED)) {
                sockets.close();
                connections.closeAll();
                timerScope.close();
            }
            started.complete(state.get());
        }
        loops.release();
        terminated.complete(null);
    }

    /** Marks the daemon FAILED, says why in one line, and releases what it holds. */
    void markFailed(String reason, Throwable cause) {
        synchronized (this) {
            DaemonState was = state.getAndSet(DaemonState.FAILED);
            if (was == DaemonState.FAILED) {
                return;
            }
            failure = reason;
            sockets.close();
            started.complete(DaemonState.FAILED);
        }
        logScope.run(() -> {
            log.error("daemon '{}' (plugin {}, {}) FAILED: {}.", name(), plugin.name(), plugin.source(), reason);
            if (cause != null) {
                log.debug("daemon '{}' failure detail", name(), cause);
            }
        });
        connections.closeAll();
        timerScope.close();
        loops.release();
        terminated.complete(null);
        onFailed.accept(this);
    }

    /** A failure the plugin reported ({@code DaemonContext.fail}): FAILED, on the lifecycle executor. */
    void fail(String reason, Throwable cause) {
        DaemonState s = state.get();
        if (s == DaemonState.RUNNING || s == DaemonState.STARTING) {
            services.lifecycle()
                    .execute(() -> markFailed(
                            "the plugin reported: " + reason
                                    + (cause == null
                                            ? ""
                                            : " (" + Failures.rootMessage(cause) + Failures.where(cause) + ")"),
                            cause));
        }
    }

    /** Attaches this (older, still running) version to its listeners again after a failed swap. */
    void reattach() {
        try {
            sockets.reattach();
        } catch (DaemonSockets.BindError e) {
            markFailed(e.getMessage(), e.getCause());
        }
    }

    /**
     * Offers a changed block to the plugin's reload hooks; true if one of them applied it (then no
     * restart is needed).
     */
    boolean offerReload(Config newBlock) {
        return context.offerReload(newBlock);
    }

    // ---- what the launcher, the admin endpoint and the metrics read ----

    public String name() {
        return spec.name();
    }

    public DaemonState state() {
        return state.get();
    }

    public DaemonSpec spec() {
        return spec;
    }

    public InstalledPlugin plugin() {
        return plugin;
    }

    /** What {@code DaemonContext.degraded} sets: why the running daemon cannot do all its work, or null. */
    public void degraded(String reason) {
        degraded = reason;
    }

    /** Why the running daemon is degraded ({@code DaemonContext.degraded}), or null while it is whole. */
    public String degradedReason() {
        return degraded;
    }

    public String failure() {
        return failure;
    }

    /** True when this instance FAILED because one of its addresses could not be bound (in use, taken). */
    public boolean failedToBind() {
        return bindFailed;
    }

    /** Timers of this daemon (and its connections) pending now. */
    public long timersPending() {
        return timerScope.pending();
    }

    /** Completes when this instance is STOPPED or FAILED and holds nothing any more. */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }

    /** When it became RUNNING (epoch millis), or 0. */
    public long runningSinceMillis() {
        return runningSinceMillis;
    }

    public DaemonConnections connections() {
        return connections;
    }

    /** The event loops its connections and timers run on: its own ({@code io-threads}) or the launcher's. */
    public EventLoopGroup eventLoops() {
        return loops.loops;
    }

    public List<Listener> listeners() {
        return sockets.listeners();
    }

    /** Requests the plugin counted ({@code daemonkit_requests_total}). */
    public long requests() {
        return context.requestCount();
    }

    @Override
    public String toString() {
        return "daemon '" + name() + "' (" + state.get() + ")";
    }
}
