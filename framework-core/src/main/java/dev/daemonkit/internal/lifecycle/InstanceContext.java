package dev.daemonkit.internal.lifecycle;

import com.google.inject.Injector;
import com.typesafe.config.Config;
import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.Limits;
import dev.daemonkit.api.Listener;
import dev.daemonkit.api.PipelineInitializer;
import dev.daemonkit.api.RequestCounter;
import dev.daemonkit.api.Timers;
import dev.daemonkit.internal.plugins.InstalledPlugin;
import dev.daemonkit.internal.timers.ScopedTimers;
import dev.daemonkit.internal.transport.DaemonConnections;
import dev.daemonkit.internal.transport.DaemonLogger;
import dev.daemonkit.internal.transport.DaemonSockets;
import dev.daemonkit.internal.transport.FrontHandler;
import dev.daemonkit.internal.transport.LogScope;
import dev.daemonkit.timers.TimerScope;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a plugin sees of its daemon instance: the {@link DaemonContext} handed to {@code configure} and
 * bound in the daemon's injector. It hands out the instance's resources and collects what the plugin
 * declares (listeners, readiness, hooks); the {@link DaemonInstance} owns the lifecycle and runs the hooks.
 */
final class InstanceContext implements DaemonContext {
    private final DaemonInstance instance;
    private final Config block;
    private final Logger log;
    private final LogScope logScope;
    private final TimerScope timerScope;
    private final ScopedTimers timers;
    private final EventLoopGroup loops;
    private final DaemonConnections connections;
    private final DaemonSockets sockets;
    private final Requests requests = new Requests();
    private final Limits limits;
    private final List<CompletionStage<?>> readiness = new CopyOnWriteArrayList<>();
    final List<Runnable> onStarted = new CopyOnWriteArrayList<>();
    final List<Runnable> onStopped = new CopyOnWriteArrayList<>();
    final List<Predicate<Config>> onReload = new CopyOnWriteArrayList<>();
    private volatile Injector injector;
    /** True while the plugin's configure runs: the only time it may declare. */
    private volatile boolean declaring;

    InstanceContext(
            DaemonInstance instance,
            Config block,
            LogScope logScope,
            TimerScope timerScope,
            EventLoopGroup loops,
            DaemonConnections connections,
            DaemonSockets sockets) {
        this.instance = instance;
        this.block = block;
        this.log = new DaemonLogger(LoggerFactory.getLogger("daemon." + logScope.daemon()), logScope);
        this.logScope = logScope;
        this.timerScope = timerScope;
        this.timers = ScopedTimers.ofDaemon(timerScope, logScope);
        this.loops = loops;
        this.connections = connections;
        this.sockets = sockets;
        int loopCount = 0;
        for (var loop : loops) {
            loopCount++;
        }
        this.limits = new LiveLimits(connections, loopCount);
    }

    void injector(Injector created) {
        injector = created;
    }

    /** Opens and closes the window in which the plugin may declare: its configure. */
    void declaring(boolean open) {
        declaring = open;
    }

    long requestCount() {
        return requests.count();
    }

    /**
     * Completes when every stage the plugin gave {@link #readyWhen} has completed (at once if none),
     * or fails with the first stage that failed.
     */
    CompletableFuture<Void> ready() {
        CompletableFuture<Void> all = CompletableFuture.completedFuture(null);
        for (CompletionStage<?> stage : readiness) {
            // Not stage.toCompletableFuture(): a CompletionStage may refuse it.
            CompletableFuture<Object> one = new CompletableFuture<>();
            stage.whenComplete((value, failure) -> {
                if (failure != null) {
                    one.completeExceptionally(failure);
                } else {
                    one.complete(value);
                }
            });
            all = all.thenCombine(one, (a, b) -> null);
        }
        return all;
    }

    /** Runs the plugin's hooks of one kind, in the daemon's logging context; one that throws does not stop the rest. */
    void runHooks(List<Runnable> hooks, String what) {
        asPlugin(() -> {
            for (Runnable hook : hooks) {
                try {
                    hook.run();
                } catch (RuntimeException | LinkageError e) {
                    log.error("daemon '{}': an {} hook threw; continuing", name(), what, e);
                }
            }
        });
    }

    /**
     * Runs the plugin's {@code body} in the daemon's logging scope with the plugin's class loader as the thread's
     * context class loader (as its {@code configure} runs), putting back the thread's own afterwards: libraries a plugin
     * bundles may look up their classes and services there (docs/plugin-guide.md, "Class loaders and threads").
     */
    private void asPlugin(Runnable body) {
        InstalledPlugin plugin = instance.plugin();
        if (plugin == null) {
            logScope.run(body);
            return;
        }
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        t.setContextClassLoader(plugin.loader());
        try {
            logScope.run(body);
        } finally {
            t.setContextClassLoader(previous);
        }
    }

    /** Offers a changed block to the reload hooks; true if one applied it and none threw. */
    boolean offerReload(Config newBlock) {
        boolean[] applied = {false};
        asPlugin(() -> {
            for (Predicate<Config> hook : onReload) {
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

    /** The limits as they are now: {@link DaemonConnections} holds the settings a reload updates in place. */
    private record LiveLimits(DaemonConnections connections, int eventLoopCount) implements Limits {
        @Override
        public int maxConnections() {
            return connections.maxConnections();
        }

        @Override
        public Duration idleTimeout() {
            return connections.idleTimeout();
        }
    }

    /** The API's counter over a LongAdder the plugin cannot reset. */
    private static final class Requests implements RequestCounter {
        private final LongAdder count = new LongAdder();

        @Override
        public void increment() {
            count.increment();
        }

        @Override
        public void add(long requests) {
            if (requests < 0) {
                throw new IllegalArgumentException("requests = " + requests + ": the request count only goes up");
            }
            count.add(requests);
        }

        @Override
        public long count() {
            return count.sum();
        }
    }

    @Override
    public String name() {
        return logScope.daemon();
    }

    @Override
    public Config config() {
        return block;
    }

    @Override
    public Logger log() {
        return log;
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
        // In the front handler's logging context: no context object more per connection.
        ScopedTimers made = ScopedTimers.ofConnection(timerScope, connection.eventLoop(), front);
        return (ScopedTimers) front.installConnectionTimers(made);
    }

    @Override
    public EventLoopGroup eventLoops() {
        return loops;
    }

    @Override
    public Limits limits() {
        return limits;
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
        checkDeclaring("listeners are declared");
        return sockets.declare(key, protocol, udp);
    }

    @Override
    public void readyWhen(CompletionStage<?> ready) {
        Objects.requireNonNull(ready, "ready");
        checkDeclaring("readyWhen is called");
        readiness.add(ready);
    }

    private void checkDeclaring(String what) {
        if (!declaring) {
            throw new IllegalStateException("daemon '" + name() + "': " + what + " in configure(), not later");
        }
    }

    @Override
    public void onStarted(Runnable hook) {
        onStarted.add(Objects.requireNonNull(hook));
    }

    @Override
    public void onStopped(Runnable hook) {
        onStopped.add(Objects.requireNonNull(hook));
    }

    @Override
    public void onReload(Predicate<Config> hook) {
        onReload.add(Objects.requireNonNull(hook));
    }

    @Override
    public void degraded(String reason) {
        instance.degraded(reason);
    }

    @Override
    public void fail(String reason, Throwable cause) {
        instance.fail(reason, cause);
    }

    @Override
    public RequestCounter requests() {
        return requests;
    }

    @Override
    public String toString() {
        return instance.toString();
    }
}
