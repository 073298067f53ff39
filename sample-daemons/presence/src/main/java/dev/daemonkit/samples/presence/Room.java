package dev.daemonkit.samples.presence;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One room: its members, split by the event loop that serves them. Each {@link Shard} is written only
 * by its own loop, so joining, leaving and delivering need no lock; a message for the room costs one
 * task per other loop that has members, not one hand-off per member. Other threads may read a shard's
 * members (WHO) because the array is replaced, never changed in place, and published through a
 * volatile field.
 */
final class Room {
    private static final Session[] NONE = new Session[0];
    /** Events written to a member in one go (then one flush): what a shard takes from its queue at once. */
    static final int MAX_BATCH = 64;

    final String name;
    final Shard[] shards;
    /** Members on all loops; changed only inside the rooms map's compute for this name (one writer at a time). */
    volatile int size;
    /**
     * Copies of events (one per event per member) queued on this room's shards and not written yet,
     * across all loops: what {@code max-room-backlog} bounds. Approximate while members join or leave.
     */
    final AtomicLong backlog = new AtomicLong();
    /**
     * While {@link #backlog} is at this or more, membership events (JOIN, LEAVE, TIMEOUT) are not queued
     * but dropped and counted: half of {@code max-room-backlog}. Members churning JOIN/LEAVE can fill
     * that half and no more, so the queue stays bounded and the other half is kept for SAY.
     */
    final long announceLimit;

    private final Presence presence;
    /** Changes after every join and leave (after the member arrays did): whether a cached WHO answer is current. */
    final AtomicInteger version = new AtomicInteger();
    /** The last WHO answer, and the version and time it was made at. */
    volatile Who who;

    /** A WHO answer for this room (without "OK WHO"). */
    record Who(String text, int version, long atNanos) {}

    /**
     * {@code room-rate-limit} as GCRA: the time (the presence clock's nanoseconds) at which the room's bucket would
     * be full again; one long, no refill timer. Taken from every loop (local SAYs, messages from other launchers),
     * under the room's lock (a SAY's few nanoseconds; the loops of one launcher are its only contenders).
     */
    private long rateTat = Long.MIN_VALUE;
    /**
     * The same per sender address, for {@link #ADDRESS_SHARE} of the room's rate: made at the first SAY from a known
     * address, entries dropped once their bucket is full again. Under the room's lock.
     */
    private HashMap<InetAddress, long[]> addressTat;
    /** {@link #addressTat}'s size past which it is swept (amortized: each entry is walked O(1) times on average). */
    private int sweepAt = SWEEP_AT_LEAST;

    private static final int SWEEP_AT_LEAST = 64;

    /** Sender addresses whose buckets this room keeps now (for tests). */
    synchronized int trackedAddresses() {
        return addressTat == null ? 0 : addressTat.size();
    }

    /** One address may use this share of a room's rate: a flood from one host leaves the rest to everyone else. */
    static final int ADDRESS_SHARE = 4;

    /** What {@link #takeRate} answers. */
    enum Rate {
        TAKEN,
        /** The room carries its whole room-rate-limit. */
        ROOM_FULL,
        /** The sender's address has used its share of it. */
        ADDRESS_FULL
    }

    /**
     * Takes {@code bytes} of the room's {@code room-rate-limit} at {@code now} for a sender at {@code from} (null for a
     * message from another launcher, or an address unknown): nothing is taken unless both the room's bucket and the
     * address's share ({@link #ADDRESS_SHARE}) have room. What the room carries is what each of its members must
     * read: without a bound, a few connections each within their own rate-limit made every member read more than a
     * phone can, and each one that read less was disconnected at max-outbound-bytes (a hostile review emptied a room
     * of 3,000 in 15 s); without the share, one host's flood answered room-busy to everyone else while it lasted.
     */
    Rate takeRate(long bytes, long now, InetAddress from) {
        PresenceSettings s = presence.settings;
        double nanosPerByte = 1e9 / s.roomBytesPerSecond();
        long cost = (long) (bytes * nanosPerByte);
        long burst = (long) Math.min(Long.MAX_VALUE / 8, s.roomBurstBytes() * nanosPerByte); // no overflow below
        synchronized (this) {
            long next = Math.max(rateTat, now) + cost;
            if (next - now > burst) {
                return Rate.ROOM_FULL;
            }
            if (from != null) {
                // A quarter of the rate (each byte costs the address four times the room's time); a quarter of the
                // burst too, but never less than one message.
                long addressBurstBytes = Math.min(
                        s.roomBurstBytes(), Math.max(s.roomBurstBytes() / ADDRESS_SHARE, 2L * s.maxLineBytes()));
                long addressTolerance =
                        (long) Math.min(Long.MAX_VALUE / 8, addressBurstBytes * nanosPerByte * ADDRESS_SHARE);
                if (addressTat == null) {
                    addressTat = new HashMap<>();
                }
                long[] tat = addressTat.computeIfAbsent(from, a -> new long[] {Long.MIN_VALUE});
                long mine = Math.max(tat[0], now) + cost * ADDRESS_SHARE;
                if (mine - now > addressTolerance) {
                    return Rate.ADDRESS_FULL;
                }
                tat[0] = mine;
                if (addressTat.size() > sweepAt) {
                    // Entries full again are the same as absent. Swept when the map has doubled since the last sweep,
                    // not at every SAY past a size: a flood from many addresses (each entry still draining) would
                    // otherwise make every SAY walk them all under the room's lock.
                    addressTat.values().removeIf(t -> t[0] <= now);
                    sweepAt = Math.max(SWEEP_AT_LEAST, 2 * addressTat.size());
                }
            }
            rateTat = next;
            return Rate.TAKEN;
        }
    }

