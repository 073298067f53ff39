package dev.daemonkit.internal.lifecycle;

import com.google.inject.Injector;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import dev.daemonkit.api.DaemonState;
import dev.daemonkit.api.Listener;
import dev.daemonkit.api.PipelineInitializer;
import dev.daemonkit.api.Timers;
import dev.daemonkit.internal.config.Addresses;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.DaemonSpec;
import dev.daemonkit.internal.config.Origins;
import dev.daemonkit.internal.plugins.InstalledPlugin;
import dev.daemonkit.internal.timers.ScopedTimers;
import dev.daemonkit.internal.transport.BoundListener;
import dev.daemonkit.internal.transport.ListenerRegistry;
import dev.daemonkit.internal.transport.DaemonConnections;
import dev.daemonkit.internal.transport.ExceptionBarrier;
import dev.daemonkit.internal.transport.FrontHandler;
import dev.daemonkit.logging.LogContext;
import dev.daemonkit.timers.EventLoopTimerWheels;
import dev.daemonkit.timers.TimerScope;
import dev.daemonkit.timers.TimerWheelSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One running daemon: a plugin instance with its own config block, injector, timers, listeners and
 * connections, and its lifecycle NEW -> STARTING -> RUNNING -> STOPPING -> STOPPED, or FAILED. A
 * failure is confined to this instance: it is logged in one line saying what and where, and
 * everything it holds is released.
 */
public final class DaemonInstance implements DaemonContext {
    private static final Logger log = LoggerFactory.getLogger(DaemonInstance.class);

    private final DaemonSpec spec;
    private final InstalledPlugin plugin;
    private final FrameworkServices services;
    private final Logger daemonLog;
    private final AtomicReference<DaemonState> state = new AtomicReference<>(DaemonState.NEW);
    private final List<DeclaredListener> listeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> onStarted = new CopyOnWriteArrayList<>();
    private final List<Consumer<Duration>> onStopping = new CopyOnWriteArrayList<>();
    private final List<Runnable> onStopped = new CopyOnWriteArrayList<>();
    private final List<java.util.function.Predicate<Config>> onReload = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.LongAdder requests = new java.util.concurrent.atomic.LongAdder();
    private final ListenerRegistry registry;
    private final Consumer<DaemonInstance> onFailed;
    private volatile long runningSinceMillis;
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** Set while this instance takes over the listeners of an older version: a failure then only detaches. */
    volatile boolean takingOver;
    private final TimerScope timerScope;
    /** The daemon's own event loops and their timer wheels ({@code io-threads} > 0), or null: the shared ones. */
    private final EventLoopGroup ownLoops;
    private final EventLoopTimerWheels ownWheels;
    private final ScopedTimers timers;
    private final DaemonConnections connections;
    private volatile Injector injector;
    private volatile String failure;
    /** Set when this instance failed because an address of it could not be bound. */
    private volatile boolean bindFailed;

    /**
     * @param onFailed told (on the failing thread) when this instance becomes FAILED, for supervision
     */
    public DaemonInstance(DaemonSpec spec, InstalledPlugin plugin, FrameworkServices services,
                          ListenerRegistry registry, Consumer<DaemonInstance> onFailed) {
        this.registry = registry;
        this.onFailed = onFailed;
        this.spec = spec;
        this.plugin = plugin;
        this.services = services;
        this.daemonLog = LoggerFactory.getLogger("daemon." + spec.name());
        int own = spec.settings().ioThreads();
        if (own > 0) {
            this.ownLoops = services.transport().newDaemonLoops(spec.name(), own);
            this.ownWheels = EventLoopTimerWheels.create(ownLoops,
                    new TimerWheelSettings(services.settings().timers().tick(), services.settings().timers().wheelSize()));
            this.timerScope = ownWheels.newScope(spec.name());
        } else {
            this.ownLoops = null;
            this.ownWheels = null;
            this.timerScope = services.wheels().newScope(spec.name());
        }
        this.timers = new ScopedTimers(timerScope, spec.name(), null, null);
        this.connections = new DaemonConnections(spec.settings(), timerScope, services.connections(), ownLoops);
    }

