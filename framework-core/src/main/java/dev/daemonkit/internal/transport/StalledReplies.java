package dev.daemonkit.internal.transport;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The replies one daemon holds for clients that have stopped reading them, held to
 * {@code write-buffer.max-total}. A connection whose outbound buffer stays above {@code write-buffer.high}
 * after a flush is <em>stalled</em>: the framework has stopped reading its requests, but what it was
 * already answering waits in memory (direct memory on epoll and io_uring) until the client reads it or
 * goes. One reply may be far larger than the high-water mark (a cache's 1 MB value), so without a cap
 * a few thousand connections each asking for one and reading nothing held gigabytes: the process's
 * direct memory ran out and every daemon's reads failed.
 *
 * <p>When the stalled bytes pass the cap, the connection stalled longest is closed, then the next, until
 * they fit. Longest first, as the admin endpoint evicts the connection waiting longest: a client that
 * reads its replies drains them within a round trip and is the youngest stall there is, while a
 * connection that asked and never read only ages. A slow honest client (a large value over a slow link)
 * is closed only while the daemon is over its cap, that is under a flood or an overload, and it could be
 * served in turn only by making everyone else wait for memory.
 *
 * <p>Only stalled connections are charged, and only at their transitions (a flush that leaves them stalled,
 * writable again, closed): a connection that reads keeps under {@code write-buffer.high} and costs no
 * lock. A charge is what the outbound buffer held after the flush, so it stays until the connection is
 * writable again even while the client drains part of it (an over-estimate on the safe side). Calls come
 * from every loop of the daemon; the lock is held for map updates only, never while a channel is closed.
 */
final class StalledReplies {
    /** Stalled connections and their charge, oldest stall first (insertion order; an update keeps the place). */
    private final Map<FrontHandler, Long> charged = new LinkedHashMap<>();

    private long total;
    private long evicted;

    /** A connection closed to bring the stalled bytes back under the cap: who, and what it held. */
    record Eviction(FrontHandler connection, long held, long totalBefore) {}

    /**
     * On {@code f}'s loop, after a flush left it stalled: charges {@code pending} bytes (replacing its charge
     * before). If that takes the daemon over {@code maxTotal}, returns the connections to close (possibly
     * {@code f}), already uncharged; else an empty list.
     */
    List<Eviction> stalled(FrontHandler f, long pending, long maxTotal) {
        synchronized (this) {
            Long before = charged.put(f, pending);
            total += pending - (before == null ? 0 : before);
            if (total <= maxTotal) {
                return List.of();
            }
            List<Eviction> victims = new ArrayList<>(1);
            long totalBefore = total;
            Iterator<Map.Entry<FrontHandler, Long>> oldestFirst =
                    charged.entrySet().iterator();
            while (total > maxTotal && oldestFirst.hasNext()) {
                Map.Entry<FrontHandler, Long> e = oldestFirst.next();
                oldestFirst.remove();
                total -= e.getValue();
                evicted++;
                victims.add(new Eviction(e.getKey(), e.getValue(), totalBefore));
            }
            return victims;
        }
    }

    /** {@code f} is writable again, or closed: its charge, if any, is given back. */
    void resumed(FrontHandler f) {
        synchronized (this) {
            Long was = charged.remove(f);
            if (was != null) {
                total -= was;
            }
        }
    }

    /** Bytes charged now: what stalled connections held at their last flush. */
    synchronized long total() {
        return total;
    }

    /** Connections stalled now. */
    synchronized int count() {
        return charged.size();
    }

    /** Connections closed to keep under the cap, since the daemon started. */
    synchronized long evicted() {
        return evicted;
    }
}