    Room(String name, Presence presence) {
        this.name = name;
        this.presence = presence;
        this.announceLimit = Math.max(1, presence.settings.maxRoomBacklog() / 2);
        Fanout[] fanouts = presence.fanouts;
        this.shards = new Shard[fanouts.length];
        for (int i = 0; i < fanouts.length; i++) {
            shards[i] = new Shard(this, fanouts[i]);
        }
    }

    /** True while membership events are queued here: the backlog is under {@link #announceLimit}. */
    boolean announcing() {
        return backlog.get() < announceLimit;
    }

    /**
     * The members of one room on one event loop, and the room's events still to be written to them.
     * Events wait in a queue; the loop's {@link Fanout} writes them a slice of members at a time, so a
     * room of thousands never holds the loop for long, and events that arrive meanwhile are written
     * together (one flush per member for up to {@link #MAX_BATCH} events).
     */
    static final class Shard {
        final Room room;
        final Fanout fanout;
        final EventExecutor loop;
        /** Copy on write: written on {@link #loop} only, read anywhere. */
        volatile Session[] members = NONE;

        // The rest is touched on {@link #loop} only (or after it terminated: Fanout#dropAll).
        /**
         * The queue and the batch, while events wait here; null once they are all written. They are ~900 bytes,
         * and a room has a shard per loop: kept for every room they made an idle room cost ~2.3 KB, so a client
         * alone in max-rooms-per-user rooms of its own cost 16 times that (found by a hostile review).
         */
        private Queue q;
        /**
         * Members removed here so far. While it stays the same, each new members array is the previous
         * one with joiners appended ({@link #add}), so an earlier snapshot is a prefix of a later one.
         */
        private int removals;
        /** The first event of the batch that goes to member {@link #next} (the batch's later events reach more members). */
        private int from;

        private int batchSize;
        /** Who the current batch goes to: those who were members when its events were queued. */
        private Session[] to = NONE;

        private int next;
        /** What this shard added to {@link Room#backlog} and has not taken back yet. */
        private long owed;
        /** True while this shard is in its fanout's ready queue. */
        boolean ready;

        Shard(Room room, Fanout fanout) {
            this.room = room;
            this.fanout = fanout;
            this.loop = fanout.loop;
        }

        /** On {@link #loop}. Copying costs O(members of this room on this loop) per join, not per message. */
        void add(Session s) {
            Session[] old = members;
            Session[] now = Arrays.copyOf(old, old.length + 1);
            now[old.length] = s;
            members = now;
        }

        /** On {@link #loop}. */
        void remove(Session s) {
            removals++;
            Session[] old = members;
            for (int i = 0; i < old.length; i++) {
                if (old[i] == s) {
                    if (old.length == 1) {
                        members = NONE;
                        return;
                    }
                    Session[] now = new Session[old.length - 1];
                    System.arraycopy(old, 0, now, 0, i);
                    System.arraycopy(old, i + 1, now, i, old.length - i - 1);
                    members = now;
                    return;
                }
            }
        }

