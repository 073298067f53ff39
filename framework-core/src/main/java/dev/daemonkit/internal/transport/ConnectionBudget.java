package dev.daemonkit.internal.transport;

import io.netty.channel.Channel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections the whole process may hold ({@code daemonkit.connections}): every accepted
 * connection of every daemon and of the admin endpoint takes one unit, and gives it back when it
 * closes. The daemons' shares ({@code max-connections}) already add up to no more than the budget;
 * this gate is what holds when they do not (a budget lowered at reload while connections are open):
 * when the process holds the whole budget, every server socket stops accepting (new clients wait in
 * the kernel's backlog instead of the process running out of descriptors somewhere unrelated, such as
 * a log file or the plugins folder), and accepting resumes once a few connections have closed.
 */
public final class ConnectionBudget {
    private static final Logger log = LoggerFactory.getLogger(ConnectionBudget.class);

    private final int limit;
    /** Accepting resumes below this (a little under the limit, so it does not flap at every close). */
    private final int resumeBelow;

    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder refused = new LongAdder();
    private final LongAdder pauses = new LongAdder();
    private final Set<Channel> servers = ConcurrentHashMap.newKeySet();
    private volatile boolean paused;

    public ConnectionBudget(int limit) {
        this.limit = limit;
        this.resumeBelow = limit - Math.max(1, Math.min(64, limit / 100));
    }

    /** A server socket to pause and resume with the budget. */
    public void register(Channel server) {
        servers.add(server);
        server.closeFuture().addListener(f -> servers.remove(server));
        if (paused) {
            server.config().setAutoRead(false);
        }
    }

    /** Stops pausing and resuming {@code server} (a socket systemd passed, paused while no daemon holds it). */
    public void unregister(Channel server) {
        servers.remove(server);
    }

    /** Takes one connection from the budget; false (counted, accepting paused) when it is spent. */
    boolean tryAcquire() {
        int now = open.incrementAndGet();
        if (now > limit) {
            open.decrementAndGet();
            refused.increment();
            pause();
            return false;
        }
        if (now == limit) {
            pause();
        }
        return true;
    }

    /** Gives back the unit of a connection that has closed. */
    void release() {
        int now = open.decrementAndGet();
        if (paused && now < resumeBelow) {
            resume();
        }
    }

    private synchronized void pause() {
        if (paused) {
            return;
        }
        paused = true;
        pauses.increment();
        for (Channel s : servers) {
            s.config().setAutoRead(false);
        }
        log.warn(
                "the process holds its whole connection budget ({} connections): accepting paused on every listener"
                        + " until some close. Raise ulimit -n or lower daemons' max-connections if this load is expected.",
                limit);
    }

    private synchronized void resume() {
        if (!paused || open.get() >= resumeBelow) {
            return;
        }
        paused = false;
        for (Channel s : servers) {
            s.config().setAutoRead(true);
        }
        log.info("connections below the budget again ({} of {}): accepting resumed", open.get(), limit);
    }

    public int limit() {
        return limit;
    }

    public int open() {
        return open.get();
    }

    /** Connections closed at once because the budget was spent (accepted in the instant before the pause). */
    public long refused() {
        return refused.sum();
    }

    /** How many times accepting was paused. */
    public long pauses() {
        return pauses.sum();
    }

    public boolean paused() {
        return paused;
    }
}
