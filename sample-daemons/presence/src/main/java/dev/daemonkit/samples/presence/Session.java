package dev.daemonkit.samples.presence;

import dev.daemonkit.api.DaemonStopping;
import dev.daemonkit.api.Timeout;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * One connection's presence: its name, its rooms, its rate limit and its heartbeat, and the commands
 * of the protocol (docs/protocols/presence.md). The transports differ only in how a line arrives and
 * how one is written: {@link LineSession} and {@link WebSocketSession}.
 *
 * <p>Everything here runs on the connection's event loop. The session is also its own heartbeat task
 * ({@link #run}), so that an online user costs one object fewer.
 */
abstract class Session extends ChannelInboundHandlerAdapter implements Runnable {
    static final String COMMANDS = "LOGIN, JOIN, LEAVE, SAY, WHO, ROOMS, PING, QUIT";

    final Presence presence;
    final int loopIndex;
    ChannelHandlerContext ctx;
    /** Written on this loop before the session joins any room; read by WHO on other loops after that. */
    private volatile String name;

    private Room[] rooms;
    private int roomCount;
    /** Rate limit, as GCRA: the earliest time the bucket would be full again (nanoTime). */
    private long rateTat = Long.MIN_VALUE;

    private Timeout heartbeat;
    private boolean timedOut;
    private boolean overflowed;
    private boolean closing;

    Session(Presence presence, int loopIndex) {
        this.presence = presence;
        this.loopIndex = loopIndex;
    }

    final String name() {
        return name;
    }

    /** Writes one protocol line (ending in a newline) to the peer, taking ownership of it; no flush. */
    abstract void writeLine(ByteBuf line);

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /**
     * Starts the heartbeat: from now on, silence longer than heartbeat-timeout drops the connection.
     * On the connection's loop, so the timer lands on that loop's wheel and is moved there without a
     * lock. It is one of the daemon's timers rather than of {@code timers(channel)}: a connection's own
     * timer scope costs ~450 bytes per connection (scope, its maps, owner, name), a fifth of what an
     * online user is allowed; the price is cancelling it ourselves in {@link #channelInactive}.
     */
    final void startHeartbeat() {
        heartbeat = presence.timers.schedule(presence.settings.heartbeatTimeout(), this);
    }

    /** The heartbeat expired: called by the connection's timer, on its loop. */
    @Override
    public final void run() {
        if (closing || !ctx.channel().isActive()) {
            return;
        }
        timedOut = true;
        presence.timedOut.increment();
        reply(
                "BYE",
                "timeout",
                "silent for more than " + human(presence.settings.heartbeatTimeout())
                        + " (heartbeat-timeout): send PING to stay online");
        close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closing = true;
        if (heartbeat != null) {
            heartbeat.cancel();
        }
        String me = name;
        if (me != null) {
            String event = timedOut ? "TIMEOUT" : "LEAVE";
            for (int i = 0; i < roomCount; i++) {
                Room room = rooms[i];
                if (presence.announces(presence.leave(room, this))) {
                    presence.publish(room, Lines.line(ctx.alloc(), "EVENT", event, room.name, me));
                }
            }
            roomCount = 0;
            presence.logout(me, this);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush(); // once per read from the socket, not once per reply
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof DaemonStopping && !closing) {
            reply("BYE", "stopping", "the server is stopping");
            close();
        }
        super.userEventTriggered(ctx, evt);
    }

    /** A line that was too long: answered, discarded, and the connection stays open. */
    final void tooLong() {
        alive();
        reply(
                "ERR",
                "too-long",
                "the line has more than " + presence.settings.maxLineBytes()
                        + " bytes (max-line-bytes) and was discarded");
    }

    /** Input that is not UTF-8 text, or that holds control characters. */
    final void badInput(String what) {
        alive();
        reply("ERR", "bad-input", what + " and was discarded: send UTF-8 text lines, one command per line");
    }

    /** Any line, even a wrong one, is a sign of life: the heartbeat moves, without allocating. */
    final void alive() {
        if (heartbeat != null) {
            heartbeat.reschedule(presence.settings.heartbeatTimeout());
        }
    }

    /** One command line, without its line end. */
    final void onLine(String line) {
        if (closing) {
            return;
        }
        alive();
        String refused = Lines.forbidden(line);
        if (refused != null) {
            badInput(refused);
            return;
        }
        line = line.strip();
        if (line.isEmpty()) {
            return;
        }
        if (!allowed()) {
            reply(
                    "ERR",
                    "rate-limited",
                    "more than " + fmt(presence.settings.ratePerSecond()) + " commands per second (burst "
                            + presence.settings.rateBurst() + ", rate-limit): this one was not executed; slow down");
            return;
        }
        presence.commands.increment();
        int sp = line.indexOf(' ');
        String command = (sp < 0 ? line : line.substring(0, sp)).toUpperCase(Locale.ROOT);
        String rest = sp < 0 ? "" : line.substring(sp + 1).strip();
        switch (command) {
            case "LOGIN" -> login(rest);
            case "JOIN" -> join(rest);
            case "LEAVE" -> leave(rest);
            case "SAY" -> say(rest);
            case "WHO" -> who(rest);
            case "ROOMS" -> reply("OK", "ROOMS", presence.rooms());
            case "PING" -> {
                if (rest.isEmpty()) {
                    reply("OK", "PING");
                } else {
                    reply("OK", "PING", rest);
                }
            }
            case "QUIT" -> {
                reply("OK", "QUIT");
                close();
            }
            default ->
                reply("ERR", "unknown-command", Lines.quote(command) + " is not a command. Commands: " + COMMANDS);
        }
    }

    private void login(String wanted) {
        if (name != null) {
            reply("ERR", "already-logged-in", "you are " + name + " until you QUIT");
        } else if (!Lines.isName(wanted)) {
            reply(
                    "ERR",
                    "bad-name",
                    Lines.quote(wanted) + " is not a name: use 1 to 32 letters, digits, '_', '-' or '.'");
        } else if (!presence.login(wanted, this)) {
            reply("ERR", "name-taken", wanted + " is online already: choose another name");
        } else {
            name = wanted;
            reply("OK", "LOGIN", wanted);
        }
    }

    private boolean loggedIn(String command) {
        if (name == null) {
            reply("ERR", "not-logged-in", command + " needs a name first: LOGIN NAME");
            return false;
        }
        return true;
    }

    private boolean validRoom(String room) {
        if (!Lines.isName(room)) {
            reply(
                    "ERR",
                    "bad-room",
                    Lines.quote(room) + " is not a room: use 1 to 32 letters, digits, '_', '-' or '.'");
            return false;
        }
        return true;
    }

    private int indexOf(String roomName) {
        for (int i = 0; i < roomCount; i++) {
            if (rooms[i].name.equals(roomName)) {
                return i;
            }
        }
        return -1;
    }

    private void join(String roomName) {
        if (!loggedIn("JOIN") || !validRoom(roomName)) {
            return;
        }
        if (indexOf(roomName) >= 0) {
            reply("ERR", "already-joined", "you are in " + roomName + " already");
            return;
        }
        if (roomCount == presence.settings.maxRoomsPerUser()) {
            reply(
                    "ERR",
                    "too-many-rooms",
                    "you are in " + roomCount + " rooms, the most allowed (max-rooms-per-user): LEAVE one first");
            return;
        }
        Room room = presence.join(roomName, this);
        if (room == null) {
            reply(
                    "ERR",
                    "room-full",
                    roomName + " has " + presence.settings.maxRoomMembers()
                            + " members, the most allowed (max-room-members): try another room");
            return;
        }
        reply("OK", "JOIN", roomName);
        if (rooms == null) {
            rooms = new Room[2];
        } else if (roomCount == rooms.length) {
            rooms = Arrays.copyOf(rooms, Math.min(rooms.length * 2, presence.settings.maxRoomsPerUser()));
        }
        rooms[roomCount++] = room;
        if (presence.announces(room.size)) {
            presence.publish(room, Lines.line(ctx.alloc(), "EVENT", "JOIN", roomName, name));
        }
    }

    private void leave(String roomName) {
        if (!loggedIn("LEAVE") || !validRoom(roomName)) {
            return;
        }
        int i = indexOf(roomName);
        if (i < 0) {
            reply("ERR", "not-in-room", "you are not in " + roomName);
            return;
        }
        Room room = rooms[i];
        rooms[i] = rooms[--roomCount];
        rooms[roomCount] = null;
        reply("OK", "LEAVE", roomName);
        if (presence.announces(presence.leave(room, this))) {
            presence.publish(room, Lines.line(ctx.alloc(), "EVENT", "LEAVE", roomName, name));
        }
    }

    private void say(String rest) {
        if (!loggedIn("SAY")) {
            return;
        }
        int sp = rest.indexOf(' ');
        String roomName = sp < 0 ? rest : rest.substring(0, sp);
        String text = sp < 0 ? "" : rest.substring(sp + 1).strip();
        if (!validRoom(roomName)) {
            return;
        }
        int i = indexOf(roomName);
        if (i < 0) {
            reply("ERR", "not-in-room", "you are not in " + roomName + ": JOIN it first");
            return;
        }
        if (text.isEmpty()) {
            reply("ERR", "usage", "SAY ROOM TEXT: the text is missing");
            return;
        }
        Room room = rooms[i];
        long backlog = room.backlog.get();
        if (backlog > presence.settings.maxRoomBacklog()) {
            reply(
                    "ERR",
                    "room-busy",
                    roomName + " has " + backlog + " event copies waiting to be written, more than "
                            + presence.settings.maxRoomBacklog()
                            + " (max-room-backlog): this message was not sent; try again shortly");
            return;
        }
        reply("OK", "SAY", roomName);
        presence.publish(room, Lines.line(ctx.alloc(), "EVENT", "MSG", roomName, name, text));
    }

    private void who(String roomName) {
        if (validRoom(roomName)) {
            reply("OK", "WHO", presence.who(roomName));
        }
    }

    /** Token bucket as GCRA: one long of state, no refill timer. */
    private boolean allowed() {
        PresenceSettings s = presence.settings;
        long interval = (long) (1_000_000_000L / s.ratePerSecond());
        long tolerance = interval * (s.rateBurst() - 1);
        long now = presence.nanoClock.getAsLong();
        long tat = Math.max(rateTat, now);
        if (tat - now > tolerance) {
            return false;
        }
        rateTat = tat + interval;
        return true;
    }

    /** A reply or notice to this connection only; flushed at the end of the read (or by {@link #close}). */
    final void reply(String... parts) {
        writeLine(Lines.line(ctx.alloc(), parts));
    }

    final void close() {
        closing = true;
        ctx.flush();
        ctx.channel().close();
    }

    /**
     * Events for a room this session is in, on this session's loop: {@code events[from..to)}, written
     * in order and flushed once. The caller keeps its references. A client
     * that does not read has its events queued up to max-outbound-bytes; past that it is disconnected,
     * and logged once.
     */
    final void deliver(ByteBuf[] events, int from, int to) {
        Channel ch = ctx.channel();
        if (overflowed || !ch.isActive()) {
            return;
        }
        if (!ch.isWritable()) {
            ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
            long queued = out == null ? 0 : out.totalPendingWriteBytes();
            long adding = 0;
            for (int i = from; i < to; i++) {
                adding += events[i].readableBytes();
            }
            if (queued + adding > presence.settings.maxOutboundBytes()) {
                overflowed = true;
                presence.slowDropped.increment();
                presence.log.warn(
                        "disconnected {} ({}): {} bytes are queued for it, more than max-outbound-bytes ({});"
                                + " it stopped reading. Its rooms are told it left (those that announce membership).",
                        name == null ? "a client" : name,
                        ch.remoteAddress(),
                        queued,
                        presence.settings.maxOutboundBytes());
                closing = true;
                ch.close();
                return;
            }
        }
        for (int i = from; i < to; i++) {
            writeLine(events[i].retainedDuplicate());
        }
        ctx.flush();
        presence.delivered.add(to - from);
    }

    static String human(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
