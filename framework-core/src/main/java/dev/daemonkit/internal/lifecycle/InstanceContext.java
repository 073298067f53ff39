package dev.daemonkit.internal.lifecycle;

import com.google.inject.Injector;
import com.typesafe.config.Config;
import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonState;
import dev.daemonkit.api.Listener;
import dev.daemonkit.api.PipelineInitializer;
import dev.daemonkit.api.Timers;
import dev.daemonkit.internal.timers.ScopedTimers;
import dev.daemonkit.internal.transport.DaemonConnections;
import dev.daemonkit.internal.transport.DaemonSockets;
import dev.daemonkit.internal.transport.FrontHandler;
import dev.daemonkit.internal.transport.LogScope;
import dev.daemonkit.timers.TimerScope;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a plugin sees of its daemon instance: the {@link DaemonContext} handed to {@code configure} and
 * bound in the daemon's injector. It hands out the instance's resources and collects what the plugin
 * declares (listeners, hooks); the {@link DaemonInstance} owns the lifecycle and runs the hooks.
 */
final class InstanceContext implements DaemonContext {
    private final DaemonInstance instance;
    private final Config block;
    private final String pluginName;
    private final Logger log;
    private final LogScope logScope;
    private final TimerScope timerScope;
    private final ScopedTimers timers;
    private final EventLoopGroup loops;
    private final DaemonConnections connections;
    private final DaemonSockets sockets;
    private final LongAdder requests = new LongAdder();
    final List<Runnable> onStarted = new CopyOnWriteArrayList<>();
    final List<Consumer<Duration>> onStopping = new CopyOnWriteArrayList<>();
    final List<Runnable> onStopped = new CopyOnWriteArrayList<>();
    final List<Predicate<Config>> onReload = new CopyOnWriteArrayList<>();
    private volatile Injector injector;

    InstanceContext(DaemonInstance instance, Config block, String pluginName, LogScope logScope, TimerScope timerScope,
                    EventLoopGroup loops, DaemonConnections connections, DaemonSockets sockets) {
        this.instance = instance;
        this.block = block;
        this.pluginName = pluginName;
        this.log = LoggerFactory.getLogger("daemon." + logScope.daemon());
        this.logScope = logScope;
        this.timerScope = timerScope;
        this.timers = new ScopedTimers(timerScope, logScope);
        this.loops = loops;
        this.connections = connections;
        this.sockets = sockets;
    }

    void injector(Injector created) {
        injector = created;
    }

    LongAdder requestCounter() {
        return requests;
    }

    @Override
    public String name() {
        return logScope.daemon();
    }

    @Override
    public String pluginName() {
        return pluginName;
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
        // Owned by the daemon's name, in the front handler's logging context: no string and no scope
        // object more per connection, which matters with 19,000 of them.
        ScopedTimers made = new ScopedTimers(timerScope.childOn(connection.eventLoop(), name()), front);
        return (ScopedTimers) front.installConnectionTimers(made);
    }

    @Override
    public EventLoopGroup eventLoops() {
        return loops;
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
        if (instance.state() != DaemonState.STARTING) {
            throw new IllegalStateException("daemon '" + name() + "': listeners are declared in configure(), not later");
        }
        return sockets.declare(key, protocol, udp);
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
        return instance.state();
    }

    @Override
    public void onReload(Predicate<Config> hook) {
        onReload.add(Objects.requireNonNull(hook));
    }

    @Override
    public void fail(String reason, Throwable cause) {
        instance.fail(reason, cause);
    }

    @Override
    public LongAdder requests() {
        return requests;
    }

    @Override
    public String toString() {
        return instance.toString();
    }
}
