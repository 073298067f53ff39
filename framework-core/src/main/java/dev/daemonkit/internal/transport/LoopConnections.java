package dev.daemonkit.internal.transport;

import dev.daemonkit.api.DaemonStopping;
import dev.daemonkit.timers.Timeout;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The connections of one daemon on one event loop: an intrusive doubly-linked list through their
 * {@link FrontHandler}s, read and written only on that loop, and the loop's two sweeps over it. A
 * held connection then costs two references in its front handler instead of an entry in a concurrent
 * set (~39 bytes) and a timer node for its idle timeout (32 bytes).
 *
 * <p>Idle sweep: one timer per loop, set to the earliest idle deadline among the list, but never
 * sooner than {@link #SWEEP_FRACTION 1/16} of the idle timeout after the last sweep, so that many
 * connections going idle at different times cost one pass per sixteenth of the timeout, not one pass
 * each. A connection is therefore closed between its idle timeout and its idle timeout plus 1/16 of it.
 *
 * <p>Drain sweep: while the daemon stops, one timer per loop closes each connection once its replies are
 * written and it has read nothing for the quiet period, looking again at the earliest time one may be
 * quiet (at least every {@link #DRAIN_RECHECK_NANOS}).
 *
 * <p>A connection removed from the list keeps its {@code next} reference: a sweep standing on it (a close
 * during a sweep may remove the current connection or another one of the loop) goes on from there and
 * skips what was removed.
 */
final class LoopConnections {
    static final int SWEEP_FRACTION = 16;
    static final long DRAIN_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final DaemonConnections owner;
    final EventExecutor loop;
    private FrontHandler head;
    private int size;
    private Timeout idleSweep;
    private Timeout drainSweep;
    private DaemonStopping stopping;
    private long quietNanos = -1;
    private final Runnable idleTask = this::idleSweep;
    private final Runnable drainTask = this::drainSweep;

    LoopConnections(DaemonConnections owner, EventExecutor loop) {
        this.owner = owner;
        this.loop = loop;
    }

    /** On the loop: a new connection (its activity stamp is now). */
    void link(FrontHandler f) {
        f.prevConn = null;
        f.nextConn = head;
        if (head != null) {
            head.prevConn = f;
        }
        head = f;
        size++;
        if (idleSweep == null) {
            long timeout = owner.idleTimeoutNanos();
            if (timeout > 0) {
                idleSweep = owner.timers().schedule(Duration.ofNanos(timeout), idleTask);
            }
        }
        if (stopping != null) {
            startDrain(f); // accepted as the drain began: told and drained as well
        }
    }

    /** On the loop: a closed connection; nothing if it is not (or no longer) in the list. */
    void unlink(FrontHandler f) {
        if (!isLinked(f)) {
            return;
        }
        FrontHandler p = f.prevConn;
        FrontHandler n = f.nextConn;
        if (p == null) {
            head = n;
        } else {
            p.nextConn = n;
        }
        if (n != null) {
            n.prevConn = p;
        }
        f.prevConn = f; // removed; nextConn kept on purpose (see the class comment)
        if (--size == 0) {
            cancelSweeps();
        }
    }

    private boolean isLinked(FrontHandler f) {
        return f.prevConn != f && (f.prevConn != null || head == f);
    }

    int size() {
        return size;
    }

    private void cancelSweeps() {
        if (idleSweep != null) {
            idleSweep.cancel();
            idleSweep = null;
        }
        if (drainSweep != null) {
            drainSweep.cancel();
            drainSweep = null;
        }
    }

    /** Runs {@code task} on this loop: at once if called there. */
    void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    private void idleSweep() {
        if (!loop.inEventLoop()) {
            loop.execute(idleTask); // a wheel of another loop ran it: the list is this loop's alone
            return;
        }
        idleSweep = null;
        long timeout = owner.idleTimeoutNanos();
        if (timeout <= 0 || head == null) {
            return;
        }
        long now = owner.nanoTime();
        long next = timeout;
        for (FrontHandler f = head; f != null; ) {
            FrontHandler after = f.nextConn;
            if (isLinked(f)) {
                long left = f.idleLeft(now, timeout);
                if (left > 0) {
                    next = Math.min(next, left);
                }
            }
            f = after;
        }
        if (size > 0) {
            idleSweep = owner.timers().schedule(Duration.ofNanos(Math.max(next, timeout / SWEEP_FRACTION)), idleTask);
        }
    }

    /** On the loop: tells every connection the daemon stops; with {@code quiet >= 0}, closes each once quiet. */
    void startDrain(DaemonStopping event, long quiet) {
        stopping = event;
        quietNanos = quiet;
        for (FrontHandler f = head; f != null; ) {
            FrontHandler after = f.nextConn;
            if (isLinked(f)) {
                f.tellStopping(event);
            }
            f = after;
        }
        if (quietNanos >= 0 && drainSweep == null) {
            drainSweep();
        }
    }

    /**
     * A connection accepted just as the drain began (it passed the draining check first): told once its
     * accept is over and the protocol's handlers are in place, and drained with the others.
     */
    private void startDrain(FrontHandler f) {
        DaemonStopping event = stopping;
        loop.execute(() -> f.tellStopping(event));
        if (quietNanos >= 0 && drainSweep == null) {
            drainSweep = owner.timers().schedule(Duration.ofNanos(DRAIN_RECHECK_NANOS), drainTask);
        }
    }

    private void drainSweep() {
        if (!loop.inEventLoop()) {
            loop.execute(drainTask);
            return;
        }
        drainSweep = null;
        long now = owner.nanoTime();
        long next = Long.MAX_VALUE;
        for (FrontHandler f = head; f != null; ) {
            FrontHandler after = f.nextConn;
            Channel ch = f.channel();
            if (isLinked(f) && ch != null && ch.isOpen()) {
                ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
                boolean flushed = out == null || out.totalPendingWriteBytes() == 0;
                long quietFor = now - f.lastActivityNanos();
                if (flushed && quietFor >= quietNanos) {
                    ch.close();
                } else {
                    next = Math.min(next, Math.max(quietNanos - quietFor, DRAIN_RECHECK_NANOS));
                }
            }
            f = after;
        }
        if (next != Long.MAX_VALUE) {
            drainSweep = owner.timers().schedule(Duration.ofNanos(next), drainTask);
        }
    }

    /** On the loop: starts closing every connection, adding each close to {@code closing}. */
    void closeAll(List<ChannelFuture> closing) {
        for (FrontHandler f = head; f != null; ) {
            FrontHandler after = f.nextConn;
            Channel ch = f.channel();
            if (isLinked(f) && ch != null) {
                closing.add(ch.close());
            }
            f = after;
        }
    }
}
