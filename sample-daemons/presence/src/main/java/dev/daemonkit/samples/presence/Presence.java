package dev.daemonkit.samples.presence;

import dev.daemonkit.api.RequestCounter;
import dev.daemonkit.api.Timers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * The state one presence daemon shares between its event loops: who is online (names are unique)
 * and the rooms. Thread-safe: every method may be called from any of the daemon's loops; the
 * methods that touch a room's members on one loop ({@link #join}, {@link #leave}) must be called on
 * the session's own loop.
 */
final class Presence {
    /** WHO lists at most this many names (the count is always exact). */
    static final int WHO_MAX_NAMES = 500;
    /** ROOMS lists at most this many rooms (the count is always exact). */
    static final int ROOMS_MAX = 200;
    /** The order of ROOMS. */
    private static final Comparator<Room> BY_NAME = Comparator.comparing(r -> r.name);
    /** How old a WHO answer may be in a room too large to announce membership. */
    static final Duration WHO_STALE = Duration.ofSeconds(1);

    final PresenceSettings settings;
    final Logger log;
    final LongSupplier nanoClock;
    /** The daemon's timers; the heartbeats are scheduled on them from each connection's own loop. */
    final Timers timers;

    private final EventExecutor[] loops;
    /** One per loop, in the order of {@link #loops}: writes room events there in bounded turns. */
    final Fanout[] fanouts;

    private final ConcurrentHashMap<String, Session> online = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Room> rooms = new ConcurrentHashMap<>();
    /** The last ROOMS answer and when it was made (reused for a moment when there are many rooms). */
    private volatile Answer roomsAnswer;

    /**
     * Where names and rooms meet other launchers': {@link MemoryBroker} unless {@link #broker(Broker)} set another
     * before the first connection.
     */
    private Broker broker = new MemoryBroker(this);

    /** Commands executed: the daemon's request counter (daemonkit_requests_total). */
    final RequestCounter commands;

    final LongAdder delivered = new LongAdder();
    final LongAdder slowDropped = new LongAdder();
    final LongAdder timedOut = new LongAdder();
    /**
     * Membership events (JOIN, LEAVE, TIMEOUT) not sent because their room's backlog was over its {@link
     * Room#announceLimit}: one per event per event loop that has members of the room.
     */
    final LongAdder announcementsDropped = new LongAdder();
    /** SAYs refused and messages from other launchers dropped by a room's room-rate-limit. */
    final LongAdder rateRefused = new LongAdder();
    /** The room of the last dropped membership event (for the stats line), or null. */
    volatile String droppedIn;

    /**
     * @param loops the event loops that may serve sessions; a room keeps one member list per loop
     * @param timers the daemon's timers: scheduled from a connection's loop, a timer lands on that loop's wheel
     */
    Presence(
            PresenceSettings settings,
            Logger log,
            List<? extends EventExecutor> loops,
            Timers timers,
            LongSupplier nanoClock,
            RequestCounter commands) {
        this.commands = commands;
        this.settings = settings;
        this.log = log;
        this.loops = loops.toArray(new EventExecutor[0]);
        this.fanouts = new Fanout[this.loops.length];
        for (int i = 0; i < fanouts.length; i++) {
            fanouts[i] = new Fanout(this.loops[i]);
        }
        this.timers = timers;
        this.nanoClock = nanoClock;
    }

    /** Sets the broker; in configure, before any connection. */
    void broker(Broker b) {
        this.broker = b;
    }

    Broker broker() {
        return broker;
    }

    /** The room named {@code name} while it has members on this launcher, else null. */
    Room room(String name) {
        return rooms.get(name);
    }

    /** The names online on this launcher (a snapshot; for the broker's resync). */
    java.util.Set<String> onlineNames() {
        return java.util.Set.copyOf(online.keySet());
    }

    /** The session online here as {@code name}, or null. */
    Session session(String name) {
        return online.get(name);
    }