    /** A listener this daemon declared in configure. */
    private final class DeclaredListener implements Listener {
        final String key;
        final InetSocketAddress address;
        final PipelineInitializer protocol;
        final boolean udp;
        volatile BoundListener tcp;
        volatile Channel datagram;

        DeclaredListener(String key, InetSocketAddress address, PipelineInitializer protocol, boolean udp) {
            this.key = key;
            this.address = address;
            this.protocol = protocol;
            this.udp = udp;
        }

        @Override
        public String key() {
            return key;
        }

        @Override
        public InetSocketAddress address() {
            return address;
        }

        @Override
        public InetSocketAddress boundAddress() {
            if (udp) {
                Channel d = datagram;
                return d != null && d.isActive() ? (InetSocketAddress) d.localAddress() : null;
            }
            BoundListener t = tcp;
            return t == null ? null : t.bound();
        }

        @Override
        public String transport() {
            return udp ? "udp" : "tcp";
        }

        String where() {
            return "daemons." + spec.name() + "." + key + ", " + Origins.of(spec.block().getValue(key));
        }

        @Override
        public String toString() {
            return transport() + " " + Addresses.format(boundAddress() != null ? boundAddress() : address);
        }
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
        MDC.put(LogContext.DAEMON, name());
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        t.setContextClassLoader(plugin.loader());
        try {
            DaemonPlugin instance;
            try {
                instance = plugin.newInstance();
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                markFailed("its plugin class " + plugin.name() + " could not be created: " + rootMessage(e), e);
                return;
            }
            try {
                injector = services.rootInjector().createChildInjector(new DaemonModule(this), instance.module());
                injector.injectMembers(instance);
            } catch (RuntimeException | LinkageError e) {
                markFailed("its Guice bindings failed: " + rootMessage(e), e);
                return;
            }
            try {
                instance.configure(this);
            } catch (ConfigError e) {
                throw e;
            } catch (ConfigException e) {
                throw new ConfigError("daemon '" + name() + "': " + e.getMessage()
                        + ". Fix daemons." + name() + " in the config.", e);
            } catch (Exception | LinkageError e) {
                markFailed(instance.getClass().getSimpleName() + ".configure threw " + rootMessage(e) + where(e), e);
            }
        } finally {
            t.setContextClassLoader(previous);
            MDC.remove(LogContext.DAEMON);
        }
    }

    /** A declared socket, for the launcher's check that no two listeners share an address. */
    record DeclaredAddress(String transport, InetSocketAddress address, String where) {
        String label() {
            return transport + " " + Addresses.format(address);
        }
    }

    List<DeclaredAddress> declaredAddresses() {
        List<DeclaredAddress> out = new ArrayList<>();
        for (DeclaredListener l : listeners) {
            out.add(new DeclaredAddress(l.transport(), l.address, l.where()));
        }
        return out;
    }

    /** Binds every declared listener; RUNNING on success, FAILED (nothing left bound) otherwise. */
    void bind() {
        if (state.get() != DaemonState.STARTING) {
            return;
        }
        for (DeclaredListener l : listeners) {
            ChannelFuture f;
            if (l.udp) {
                f = bindDatagram(l);
                if (!f.isSuccess()) {
                    failToBind(l, f.cause());
                    return;
                }
            } else {
                try {
                    l.tcp = registry.attach(l.address, name(), connections, l.protocol);
                } catch (ListenerRegistry.AddressTaken e) {
                    bindFailed = true;
                    markFailed(Addresses.format(l.address) + " (" + l.where() + ") is taken: " + e.getMessage()
                            + ". Give this daemon another port", null);
                    return;
                } catch (ListenerRegistry.BindFailed e) {
                    failToBind(l, e.getCause());
                    return;
                }
            }
        }
        if (!state.compareAndSet(DaemonState.STARTING, DaemonState.RUNNING)) {
            return;
        }
        runningSinceMillis = System.currentTimeMillis();
        inContext(() -> log.info("daemon '{}' (plugin {} {}) RUNNING on {}", name(), plugin.name(), plugin.version(),
                listeners.isEmpty() ? "no listener" : listeners.toString()));
        runHooks(onStarted, Runnable::run, "onStarted");
    }

