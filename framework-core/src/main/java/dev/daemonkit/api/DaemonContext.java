package dev.daemonkit.api;

import com.google.inject.Injector;
import com.typesafe.config.Config;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import org.slf4j.Logger;

/**
 * What the framework gives one daemon instance. Also bound in the daemon's injector, together with
 * its {@link Config} block, its {@link Logger}, its {@link Timers} and the {@link EventLoopGroup}.
 * Thread-safe.
 */
public interface DaemonContext {

    /** The instance name: the key of its block under {@code daemons}, and its log file {@code logs/NAME.log}. */
    String name();

    /** The plugin's name ({@code plugin = ...} in the instance's block). */
    String pluginName();

    /** This instance's own config block, {@code daemons.NAME}, with the plugin's reference.conf as fallback. */
    Config config();

    /** The daemon's logger; its lines go to {@code logs/NAME.log} and the main log. */
    Logger log();

    /** Timers owned by this daemon, cancelled when it stops. */
    Timers timers();

    /** Timers owned by one connection of this daemon, on its event loop; cancelled when it closes. */
    Timers timers(Channel connection);

    /** The event loops serving this daemon's connections. */
    EventLoopGroup eventLoops();

    /**
     * Connections this daemon may hold at once: its {@code max-connections}, or its share of the
     * launcher's connection budget when that is {@code auto}. Read it here rather than from
     * {@link #config()}, where it may say {@code auto}.
     */
    int maxConnections();

    /** The daemon's Guice injector (a child of the framework's). */
    Injector injector();

    /**
     * Declares a TCP listener on the address in config key {@code addressKey} (e.g. {@code "listen"},
     * value {@code "127.0.0.1:7000"}). The framework binds it after {@code configure} returns, and
     * calls {@code protocol} for each accepted connection.
     */
    Listener listen(String addressKey, PipelineInitializer protocol);

    /** Declares a UDP socket on the address in config key {@code addressKey}; {@code protocol} runs once, at bind. */
    Listener listenUdp(String addressKey, PipelineInitializer protocol);

    /** Called once when the daemon is RUNNING (all its listeners bound), on a launcher thread. */
    void onStarted(Runnable hook);

    /**
     * Called once when the daemon starts stopping: listeners no longer accept, open connections still
     * work for up to {@code grace}. Say goodbye to long-lived sessions here (or handle
     * {@link DaemonStopping} in the pipeline).
     */
    void onStopping(java.util.function.Consumer<Duration> hook);

    /** Called once after every connection of the daemon is closed and its timers cancelled. */
    void onStopped(Runnable hook);

    /** The current state. */
    DaemonState state();

    /**
     * Offers the daemon a changed config block on reload ({@code SIGHUP}, {@code daemonkit reload}).
     * The hook returns true if it applied the new block itself; if it returns false, or no hook is
     * registered, the framework restarts the daemon with the new block. Called on a launcher thread.
     */
    void onReload(java.util.function.Predicate<Config> hook);

    /**
     * Reports a fatal failure found at run time (a lost backend, a corrupt state): the daemon
     * becomes FAILED, its connections are closed, and its restart policy decides what follows.
     * Safe from any thread; only the first call counts.
     */
    void fail(String reason, Throwable cause);

    /**
     * The daemon's request counter, exported as {@code daemonkit_requests_total}: a protocol that
     * knows what a request is increments it (one {@code LongAdder.increment()} per request).
     */
    java.util.concurrent.atomic.LongAdder requests();
}