    /** Called once when the daemon has stopped (every connection closed), from any thread: see {@link Fanout#close}. */
    void stopped() {
        broker.close();
        for (Fanout f : fanouts) {
            f.close();
        }
    }

    /** The shard index of {@code loop}; with a single shard (tests), every loop maps to it. */
    int loopIndex(EventExecutor loop) {
        for (int i = 0; i < loops.length; i++) {
            if (loops[i] == loop) {
                return i;
            }
        }
        if (loops.length == 1) {
            return 0;
        }
        throw new IllegalStateException(
                "event loop " + loop + " is not one of the presence daemon's " + loops.length + " loops");
    }

    /** True if {@code name} was free and is now {@code session}'s. */
    boolean login(String name, Session session) {
        return online.putIfAbsent(name, session) == null;
    }

    void logout(String name, Session session) {
        online.remove(name, session);
    }

    int online() {
        return online.size();
    }

    int roomCount() {
        return rooms.size();
    }

    /**
     * On the session's loop: adds it to the room (created on first join) and returns the room, or
     * null if the room has {@code max-room-members} already. The check and the count change together,
     * inside the map's compute for the name, so joiners on several loops cannot overfill a room.
     */
    Room join(String roomName, Session session) {
        boolean[] full = new boolean[1];
        Room room = rooms.compute(roomName, (k, r) -> {
            Room x = r != null ? r : new Room(k, this);
            if (x.size >= settings.maxRoomMembers()) {
                full[0] = true;
                return x;
            }
            x.size++;
            return x;
        });
        if (full[0]) {
            return null;
        }
        room.shards[session.loopIndex].add(session);
        room.version.incrementAndGet();
        return room;
    }

    /**
     * On the session's loop: removes it from the room; the last one out removes the room. Returns the
     * number of members before it left (to decide whether the room hears of it).
     */
    int leave(Room room, Session session) {
        room.shards[session.loopIndex].remove(session);
        room.version.incrementAndGet();
        int[] before = new int[1];
        rooms.computeIfPresent(room.name, (k, r) -> {
            if (r != room) {
                return r;
            }
            before[0] = r.size;
            return --r.size > 0 ? r : null;
        });
        return before[0];
    }

    /** True if a room of {@code members} (counting the one who joins or leaves) hears of joins and leaves. */
    boolean announces(int members) {
        return members <= settings.announceMembershipUpTo();
    }

    /**
     * On the session's loop: {@code EVENT KIND ROOM NAME} for a join, leave or timeout, to every member
     * of {@code room}, unless the room's backlog is over its {@link Room#announceLimit}: then nothing is
     * allocated or queued, and the event is counted as dropped (members resync with WHO).
     */
    void announce(Room room, ByteBufAllocator alloc, String kind, String name) {
        if (!room.announcing()) {
            for (Room.Shard shard : room.shards) {
                if (shard.members.length > 0) {
                    dropped(room);
                }
            }
            return;
        }
        publish(room, Lines.line(alloc, "EVENT", kind, room.name, name), true);
    }

    /** A membership event of {@code room} was dropped on one loop: counted, reported in the stats line. */
    void dropped(Room room) {
        announcementsDropped.increment();
        if (droppedIn != room.name) {
            droppedIn = room.name;
        }
    }

    /**
     * Queues {@code event} (one line, ending in a newline) for every member of {@code room}: on the
     * calling loop's shard directly, through one task per other loop with members. The loops' {@link
     * Fanout}s write it, a bounded slice per turn. Takes ownership of {@code event}. A {@code membership}
     * event (JOIN, LEAVE, TIMEOUT) is dropped on a loop where the room is not {@link Room#announcing()}.
     */
    void publish(Room room, ByteBuf event, boolean membership) {
        try {
            for (Room.Shard shard : room.shards) {
                if (shard.members.length == 0) {
                    continue;
                }
                ByteBuf ref = event.retain();
                if (shard.loop.inEventLoop()) {
                    shard.enqueue(ref, membership);
                    continue;
                }
                try {
                    shard.loop.execute(() -> shard.enqueue(ref, membership));
                } catch (RejectedExecutionException stopping) {
                    ref.release(); // the loop is shutting down: its members are being closed anyway
                }
            }
        } finally {
            event.release();
        }
    }