    /**
     * Binds a UDP socket of this daemon and waits. UDP sockets belong to their daemon (there is no
     * connection to keep on an old version), so a swap closes the old version's and binds anew.
     */
    private ChannelFuture bindDatagram(DeclaredListener l) {
        ChannelFuture f = new Bootstrap().group(eventLoops())
                .channel(services.transport().datagramChannel())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) throws Exception {
                        ch.pipeline().addLast("daemonkit-context", new DatagramContext(name()));
                        l.protocol.initialize(ch.pipeline());
                        ch.pipeline().addLast("daemonkit-barrier", ExceptionBarrier.INSTANCE);
                    }
                })
                .bind(l.address);
        l.datagram = f.channel();
        return f.awaitUninterruptibly();
    }

    /** Before a newer version binds: hands this version's UDP ports over by closing them. */
    void releaseDatagrams() {
        closeDatagramListeners();
    }

    private void failToBind(DeclaredListener l, Throwable cause) {
        String why = cause instanceof BindException || String.valueOf(cause.getMessage()).contains("in use")
                ? " is in use. Stop the process holding it or choose another port"
                : " cannot be bound: " + cause.getMessage();
        bindFailed = true;
        markFailed(Addresses.format(l.address) + " (" + l.where() + ")" + why, null);
    }

    /**
     * STOPPING: stop accepting, tell the plugin, let open connections finish (each is closed once it
     * is quiet) for up to {@code grace}, then close what is left, cancel timers, STOPPED.
     */
    CompletableFuture<Void> stop(Duration grace, Duration quiet) {
        return stop(grace, quiet, false);
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

    private CompletableFuture<Void> stop(Duration grace, Duration quiet, boolean retiring) {
        return stop(grace, quiet, retiring ? "retiring" : "STOPPING");
    }

    private CompletableFuture<Void> stop(Duration grace, Duration quiet, String what) {
        DaemonState s = state.get();
        if (s != DaemonState.RUNNING && s != DaemonState.STARTING) {
            return CompletableFuture.completedFuture(null);
        }
        if (!state.compareAndSet(s, DaemonState.STOPPING)) {
            return CompletableFuture.completedFuture(null);
        }
        long started = System.nanoTime();
        inContext(() -> log.info("daemon '{}' {}: no new connections; {} open get up to {} ms to finish",
                name(), what, connections.open(), grace.toMillis()));
        // Closes only the sockets this instance still owns: one a newer instance took over stays bound
        // (a hot swap), one the newer instance no longer declares is closed (a reload moved the port).
        closeListeners();
        runHooks(onStopping, h -> h.accept(grace), "onStopping");
        return connections.drain(grace, quiet)
                .completeOnTimeout(null, grace.toMillis(), TimeUnit.MILLISECONDS)
                .thenRunAsync(() -> inContext(() -> {
                    int left = connections.closeAll();
                    if (left > 0) {
                        log.info("daemon '{}': closed {} connection(s) still open after the grace period", name(), left);
                    }
                    timerScope.close();
                    runHooks(onStopped, Runnable::run, "onStopped");
                    releaseOwnLoops();
                    state.set(DaemonState.STOPPED);
                    terminated.complete(null);
                    log.info("daemon '{}' STOPPED after {} ms", name(),
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
                }), services.lifecycle());
    }

    /** Releases a daemon that never ran because the launch was abandoned (a config error elsewhere). */
    void abandon() {
        DaemonState s = state.get();
        if (!s.isTerminal() && state.compareAndSet(s, DaemonState.STOPPED)) {
            closeListeners();
            connections.closeAll();
            timerScope.close();
        }
        releaseOwnLoops();
        terminated.complete(null);
    }

    /** Stops the daemon's own event loops, if it has them, once nothing of it runs there any more. */
    private void releaseOwnLoops() {
        if (ownWheels != null) {
            ownWheels.close();
        }
        if (ownLoops != null && !ownLoops.isShuttingDown()) {
            ownLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** Marks the daemon FAILED, says why in one line, and releases what it holds. */
    void markFailed(String reason, Throwable cause) {
        DaemonState was = state.getAndSet(DaemonState.FAILED);
        if (was == DaemonState.FAILED) {
            return;
        }
        failure = reason;
        inContext(() -> {
            log.error("daemon '{}' (plugin {}, {}) FAILED: {}.", name(), plugin.name(), plugin.source(), reason);
            if (cause != null) {
                log.debug("daemon '{}' failure detail", name(), cause);
            }
        });
        closeListeners();
        connections.closeAll();
        timerScope.close();
        releaseOwnLoops();
        terminated.complete(null);
        onFailed.accept(this);
    }

    private void closeListeners() {
        for (DeclaredListener l : listeners) {
            if (l.tcp != null) {
                if (takingOver) {
                    registry.detach(l.tcp, connections);
                } else {
                    registry.release(l.tcp, connections);
                }
            }
        }
        closeDatagramListeners();
    }

    /** Attaches this (older, still running) version to its listeners again after a failed swap. */
    void reattach() {
        for (DeclaredListener l : listeners) {
            if (l.udp) {
                ChannelFuture f = bindDatagram(l);
                if (!f.isSuccess()) {
                    markFailed("could not bind " + Addresses.format(l.address) + " (udp) again after a failed swap: "
                            + f.cause().getMessage(), f.cause());
                    return;
                }
            } else if (l.tcp != null) {
                try {
                    registry.attach(l.address, name(), connections, l.protocol);
                } catch (ListenerRegistry.AddressTaken | ListenerRegistry.BindFailed e) {
                    markFailed("could not take back " + Addresses.format(l.address) + " after a failed swap: "
                            + e.getMessage(), e);
                    return;
                }
            }
        }
    }

    private void closeDatagramListeners() {
        for (DeclaredListener l : listeners) {
            if (l.datagram != null) {
                l.datagram.close().awaitUninterruptibly();
            }
        }
    }

    private <T> void runHooks(List<T> hooks, Consumer<T> call, String what) {
        inContext(() -> {
            for (T hook : hooks) {
                try {
                    call.accept(hook);
                } catch (RuntimeException | LinkageError e) {
                    log.error("daemon '{}': an {} hook threw; continuing", name(), what, e);
                }
            }
        });
    }

    /** Runs {@code body} with this daemon's logging context, so its lines land in logs/NAME.log too. */
    private void inContext(Runnable body) {
        String previous = MDC.get(LogContext.DAEMON);
        MDC.put(LogContext.DAEMON, name());
        try {
            body.run();
        } finally {
            if (previous == null) {
                MDC.remove(LogContext.DAEMON);
            } else {
                MDC.put(LogContext.DAEMON, previous);
            }
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    private static String where(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        StackTraceElement[] st = root.getStackTrace();
        return st.length == 0 || st[0].getFileName() == null ? ""
                : " (at " + st[0].getFileName() + ":" + st[0].getLineNumber() + ")";
    }

    // ---- what the launcher reads ----

    public DaemonSpec spec() {
        return spec;
    }

    public InstalledPlugin plugin() {
        return plugin;
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

    /**
     * Offers a changed block to the plugin's reload hooks; true if one of them applied it (then no
     * restart is needed).
     */
    boolean offerReload(Config newBlock) {
        boolean[] applied = {false};
        inContext(() -> {
            for (var hook : onReload) {
                try {
                    if (hook.test(newBlock)) {
                        applied[0] = true;
                    }
                } catch (RuntimeException | LinkageError e) {
                    log.error("daemon '{}': a reload hook threw; the daemon will be restarted instead", name(), e);
                    applied[0] = false;
                    return;
                }
            }
        });
        return applied[0] && !onReload.isEmpty();
    }

    public DaemonConnections connections() {
        return connections;
    }

    public List<Listener> listeners() {
        return List.copyOf(listeners);
    }

    // ---- DaemonContext ----

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public String pluginName() {
        return plugin.name();
    }

    @Override
    public Config config() {
        return spec.block();
    }

    @Override
    public Logger log() {
        return daemonLog;
    }

    @Override
    public Timers timers() {
        return timers;
    }

    @Override
    public Timers timers(Channel connection) {
        Objects.requireNonNull(connection, "connection");
        FrontHandler front = connection.pipeline().get(FrontHandler.class);
        if (front == null) {
            throw new IllegalArgumentException(connection + " is not a connection of daemon '" + name() + "'");
        }
        if (front.connectionTimers() instanceof ScopedTimers t) {
            return t;
        }
        // Owned by the daemon's name: the connection id and peer are in the logging context of every
        // task already, and one string less per connection matters with 19,000 of them.
        ScopedTimers made = new ScopedTimers(timerScope.childOn(connection.eventLoop(), name()), name(),
                front.connectionId(), front.peer());
        return (ScopedTimers) front.installConnectionTimers(made);
    }

    @Override
    public EventLoopGroup eventLoops() {
        return ownLoops != null ? ownLoops : services.transport().workers();
    }

    @Override
    public int maxConnections() {
        return connections.maxConnections();
    }

    @Override
    public Injector injector() {
        Injector i = injector;
        if (i == null) {
            throw new IllegalStateException("the injector of daemon '" + name() + "' is created just before configure");
        }
        return i;
    }

    @Override
    public Listener listen(String addressKey, PipelineInitializer protocol) {
        return declare(addressKey, protocol, false);
    }

    @Override
    public Listener listenUdp(String addressKey, PipelineInitializer protocol) {
        return declare(addressKey, protocol, true);
    }

    private Listener declare(String key, PipelineInitializer protocol, boolean udp) {
        Objects.requireNonNull(protocol, "protocol");
        if (state.get() != DaemonState.STARTING) {
            throw new IllegalStateException("daemon '" + name() + "': listeners are declared in configure(), not later");
        }
        InetSocketAddress address = Addresses.read(spec.block(), key, "daemons." + name() + "." + key);
        DeclaredListener l = new DeclaredListener(key, address, protocol, udp);
        listeners.add(l);
        return l;
    }

    @Override
    public void onStarted(Runnable hook) {
        onStarted.add(Objects.requireNonNull(hook));
    }

    @Override
    public void onStopping(Consumer<Duration> hook) {
        onStopping.add(Objects.requireNonNull(hook));
    }

    @Override
    public void onStopped(Runnable hook) {
        onStopped.add(Objects.requireNonNull(hook));
    }

    @Override
    public DaemonState state() {
        return state.get();
    }

    @Override
    public void onReload(java.util.function.Predicate<Config> hook) {
        onReload.add(Objects.requireNonNull(hook));
    }

    @Override
    public void fail(String reason, Throwable cause) {
        DaemonState s = state.get();
        if (s == DaemonState.RUNNING || s == DaemonState.STARTING) {
            services.lifecycle().execute(() -> markFailed("the plugin reported: " + reason
                    + (cause == null ? "" : " (" + rootMessage(cause) + where(cause) + ")"), cause));
        }
    }

    @Override
    public java.util.concurrent.atomic.LongAdder requests() {
        return requests;
    }

    @Override
    public String toString() {
        return "daemon '" + name() + "' (" + state.get() + ")";
    }
}
