package dev.daemonkit.api;

import com.google.inject.Injector;
import com.typesafe.config.Config;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import org.slf4j.Logger;

/**
 * One daemon instance, as its plugin sees it: handed to {@link DaemonPlugin#configure} and bound in
 * the daemon's injector, together with its {@link Config} block, its {@link Logger}, its
 * {@link Timers} and its {@link EventLoopGroup}.
 *
 * <p>The methods come in three groups, with different threading rules:
 * <ul>
 *   <li><b>what you get</b> ({@link #name()} to {@link #requests()}): the daemon's resources. Safe
 *       from any thread, at any time.</li>
 *   <li><b>what you declare</b> ({@link #listen}, {@link #listenUdp}, {@link #readyWhen}): only
 *       inside {@code configure}, on its thread; afterwards they throw {@link IllegalStateException}.</li>
 *   <li><b>lifecycle</b> ({@link #onStarted}, {@link #onStopped}, {@link #onReload}, {@link #fail}):
 *       register the hooks in {@code configure}; the framework calls them on a launcher thread,
 *       with the daemon's logging context. {@code fail} is safe from any thread.</li>
 * </ul>
 *
 * <p>That the daemon stops is told to each open connection, on its event loop, by the user event
 * {@link DaemonStopping}: say goodbye there. What belongs to the whole daemon ends in {@link #onStopped}.
 */
public interface DaemonContext {

    // ---- what you get ----

    /** The instance name: the key of its block under {@code daemons}, and its log file {@code logs/NAME.log}. */
    String name();

    /** This instance's own config block, {@code daemons.NAME}, with the plugin's reference.conf as fallback. */
    Config config();

    /** The daemon's logger; its lines go to {@code logs/NAME.log} and the main log. */
    Logger log();

    /** Timers owned by this daemon, cancelled when it stops. */
    Timers timers();

    /** Timers owned by one connection of this daemon, on its event loop; cancelled when it closes. */
    Timers timers(Channel connection);

    /** The event loops serving this daemon's connections and timers. */
    EventLoopGroup eventLoops();

    /**
     * The framework's limits on this daemon ({@code max-connections}, {@code idle-timeout}) and the
     * number of its event loops, as they are now: a reload may change the limits in place.
     */
    Limits limits();

    /** The daemon's Guice injector (a child of the framework's). */
    Injector injector();

    /**
     * The daemon's request counter, exported as {@code daemonkit_requests_total}: a protocol that
     * knows what a request is counts each one here.
     */
    RequestCounter requests();

    // ---- what you declare, inside configure ----

    /**
     * Declares a TCP listener on the address in config key {@code addressKey} (e.g. {@code "listen"},
     * value {@code "127.0.0.1:7000"}). The framework binds it once {@code configure} has returned
     * (and every stage given to {@link #readyWhen} has completed), and calls {@code protocol} for each
     * accepted connection.
     */
    Listener listen(String addressKey, PipelineInitializer protocol);

    /** Declares a UDP socket on the address in config key {@code addressKey}; {@code protocol} runs once, at bind. */
    Listener listenUdp(String addressKey, PipelineInitializer protocol);

    /**
     * A start that finishes later: the daemon stays STARTING, with nothing bound, until {@code ready}
     * completes (connected to its backend, warmed up); then its listeners are bound and it is RUNNING.
     * If {@code ready} fails, or does not complete within {@code daemons.NAME.start-timeout}, the
     * daemon is FAILED with that reason. Called several times, the daemon waits for every stage.
     * Complete it from any thread.
     */
    void readyWhen(CompletionStage<?> ready);

    // ---- lifecycle ----

    /** Called once when the daemon is RUNNING (all its listeners bound). */
    void onStarted(Runnable hook);

    /** Called once after every connection of the daemon is closed and its timers cancelled. */
    void onStopped(Runnable hook);

    /**
     * Offers the daemon a changed config block on reload ({@code SIGHUP}, {@code daemonkit reload}).
     * The hook returns true if it applied the new block itself; if it returns false, or no hook is
     * registered, the framework restarts the daemon with the new block.
     */
    void onReload(Predicate<Config> hook);

    /**
     * Reports a fatal failure found at run time (a lost backend, a corrupt state): the daemon
     * becomes FAILED, its connections are closed, and its restart policy decides what follows.
     * Only the first call counts.
     */
    void fail(String reason, Throwable cause);

    /**
     * Reports that the daemon runs but cannot do all of its work (its backend is unreachable), or, with
     * {@code null}, that it can again. While degraded, {@code GET /health} lists the daemon as
     * {@code NAME RUNNING degraded: REASON} and answers 503, and {@code /health/ready} is not ready: a
     * load balancer sends new clients to a launcher that is whole. Unlike {@link #fail}, nothing is
     * closed or restarted. Safe from any thread; the last call wins.
     */
    void degraded(String reason);
}