        /**
         * On {@link #loop}: queues {@code event} for everyone who is a member here now (not those who
         * join before it is written), taking ownership of it. A {@code membership} event (JOIN, LEAVE,
         * TIMEOUT) is dropped instead, and counted, while the room is not {@link #announcing()}: checked
         * here, on the loop that queues it, so events published from other loops are bounded too.
         */
        void enqueue(ByteBuf event, boolean membership) {
            Session[] now = members;
            int cost = now.length;
            if (cost == 0) {
                event.release();
                return;
            }
            if (membership && !room.announcing()) {
                event.release();
                room.presence.dropped(room);
                return;
            }
            Queue q = this.q;
            if (q == null) {
                q = this.q = new Queue();
            }
            q.pending.add(event);
            q.pendingTo.add(now);
            q.pendingEpoch.add(removals);
            owed += cost;
            room.backlog.addAndGet(cost);
            if (!ready) {
                ready = true;
                fanout.ready(this);
            }
        }

        /**
         * On {@link #loop}: writes the queued events to at most {@code maxMembers} members (at least one,
         * if any event is queued) and returns how many members it wrote to. {@link #ready} stays true if
         * there is more to do.
         */
        int deliverSome(int maxMembers) {
            int done = 0;
            Queue q = this.q;
            if (q == null) {
                ready = false;
                return 0;
            }
            ArrayDeque<ByteBuf> pending = q.pending;
            ArrayDeque<Session[]> pendingTo = q.pendingTo;
            ArrayDeque<Integer> pendingEpoch = q.pendingEpoch;
            ByteBuf[] batch = q.batch;
            int[] batchTo = q.batchTo;
            while (done < maxMembers) {
                if (batchSize == 0) {
                    if (pending.isEmpty()) {
                        break;
                    }
                    // Events queued with no member leaving between them go out together, each to those who
                    // were members when it was queued: a prefix of the last one's members (joins append).
                    int epoch = pendingEpoch.peek();
                    do {
                        to = pendingTo.poll();
                        batchTo[batchSize] = to.length;
                        batch[batchSize++] = pending.poll();
                        pendingEpoch.poll();
                    } while (batchSize < MAX_BATCH && !pending.isEmpty() && pendingEpoch.peek() == epoch);
                    next = 0;
                    from = 0;
                }
                int end = Math.min(to.length, next + (maxMembers - done));
                long copies = 0;
                for (int i = next; i < end; i++) {
                    while (batchTo[from] <= i) {
                        from++; // member i joined after event 'from' was queued
                    }
                    to[i].deliver(batch, from, batchSize);
                    copies += batchSize - from;
                }
                owed -= copies;
                room.backlog.addAndGet(-copies);
                done += end - next;
                next = end;
                if (next == to.length) {
                    releaseBatch();
                }
            }
            if (batchSize == 0 && pending.isEmpty()) {
                settle();
                ready = false;
                this.q = null;
            }
            return done;
        }

        /** On {@link #loop}: events queued here and not written to every member yet (for tests). */
        int queuedEvents() {
            return q == null ? 0 : q.pending.size() + batchSize;
        }

        /** On {@link #loop}: true while this shard holds a queue (events wait here). For tests. */
        boolean holdsQueue() {
            return q != null;
        }

        /** Drops what is queued (the loop is gone, so are the members' connections). */
        void drop() {
            if (q != null) {
                releaseBatch();
                for (ByteBuf b; (b = q.pending.poll()) != null; ) {
                    b.release();
                }
                q = null;
            }
            settle();
            ready = false;
        }

        private void releaseBatch() {
            ByteBuf[] batch = q.batch;
            for (int i = 0; i < batchSize; i++) {
                batch[i].release();
                batch[i] = null;
            }
            batchSize = 0;
            to = NONE;
            next = 0;
            from = 0;
        }

        /** Gives back what members who left before their copy was written (or joined since) left owed. */
        private void settle() {
            room.backlog.addAndGet(-owed);
            owed = 0;
        }

        /** A shard's events still to write: allocated when the first is queued, dropped when the last is written. */
        private static final class Queue {
            /** Events not started yet, and beside each the members it goes to (the members when it was queued). */
            final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();

            final ArrayDeque<Session[]> pendingTo = new ArrayDeque<>();
            /** Beside each pending event: the shard's {@code removals} when it was queued. */
            final ArrayDeque<Integer> pendingEpoch = new ArrayDeque<>();
            /** For each event of the batch, how many members it goes to: the first {@code batchTo[i]} of the shard's {@code to}. */
            final int[] batchTo = new int[MAX_BATCH];

            final ByteBuf[] batch = new ByteBuf[MAX_BATCH];
        }
    }
}