    /**
     * Queues an event that another launcher published (it reached this one through the broker), taking ownership of
     * it. Its {@code SAY} was checked against the backlog of the sender's launcher only, where the room may have few
     * members: here a message ({@code membership} false) is dropped instead while this room's backlog is over {@code
     * max-room-backlog}, as a local {@code SAY} would get {@code room-busy}. Returns false if it was dropped (the caller
     * counts it). Membership events are bounded by {@link Room.Shard#enqueue} as local ones are.
     */
    boolean publishFromElsewhere(Room room, ByteBuf event, boolean membership) {
        if (!membership && room.backlog.get() > settings.maxRoomBacklog()) {
            event.release();
            return false;
        }
        // What the room's members here must read counts messages from everywhere: each launcher holds its own
        // senders to room-rate-limit, so N launchers could otherwise send N times it to the members here.
        if (!membership && room.takeRate(event.readableBytes(), nanoClock.getAsLong(), null) != Room.Rate.TAKEN) {
            rateRefused.increment();
            event.release();
            return false;
        }
        publish(room, event, membership);
        return true;
    }

    /**
     * The names in {@code roomName} (at most {@link #WHO_MAX_NAMES}, sorted) and the count first. Exact
     * in rooms that announce membership; in larger ones the answer may be up to {@link #WHO_STALE}
     * old: listing 10,000 names (and keeping the first 500 in order: {@link First}) for every WHO of every member would let a crowd keep the
     * loops busy, so one answer a second serves them all.
     */
    String who(String roomName) {
        Room room = rooms.get(roomName);
        if (room == null) {
            return roomName + " 0";
        }
        long now = nanoClock.getAsLong();
        int version = room.version.get(); // before reading the members: a change after it makes the answer stale
        Room.Who cached = room.who;
        if (cached != null
                && (cached.version() == version
                        || !announces(room.size) && now - cached.atNanos() < WHO_STALE.toNanos())) {
            return cached.text();
        }
        First<String> names = new First<>(WHO_MAX_NAMES, Comparator.naturalOrder());
        for (Room.Shard shard : room.shards) {
            for (Session s : shard.members) {
                names.offer(s.name());
            }
        }
        StringBuilder sb = new StringBuilder(roomName).append(' ').append(names.count());
        for (String name : names.sorted()) {
            sb.append(' ').append(name);
        }
        String text = sb.toString();
        room.who = new Room.Who(text, version, now);
        return text;
    }

    /**
     * The room count, then up to {@link #ROOMS_MAX} rooms as {@code name:members}, sorted by name.
     * Exact while there are at most {@link #ROOMS_MAX} rooms; with more, the answer may be up to
     * {@link #WHO_STALE} old, for the same reason as {@link #who}: going through 100,000 rooms for every ROOMS
     * would let a crowd keep the loops busy.
     */
    String rooms() {
        long now = nanoClock.getAsLong();
        Answer cached = roomsAnswer;
        if (cached != null && rooms.size() > ROOMS_MAX && now - cached.atNanos() < WHO_STALE.toNanos()) {
            return cached.text();
        }
        First<Room> first = new First<>(ROOMS_MAX, BY_NAME);
        for (Room r : rooms.values()) {
            first.offer(r);
        }
        StringBuilder sb = new StringBuilder().append(first.count());
        for (Room r : first.sorted()) {
            sb.append(' ').append(r.name).append(':').append(r.size);
        }
        String text = sb.toString();
        roomsAnswer = new Answer(text, now);
        return text;
    }

    private record Answer(String text, long atNanos) {}
}
