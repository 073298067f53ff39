package dev.daemonkit.samples.presence;

import dev.daemonkit.api.DaemonStopping;
import dev.daemonkit.api.Timeout;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;

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
    /**
     * True while a command waits for the broker (another launcher's answer, through Redis): the lines that arrive
     * meanwhile wait in {@link #held}, so replies keep the order of the commands, and reading pauses.
     */
    private boolean waiting;

    private ArrayDeque<String> held;

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
            Broker broker = presence.broker();
            while (roomCount > 0) {
                Room room = rooms[--roomCount];
                rooms[roomCount] = null;
                if (presence.announces(presence.leave(room, this))) {
                    presence.announce(room, ctx.alloc(), event, me);
                    broker.forward(room.name, "EVENT " + event + " " + room.name + " " + me);
                }
                broker.left(room.name, me, roomNames());
            }
            presence.logout(me, this);
            broker.released(me);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // Events for other launchers first: they have further to go than this connection's replies. Once per read, so
        // a read of many SAYs is one write to Redis, sent before this loop's turn goes on to the local fan-out.
        presence.broker().flush();
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
        if (waiting) {
            if (held == null) {
                held = new ArrayDeque<>();
            }
            held.add(line); // at most what one read held: reading is paused while waiting
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
            case "ROOMS" ->
                await(presence.broker().rooms(), (text, failed) -> {
                    reply("OK", "ROOMS", failed != null ? presence.rooms() : text);
                });
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
            // Unique here; the broker makes it unique across launchers (at once for the memory broker).
            await(presence.broker().claim(wanted), (refusal, failed) -> {
                if (closing || failed != null || refusal != null) {
                    presence.logout(wanted, this);
                    if (closing && failed == null && refusal == null) {
                        presence.broker().released(wanted);
                    } else if (!closing) {
                        String why = refusal != null
                                ? refusal
                                : "unavailable the name could not be checked with the other launchers: Redis did not"
                                        + " answer in time (redis.command-timeout); try again shortly";
                        int sp = why.indexOf(' ');
                        reply("ERR", why.substring(0, sp), why.substring(sp + 1));
                    }
                    return;
                }
                name = wanted;
                reply("OK", "LOGIN", wanted);
            });
        }
    }

    /**
     * Runs {@code then} on this session's loop once {@code stage} completes: at once if it has, otherwise later, with
     * the lines that arrive meanwhile held back and executed after it, in order. {@code then} gets the value, or the
     * failure (and null). It runs even if the connection closed meanwhile: check {@link #closing()}.
     */
    final <T> void await(CompletionStage<T> stage, BiConsumer<T, Throwable> then) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        if (f.isDone()) {
            T value = null;
            Throwable failed = null;
            try {
                value = f.join();
            } catch (CompletionException | java.util.concurrent.CancellationException e) {
                failed = e.getCause() != null ? e.getCause() : e;
            }
            then.accept(value, failed);
            return;
        }
        waiting = true;
        ctx.channel().config().setAutoRead(false);
        f.whenComplete((value, failed) -> {
            Throwable cause =
                    failed instanceof CompletionException && failed.getCause() != null ? failed.getCause() : failed;
            try {
                ctx.executor().execute(() -> resume(then, value, cause));
            } catch (RejectedExecutionException stopping) {
                // the loop is gone, and with it the connection
            }
        });
    }

    private <T> void resume(BiConsumer<T, Throwable> then, T value, Throwable failed) {
        waiting = false;
        then.accept(value, failed);
        while (!waiting && held != null && !held.isEmpty()) {
            onLine(held.poll());
        }
        if (!waiting) {
            held = null; // ~100 bytes an online user would otherwise keep (most LOGINs arrive with a JOIN behind them)
        }
        ctx.flush();
        if (!waiting && !closing) {
            // As the framework's front handler would have it: a client that does not read is not read either.
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        }
    }

    final boolean closing() {
        return closing;
    }

    /** The rooms this session is in, separated by spaces (what the broker keeps for it). */
    private String roomNames() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < roomCount; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(rooms[i].name);
        }
        return sb.toString();
    }

    /**
     * On this session's loop, after the broker reconnected: claims the name again and writes the rooms again. A
     * name another launcher's user took meanwhile (after this launcher was announced dead) ends this session.
     */
    final void rejoin() {
        String me = name;
        if (closing || me == null) {
            return;
        }
        Broker broker = presence.broker();
        broker.claim(me).whenComplete((refusal, failed) -> {
            if (failed != null) {
                return; // Redis is away again: the next reconnect tries again
            }
            try {
                ctx.executor().execute(() -> {
                    if (closing) {
                        return;
                    }
                    if (refusal != null) {
                        reply(
                                "BYE",
                                "name-taken",
                                me + " was given to another user while this launcher could not"
                                        + " reach the others; log in again");
                        close();
                        return;
                    }
                    for (int i = 0; i < roomCount; i++) {
                        broker.joined(rooms[i].name, me, roomNames());
                    }
                });
            } catch (RejectedExecutionException stopping) {
                // the loop is gone, and with it the connection
            }
        });
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
        // The room's events from other launchers first, so that none sent after OK JOIN is missed here.
        Broker broker = presence.broker();
        await(broker.subscribe(roomName), (subscribed, failed) -> joinNow(roomName));
    }

    private void joinNow(String roomName) {
        Broker broker = presence.broker();
        if (closing) {
            broker.unsubscribe(roomName);
            return;
        }
        Room room = presence.join(roomName, this);
        if (room == null) {
            broker.unsubscribe(roomName);
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
        broker.joined(roomName, name, roomNames());
        if (presence.announces(room.size)) {
            presence.announce(room, ctx.alloc(), "JOIN", name);
            broker.forward(roomName, "EVENT JOIN " + roomName + " " + name);
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
        Broker broker = presence.broker();
        if (presence.announces(presence.leave(room, this))) {
            presence.announce(room, ctx.alloc(), "LEAVE", name);
            broker.forward(roomName, "EVENT LEAVE " + roomName + " " + name);
        }
        broker.left(roomName, name, roomNames());
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
        Broker broker = presence.broker();
        String busy = broker.busy();
        if (busy != null) {
            reply("ERR", "room-busy", busy + ": this message was not sent; try again shortly");
            return;
        }
        ByteBuf event = Lines.line(ctx.alloc(), "EVENT", "MSG", roomName, name, text);
        Room.Rate rate = room.takeRate(event.readableBytes(), presence.nanoClock.getAsLong(), address());
        if (rate != Room.Rate.TAKEN) {
            event.release();
            presence.rateRefused.increment();
            long perSecond = presence.settings.roomBytesPerSecond();
            reply(
                    "ERR",
                    "room-busy",
                    rate == Room.Rate.ROOM_FULL
                            ? roomName + " carries more than " + perSecond
                                    + " bytes of messages a second (room-rate-limit), what each member must read: this"
                                    + " message was not sent; try again shortly"
                            : "messages from your address take more than a quarter of " + roomName + "'s"
                                    + " room-rate-limit (" + perSecond / Room.ADDRESS_SHARE
                                    + " bytes a second): this message was not sent; try again shortly");
            return;
        }
        reply("OK", "SAY", roomName);
        presence.publish(room, event, false);
        broker.forward(roomName, "EVENT MSG " + roomName + " " + name + " " + text);
    }

    private void who(String roomName) {
        if (validRoom(roomName)) {
            await(presence.broker().who(roomName), (text, failed) -> {
                reply("OK", "WHO", failed != null ? presence.who(roomName) : text);
            });
        }
    }

    /** The client's address, for its share of a room's rate; null when the channel has none (a test's). */
    private java.net.InetAddress address() {
        return ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
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
