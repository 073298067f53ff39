package dev.daemonkit.samples.presence;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Writes room events to the members on one event loop, a bounded slice per loop turn: at most
 * {@link #MEMBERS_PER_TURN} member deliveries and about {@link #TURN_NANOS} per run, then the rest
 * waits for the next turn, after the loop has done its I/O (reading other users' lines, answering
 * pings, other daemons' connections on the same loop). Rooms take turns in chunks of {@link #CHUNK}
 * members, so one big room does not starve the small ones.
 *
 * <p>The next turn is a task scheduled with no delay, not {@code execute}: Netty runs every task
 * submitted while it runs tasks in the same pass (for up to a second) before it polls I/O again,
 * whereas scheduled tasks are taken in once per pass.
 *
 * <p>Touched on its loop only; when the loop terminates, whatever is still queued is released.
 */
final class Fanout implements Runnable {
    /** Member deliveries (one member, up to {@link Room#MAX_BATCH} events, one flush) per turn. */
    static final int MEMBERS_PER_TURN = 1024;
    /** A turn also ends once it has run this long (checked every {@link #CHUNK} members). */
    static final long TURN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    static final int CHUNK = 32;

    final EventExecutor loop;
    private final ArrayDeque<Room.Shard> ready = new ArrayDeque<>();
    private boolean queued;
    private boolean gone;
    /** Turns run, and turns that ended with work left over (for tests). */
    long turns;

    long turnsCut;

    /** Releases what is queued if the loop terminates first (its scheduled runs are cancelled then). */
    private final GenericFutureListener<Future<Object>> onTerminated = f -> {
        if (f.isSuccess()) { // ImmediateEventExecutor (tests) has a failed one: it never terminates
            dropAll();
        }
    };

    @SuppressWarnings({"unchecked", "rawtypes"})
    Fanout(EventExecutor loop) {
        this.loop = loop;
        loop.terminationFuture().addListener((GenericFutureListener) onTerminated);
    }

    /**
     * The daemon stopped (its connections are closed): on the loop, release what is still queued; and
     * let go of the loop's termination future, which would otherwise keep this daemon's classes (and
     * its plugin's class loader) reachable after a reload. Called once, from any thread.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    void close() {
        try {
            loop.execute(this::dropAll); // a loop that shuts down still runs the tasks already queued
        } catch (RejectedExecutionException stopping) {
            return; // the loop terminates soon: onTerminated releases them
        }
        loop.terminationFuture().removeListener((GenericFutureListener) onTerminated);
    }

    /** On the loop: {@code shard} has events to write; they go out in this turn's task phase or later. */
    void ready(Room.Shard shard) {
        if (gone) {
            shard.drop();
            return;
        }
        ready.add(shard);
        if (!queued) {
            queued = true;
            try {
                loop.execute(this);
            } catch (RejectedExecutionException stopping) {
                dropAll();
            }
        }
    }

    @Override
    public void run() {
        queued = false;
        turns++;
        long start = System.nanoTime();
        int budget = MEMBERS_PER_TURN;
        while (budget > 0 && !ready.isEmpty()) {
            Room.Shard shard = ready.poll();
            budget -= shard.deliverSome(Math.min(budget, CHUNK));
            if (shard.ready) {
                ready.add(shard); // round robin: the other rooms' turn first
            }
            if (System.nanoTime() - start > TURN_NANOS) {
                break;
            }
        }
        if (!ready.isEmpty()) {
            turnsCut++;
            queued = true;
            try {
                loop.schedule(this, 0, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException stopping) {
                dropAll();
            }
        }
    }

    /** The loop stopped: release everything still queued. On the loop, or after it terminated. */
    void dropAll() {
        gone = true;
        for (Room.Shard s; (s = ready.poll()) != null; ) {
            s.drop();
        }
    }
}
