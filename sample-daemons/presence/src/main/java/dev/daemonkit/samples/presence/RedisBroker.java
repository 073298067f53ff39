package dev.daemonkit.samples.presence;

import dev.daemonkit.api.Timeout;
import dev.daemonkit.api.Timers;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.metrics.CommandLatencyRecorder;
import io.lettuce.core.output.IntegerOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.resolver.DefaultAddressResolverGroup;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * {@code broker = redis}: launchers that share one Redis are one presence service (docs/scaling.md; keys and channels
 * in docs/protocols/presence.md). Lettuce runs on the daemon's own event loops and timer wheel ({@link SharedLoops},
 * {@link WheelTimer}): the broker adds no thread. Only Lettuce's asynchronous API is used, so no event loop ever waits
 * for Redis.
 *
 * <p>Connections are this class's own business, not Lettuce's: auto-reconnect is off, and a lost connection (or one
 * that cannot be made, at start too) is retried with backoff (100 ms doubling to 5 s) from the timer wheel; every
 * (re)connection registers this launcher again, its names, its rooms and its subscriptions, so rooms resume without a
 * restart. The outage is logged once when it starts and once when it ends, and reported as {@code degraded} health.
 *
 * <p>Subscriptions are counted and changed on one event loop ({@link #control}), so that a SUBSCRIBE and an
 * UNSUBSCRIBE for one room reach Redis in the order they were decided.
 */
final class RedisBroker implements Broker {
    /** Channels as text, events as the bytes Redis holds: {@link #received} looks at them before decoding. */
    private static final RedisCodec<String, byte[]> PUBSUB_CODEC =
            RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

    /** How a chat message's line starts: every other event line (JOIN, LEAVE, TIMEOUT) announces membership. */
    private static final byte[] MESSAGE_EVENT = "EVENT MSG ".getBytes(StandardCharsets.US_ASCII);

    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    /** How often each launcher looks for launchers whose key expired: what keeps TIMEOUT within ttl + 1 s. */
    static final Duration REAP_EVERY = Duration.ofMillis(250);

    // KEYS: names hash. ARGV: name, this launcher, the launcher key prefix. 1 if the name is ours now.
    private static final String CLAIM = """
            local owner = redis.call('HGET', KEYS[1], ARGV[1])
            if owner and owner ~= ARGV[2] and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return 0 end
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
            return 1
            """;
    // KEYS: names hash, this launcher's users hash. ARGV: name, this launcher.
    private static final String RELEASE = """
            if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
            redis.call('HDEL', KEYS[2], ARGV[1])
            return 1
            """;
    // KEYS: room hash, rooms hash, users hash. ARGV: name, this launcher, room, the user's rooms.
    private static final String JOIN = """
            if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('HINCRBY', KEYS[2], ARGV[3], 1) end
            redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
            return 1
            """;
    // KEYS: room hash, rooms hash, users hash. ARGV: name, this launcher, room, the user's remaining rooms.
    private static final String LEAVE = """
            if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
              redis.call('HDEL', KEYS[1], ARGV[1])
              if redis.call('HINCRBY', KEYS[2], ARGV[3], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[3]) end
            end
            if ARGV[4] == '' then redis.call('HDEL', KEYS[3], ARGV[1]) else redis.call('HSET', KEYS[3], ARGV[1], ARGV[4]) end
            return 1
            """;
    // KEYS: this launcher's key, the launchers set, this launcher's users hash. ARGV: ttl ms, this launcher, data ttl
    // ms. 1 if the key was there (0: first registration, or the others took this launcher for dead).
    private static final String REFRESH = """
            local existed = redis.call('EXISTS', KEYS[1])
            redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
            redis.call('SADD', KEYS[2], ARGV[2])
            redis.call('PEXPIRE', KEYS[3], ARGV[3])
            return existed
            """;
    // ARGV: prefix. For every launcher whose key expired, atomically (so one launcher does it): its users leave
    // their rooms and free their names; returns {launcher, room, name, members left} for each membership.
    private static final String REAP = """
            local p = ARGV[1]
            local out = {}
            for _, id in ipairs(redis.call('SMEMBERS', p .. ':launchers')) do
              if redis.call('EXISTS', p .. ':launcher:' .. id) == 0 then
                redis.call('SREM', p .. ':launchers', id)
                local users = redis.call('HGETALL', p .. ':users:' .. id)
                redis.call('DEL', p .. ':users:' .. id)
                for i = 1, #users, 2 do
                  local name = users[i]
                  if redis.call('HGET', p .. ':names', name) == id then redis.call('HDEL', p .. ':names', name) end
                  for room in string.gmatch(users[i + 1], '%S+') do
                    if redis.call('HGET', p .. ':members:' .. room, name) == id then
                      redis.call('HDEL', p .. ':members:' .. room, name)
                      local left = redis.call('HINCRBY', p .. ':rooms', room, -1)
                      if left <= 0 then redis.call('HDEL', p .. ':rooms', room) end
                      table.insert(out, id)
                      table.insert(out, room)
                      table.insert(out, name)
                      table.insert(out, tostring(left))
                    end
                  end
                end
              end
            end
            return out
            """;
    // KEYS: this launcher's key, the launchers set, this launcher's users hash. ARGV: this launcher.
    private static final String UNREGISTER = """
            redis.call('DEL', KEYS[1])
            redis.call('SREM', KEYS[2], ARGV[1])
            redis.call('DEL', KEYS[3])
            return 1
            """;

    private final Presence presence;
    private final BrokerSettings settings;
    private final Logger log;
    private final Timers timers;
    private final Consumer<String> health;
    private final EventExecutor control;
    private final EventLoopGroup loops;
    private final ClientResources resources;
    private final RedisClient client;
    private final RedisURI uri;

    /** This launcher in the presence service: new at every start, so a restarted launcher is a new one. */
    final String id;

    private final byte[] idBytes;

    private final String prefix;
    private final String names;
    private final String roomsKey;
    private final String launchers;
    private final String launcherKey;
    private final String usersKey;
    private final String launcherKeyPrefix;

    private volatile StatefulRedisConnection<String, String> connection;
    private volatile StatefulRedisPubSubConnection<String, byte[]> pubsub;
    /** True while both connections are up and this launcher is registered. */
    private volatile boolean up;

    private volatile boolean closed;

    // Touched on the control loop only.
    private boolean down;
    private long downSinceMillis;
    private Duration backoff = FIRST_BACKOFF;
    private boolean everUp;
    private final Map<String, Sub> subs = new HashMap<>();

    private final AtomicInteger pending = new AtomicInteger();
    /** Events that did not reach Redis (it was away, slow beyond command-timeout): at most once. */
    final LongAdder lost = new LongAdder();
    /** Messages from other launchers dropped here because the room's backlog was over max-room-backlog. */
    final LongAdder busyDropped = new LongAdder();

    final LongAdder announcedTimeouts = new LongAdder();
    /** LOGINs refused because Redis did not answer the claim (slower than command-timeout, or gone meanwhile). */
    final LongAdder claimsFailed = new LongAdder();

    /** One per daemon event loop: the PUBLISHes of its current turn ({@link Outbox}). */
    private final Outbox[] outboxes;
    /** PUBLISH batches written to Redis, and the PUBLISHes in them (stats line, tests). */
    final LongAdder batches = new LongAdder();

    final LongAdder batched = new LongAdder();

    private final CompletableFuture<Void> firstAttempt = new CompletableFuture<>();
    private final List<Timeout> tasks = new ArrayList<>();

    /** One room this launcher has members in (or is about to): how many joins hold it, and when it is subscribed. */
    private static final class Sub {
        int count;
        CompletableFuture<Void> subscribed = new CompletableFuture<>();
    }

    RedisBroker(
            Presence presence,
            BrokerSettings settings,
            Logger log,
            EventLoopGroup loops,
            Timers timers,
            Consumer<String> health) {
        this.presence = presence;
        this.settings = settings;
        this.log = log;
        this.timers = timers;
        this.health = health;
        this.loops = loops;
        this.control = loops.next();
        List<Outbox> boxes = new ArrayList<>();
        for (EventExecutor loop : loops) {
            boxes.add(new Outbox(loop));
        }
        this.outboxes = boxes.toArray(Outbox[]::new);
        this.id = UUID.randomUUID().toString().substring(0, 8);
        this.idBytes = id.getBytes(StandardCharsets.US_ASCII);
        this.prefix = settings.keyPrefix();
        this.names = prefix + ":names";
        this.roomsKey = prefix + ":rooms";
        this.launchers = prefix + ":launchers";
        this.launcherKeyPrefix = prefix + ":launcher:";
        this.launcherKey = launcherKeyPrefix + id;
        this.usersKey = prefix + ":users:" + id;

        LettuceOnce.prepare();
        SharedLoops shared = new SharedLoops(loops);
        this.resources = DefaultClientResources.builder()
                .eventLoopGroupProvider(shared)
                .eventExecutorGroup(loops)
                .timer(new WheelTimer(timers))
                .commandLatencyRecorder(CommandLatencyRecorder.disabled())
                // The JDK's resolver; the address is an IP already (BrokerSettings), so nothing is looked up.
                .addressResolverGroup(DefaultAddressResolverGroup.INSTANCE)
                .build();
        this.uri = RedisURI.builder()
                .withHost(settings.redis().getAddress().getHostAddress())
                .withPort(settings.redis().getPort())
                .withTimeout(settings.commandTimeout())
                .build();
        this.client = RedisClient.create(resources);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(false)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(settings.commandTimeout()))
                .socketOptions(SocketOptions.builder()
                        .connectTimeout(settings.commandTimeout())
                        .build())
                .maintNotificationsConfig(io.lettuce.core.MaintNotificationsConfig.disabled())
                .build());
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> c) {
                control.execute(() -> lost(c));
            }
        });
    }

    /**
     * Connects for the first time; the returned stage completes when that first attempt ended, however it ended (a
     * Redis that is down does not keep the daemon from serving this launcher's users).
     */
    CompletionStage<Void> start() {
        Duration refresh = settings.ttl().dividedBy(3);
        tasks.add(timers.every(refresh, this::refresh));
        tasks.add(timers.every(REAP_EVERY, this::reap));
        control.execute(this::connect);
        return firstAttempt;
    }

    /** On the control loop. */
    private void connect() {
        if (closed) {
            return;
        }
        CompletableFuture<StatefulRedisConnection<String, String>> c;
        CompletableFuture<StatefulRedisPubSubConnection<String, byte[]>> p;
        try {
            c = client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
            p = client.connectPubSubAsync(PUBSUB_CODEC, uri).toCompletableFuture();
        } catch (RuntimeException e) {
            if (!closed) { // the loops are shutting down under a stopping launcher otherwise
                outage("cannot connect: " + e.getMessage());
                retry();
            }
            return;
        }
        CompletableFuture.allOf(c, p)
                .whenComplete((ok, failed) -> control.execute(() -> {
                    if (failed != null || closed) {
                        c.thenAccept(StatefulRedisConnection::closeAsync);
                        p.thenAccept(StatefulRedisPubSubConnection::closeAsync);
                        if (!closed) {
                            outage("cannot connect: " + rootMessage(failed));
                            retry();
                        }
                        return;
                    }
                    connected(c.join(), p.join());
                }));
    }

    /** On the control loop: both connections are open. Registers everything this launcher has, then it is up. */
    private void connected(StatefulRedisConnection<String, String> c, StatefulRedisPubSubConnection<String, byte[]> p) {
        connection = c;
        pubsub = p;
        p.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, byte[] message) {
                received(channel, message);
            }
        });
        RedisAsyncCommands<String, String> r = c.async();
        List<CompletableFuture<?>> steps = new ArrayList<>();
        for (String script : List.of(CLAIM, RELEASE, JOIN, LEAVE, REFRESH, REAP, UNREGISTER)) {
            steps.add(r.scriptLoad(script).toCompletableFuture());
        }
        steps.add(r.<Long>evalsha(
                        sha(REFRESH),
                        ScriptOutputType.INTEGER,
                        new String[] {launcherKey, launchers, usersKey},
                        String.valueOf(settings.ttl().toMillis()),
                        id,
                        String.valueOf(dataTtlMillis()))
                .toCompletableFuture());
        List<String> channels = new ArrayList<>();
        for (Map.Entry<String, Sub> e : subs.entrySet()) {
            channels.add(channel(e.getKey()));
        }
        if (!channels.isEmpty()) {
            steps.add(p.async().subscribe(channels.toArray(String[]::new)).toCompletableFuture());
        }
        CompletableFuture.allOf(steps.toArray(CompletableFuture[]::new))
                .whenComplete((ok, failed) -> control.execute(() -> {
                    if (closed || connection != c) {
                        return;
                    }
                    if (failed != null) {
                        log.debug("registering with Redis failed", failed);
                        drop("registering failed: " + rootMessage(failed));
                        return;
                    }
                    for (Sub s : subs.values()) {
                        s.subscribed.complete(null);
                    }
                    up = true;
                    backoff = FIRST_BACKOFF;
                    int users = rejoinAll();
                    if (down) {
                        log.info(
                                "Redis at {} is reachable again after {} s: rooms span the launchers again ({} users,"
                                        + " {} rooms of this launcher registered again); events sent meanwhile between"
                                        + " launchers are lost",
                                settings.redisText(),
                                (System.currentTimeMillis() - downSinceMillis) / 1000,
                                users,
                                subs.size());
                        down = false;
                        health.accept(null);
                    } else if (!everUp) {
                        log.info(
                                "joined the presence service at Redis {} (key prefix {}) as launcher {}",
                                settings.redisText(),
                                prefix,
                                id);
                    }
                    everUp = true;
                    firstAttempt.complete(null);
                }));
    }

    /** On the control loop: a connection closed (Redis stopped, the network broke). */
    private void lost(RedisChannelHandler<?, ?> c) {
        if (closed || (c != connection && c != pubsub)) {
            return; // an old connection, or one closed on purpose
        }
        drop("the connection was lost");
    }

    /** On the control loop: closes both connections and tries again after the backoff. */
    private void drop(String why) {
        up = false;
        StatefulRedisConnection<String, String> c = connection;
        StatefulRedisPubSubConnection<String, byte[]> p = pubsub;
        connection = null;
        pubsub = null;
        if (c != null) {
            c.closeAsync();
        }
        if (p != null) {
            p.closeAsync();
        }
        outage(why);
        retry();
    }

    /** On the control loop: logs the outage once, says so in the health, lets the sessions waiting on it go on. */
    private void outage(String why) {
        firstAttempt.complete(null);
        for (Sub s : subs.values()) {
            s.subscribed.complete(null); // joins go on locally; the subscription is made when Redis is back
        }
        if (down) {
            return;
        }
        down = true;
        downSinceMillis = System.currentTimeMillis();
        String reason = "Redis at " + settings.redisText() + " (daemons.NAME.redis.address) unreachable since "
                + Instant.ofEpochMilli(downSinceMillis) + " (" + why + "): new logins are refused, rooms serve this"
                + " launcher's users only";
        log.warn(
                "{}; retrying with backoff up to {} s, and logging again once it is back",
                reason,
                MAX_BACKOFF.toSeconds());
        health.accept(reason);
    }

    private void retry() {
        Duration wait = backoff;
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        timers.schedule(wait, () -> control.execute(this::connect));
    }

    /** Asks every session of this launcher (on its own loop) to claim its name and write its rooms again. */
    private int rejoinAll() {
        int n = 0;
        for (String name : presence.onlineNames()) {
            Session s = presence.session(name);
            if (s != null && s.ctx != null) {
                n++;
                s.ctx.executor().execute(s::rejoin);
            }
        }
        return n;
    }

    private long dataTtlMillis() {
        // The users hash outlives the launcher's key, so the others can still read whom to announce.
        return settings.ttl().toMillis() * 10;
    }

    /** From the timer wheel, every ttl / 3. */
    private void refresh() {
        StatefulRedisConnection<String, String> c = connection;
        if (!up || c == null) {
            return;
        }
        c.async()
                .<Long>evalsha(
                        sha(REFRESH),
                        ScriptOutputType.INTEGER,
                        new String[] {launcherKey, launchers, usersKey},
                        String.valueOf(settings.ttl().toMillis()),
                        id,
                        String.valueOf(dataTtlMillis()))
                .whenComplete((existed, failed) -> {
                    if (failed == null && existed == 0L) {
                        // Our key had expired (Redis was too slow, or this launcher stalled): the others announced
                        // our users timed out. They are still here: register them again.
                        log.warn(
                                "this launcher's key in Redis had expired (not refreshed within ttl {} s): the other"
                                        + " launchers took its users for gone; registering them again",
                                settings.ttl().toSeconds());
                        rejoinAll();
                    }
                });
    }

    /** From the timer wheel, every {@link #REAP_EVERY}: announces the users of launchers whose key expired. */
    private void reap() {
        StatefulRedisConnection<String, String> c = connection;
        if (!up || c == null) {
            return;
        }
        c.async()
                .<List<Object>>evalsha(sha(REAP), ScriptOutputType.MULTI, new String[0], prefix)
                .whenComplete((out, failed) -> {
                    if (failed != null || out == null || out.isEmpty()) {
                        return;
                    }
                    Map<String, Integer> perLauncher = new HashMap<>();
                    for (int i = 0; i + 3 < out.size(); i += 4) {
                        String dead = String.valueOf(out.get(i));
                        String room = String.valueOf(out.get(i + 1));
                        String name = String.valueOf(out.get(i + 2));
                        int left = Integer.parseInt(String.valueOf(out.get(i + 3)));
                        perLauncher.merge(dead, 1, Integer::sum);
                        if (presence.announces(left + 1)) {
                            announcedTimeouts.increment();
                            // Sent as from the dead launcher, so that every launcher delivers it, this one too.
                            publish(room, dead, "EVENT TIMEOUT " + room + " " + name);
                        }
                    }
                    perLauncher.forEach((dead, n) -> log.info(
                            "launcher {} stopped refreshing its key (ttl {} s): {} memberships of its users announced"
                                    + " as EVENT TIMEOUT",
                            dead,
                            settings.ttl().toSeconds(),
                            n));
                });
    }

    /**
     * On the pub/sub connection's loop: an event of a room this launcher has members in, {@code origin line} in UTF-8.
     * Every launcher gets its own events back too (pub/sub has no "not to me"): with two launchers, half of what
     * arrives. They are told apart on the bytes, before anything is decoded; the others' are copied once, into the
     * buffer the members get.
     */
    private void received(String channel, byte[] message) {
        int sp = indexOf(message, (byte) ' ');
        if (sp < 0 || sp == idBytes.length && Arrays.equals(message, 0, sp, idBytes, 0, sp)) {
            return; // sent by this launcher, whose members had it at once
        }
        Room room = presence.room(channel.substring(prefix.length() + ":room:".length()));
        if (room == null) {
            return; // its last member here left a moment ago
        }
        int length = message.length - sp - 1;
        ByteBuf line = ByteBufAllocator.DEFAULT.buffer(length + 1);
        line.writeBytes(message, sp + 1, length).writeByte('\n');
        // Every event from other launchers respects this launcher's room backlog as its own do: a message over
        // max-room-backlog is dropped (pub/sub is at most once) rather than queued without bound.
        if (!presence.publishFromElsewhere(room, line, !startsWith(message, sp + 1, MESSAGE_EVENT))) {
            busyDropped.increment();
        }
    }

    private static boolean startsWith(byte[] bytes, int at, byte[] prefix) {
        return bytes.length - at >= prefix.length
                && Arrays.equals(bytes, at, at + prefix.length, prefix, 0, prefix.length);
    }

    private static int indexOf(byte[] bytes, byte wanted) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == wanted) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public CompletionStage<String> claim(String name) {
        StatefulRedisConnection<String, String> c = connection;
        if (!up || c == null) {
            return CompletableFuture.completedFuture("unavailable the presence service cannot reach its Redis at "
                    + settings.redisText() + ", so names cannot be checked with the other launchers: new logins are"
                    + " refused until it is back; try again shortly");
        }
        return c.async()
                .<Long>evalsha(sha(CLAIM), ScriptOutputType.INTEGER, new String[] {names}, name, id, launcherKeyPrefix)
                .thenApply(ok -> ok == 1L
                        ? null
                        : "name-taken " + name + " is online already (on another launcher): choose another name")
                .whenComplete((refusal, failed) -> {
                    if (failed != null) {
                        claimsFailed.increment();
                    }
                });
    }

    @Override
    public void released(String name) {
        StatefulRedisConnection<String, String> c = connection;
        if (up && c != null) {
            c.async().evalsha(sha(RELEASE), ScriptOutputType.INTEGER, new String[] {names, usersKey}, name, id);
        }
    }

    @Override
    public CompletionStage<?> subscribe(String room) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        control.execute(() -> {
            Sub s = subs.get(room);
            if (s == null) {
                s = new Sub();
                subs.put(room, s);
                StatefulRedisPubSubConnection<String, byte[]> p = pubsub;
                if (p != null) { // connected, perhaps still registering: connected() listed the rooms before
                    Sub fresh = s;
                    p.async().subscribe(channel(room)).whenComplete((v, e) -> fresh.subscribed.complete(null));
                } else {
                    s.subscribed.complete(null); // Redis is away: the room serves this launcher until it is back
                }
            }
            s.count++;
            s.subscribed.whenComplete((v, e) -> done.complete(null));
        });
        return done;
    }

    @Override
    public void unsubscribe(String room) {
        control.execute(() -> {
            Sub s = subs.get(room);
            if (s == null || --s.count > 0) {
                return;
            }
            subs.remove(room);
            StatefulRedisPubSubConnection<String, byte[]> p = pubsub;
            if (p != null) {
                p.async().unsubscribe(channel(room));
            }
        });
    }

    @Override
    public void joined(String room, String name, String rooms) {
        membership(JOIN, room, name, rooms);
    }

    @Override
    public void left(String room, String name, String rooms) {
        membership(LEAVE, room, name, rooms);
        unsubscribe(room);
    }

    /** Runs the JOIN or LEAVE script for {@code name} in {@code room}, if Redis is up (fire and forget). */
    private void membership(String script, String room, String name, String rooms) {
        StatefulRedisConnection<String, String> c = connection;
        if (up && c != null) {
            c.async()
                    .evalsha(
                            sha(script),
                            ScriptOutputType.INTEGER,
                            new String[] {roomKey(room), roomsKey, usersKey},
                            name,
                            id,
                            room,
                            rooms);
        }
    }

    @Override
    public void forward(String room, String line) {
        publish(room, id, line);
    }

    private void publish(String room, String origin, String line) {
        if (!up || connection == null) {
            lost.increment();
            return;
        }
        pending.incrementAndGet();
        AsyncCommand<String, String, Long> publish = new AsyncCommand<>(new Command<>(
                CommandType.PUBLISH,
                new IntegerOutput<>(StringCodec.UTF8),
                new CommandArgs<>(StringCodec.UTF8).addKey(channel(room)).addValue(origin + " " + line)));
        publish.whenComplete((n, failed) -> {
            pending.decrementAndGet();
            if (failed != null) {
                lost.increment();
            }
        });
        Outbox box = outbox();
        if (box != null) {
            box.add(publish);
        } else { // not on one of the daemon's loops (a test's thread): nothing to gather it with
            send(List.of(publish));
        }
    }

    @Override
    public void flush() {
        Outbox box = outbox();
        if (box != null) {
            box.run();
        }
    }

    /** The outbox of the calling thread's event loop, or null if it is none of the daemon's. */
    private Outbox outbox() {
        for (Outbox box : outboxes) {
            if (box.loop.inEventLoop()) {
                return box;
            }
        }
        return null;
    }

    /** Writes {@code commands} to Redis in one go (one flush), or fails them if it is away; from any thread. */
    private void send(List<AsyncCommand<String, String, Long>> commands) {
        StatefulRedisConnection<String, String> c = connection;
        if (!up || c == null) {
            RedisUnavailable away = new RedisUnavailable(settings.redisText());
            for (AsyncCommand<String, String, Long> command : commands) {
                command.completeExceptionally(away);
            }
            return;
        }
        batches.increment();
        batched.add(commands.size());
        if (commands.size() == 1) {
            c.dispatch(commands.get(0));
        } else {
            c.dispatch(commands); // Lettuce copies the list: the caller may reuse it
        }
    }

    /**
     * The PUBLISHes one event loop gathers, written to Redis together: one write and one flush, so one wake-up of the
     * connection's loop and of Redis, instead of one for each. A read of many SAYs sends them at its end ({@link
     * #flush}, from the session), before the loop's turn goes on to the local fan-out; what is gathered elsewhere (a
     * timer, a reap of many TIMEOUTs, closing connections) leaves at the end of the turn: a task queued while the loop
     * handles its I/O, which it runs right after, before it waits again. So a lone event is not held back and no
     * timer is needed. Order is kept: a loop's events leave in the order it made them. Bounded by what the sessions
     * may have waiting ({@code redis.max-pending}, {@link #busy}). Touched on its loop only.
     */
    private final class Outbox implements Runnable {
        final EventExecutor loop;
        private final ArrayList<AsyncCommand<String, String, Long>> commands = new ArrayList<>();
        private boolean queued;

        Outbox(EventExecutor loop) {
            this.loop = loop;
        }

        void add(AsyncCommand<String, String, Long> publish) {
            commands.add(publish);
            if (queued) {
                return;
            }
            queued = true;
            try {
                loop.execute(this);
            } catch (RejectedExecutionException stopping) {
                run(); // the loop is shutting down: send now rather than never
            }
        }

        @Override
        public void run() {
            queued = false;
            if (commands.isEmpty()) {
                return;
            }
            try {
                send(commands);
            } finally {
                commands.clear();
            }
        }
    }

    /** Why an event did not reach Redis: it was away when the event was to be written (counted as lost). */
    private static final class RedisUnavailable extends RuntimeException {
        RedisUnavailable(String address) {
            super("Redis at " + address + " is unreachable", null, false, false);
        }
    }

    @Override
    public String stats() {
        return "; Redis " + (up ? "up" : "unreachable") + ", events lost on the way to it " + lost.sum()
                + ", events sent to it " + batched.sum() + " in " + batches.sum() + " writes"
                + ", messages from other launchers dropped in rooms over max-room-backlog " + busyDropped.sum()
                + ", logins refused for want of its answer " + claimsFailed.sum() + ", dead launchers' memberships"
                + " announced " + announcedTimeouts.sum();
    }

    @Override
    public String busy() {
        int n = pending.get();
        if (n >= settings.maxPending()) {
            return n + " messages are waiting for Redis at " + settings.redisText() + " (it is slow), more than"
                    + " redis.max-pending (" + settings.maxPending() + ")";
        }
        return null;
    }

    @Override
    public CompletionStage<String> who(String room) {
        StatefulRedisConnection<String, String> c = connection;
        if (!up || c == null) {
            return CompletableFuture.completedFuture(presence.who(room)); // this launcher's view, during an outage
        }
        return c.async().hkeys(roomKey(room)).thenApply(list -> {
            First<String> names = new First<>(Presence.WHO_MAX_NAMES, Comparator.naturalOrder());
            list.forEach(names::offer);
            StringBuilder sb = new StringBuilder(room).append(' ').append(names.count());
            for (String name : names.sorted()) {
                sb.append(' ').append(name);
            }
            return sb.toString();
        });
    }

    @Override
    public CompletionStage<String> rooms() {
        StatefulRedisConnection<String, String> c = connection;
        if (!up || c == null) {
            return CompletableFuture.completedFuture(presence.rooms());
        }
        return c.async().hgetall(roomsKey).thenApply(all -> {
            First<String> names = new First<>(Presence.ROOMS_MAX, Comparator.naturalOrder());
            all.keySet().forEach(names::offer);
            StringBuilder sb = new StringBuilder().append(names.count());
            for (String name : names.sorted()) {
                sb.append(' ').append(name).append(':').append(all.get(name));
            }
            return sb.toString();
        });
    }

    /**
     * The daemon stopped (its users have left, each leave sent): removes this launcher's keys, then closes the
     * connections and lets go of Lettuce's resources (the loops and the wheel stay: they are the launcher's). Called
     * on a launcher thread, which may wait a moment for Redis (up to command-timeout for each of the two steps); on an
     * event loop it would not wait. What Redis does not get, the other launchers reap within the ttl.
     */
    @Override
    public void close() {
        closed = true;
        for (Timeout t : tasks) {
            t.cancel();
        }
        StatefulRedisConnection<String, String> c = connection;
        boolean registered = up;
        up = false;
        CompletableFuture<?> unregistered = registered && c != null
                ? c.async()
                        .evalsha(
                                sha(UNREGISTER),
                                ScriptOutputType.INTEGER,
                                new String[] {launcherKey, launchers, usersKey},
                                id)
                        .toCompletableFuture()
                : CompletableFuture.completedFuture(null);
        long waitMillis = settings.commandTimeout().toMillis();
        CompletableFuture<?> released = unregistered
                .handle((v, e) -> null)
                .thenCompose(v -> client.shutdownAsync(0, waitMillis, TimeUnit.MILLISECONDS))
                .handle((v, e) -> null)
                .thenCompose(v -> {
                    CompletableFuture<Boolean> r = new CompletableFuture<>();
                    resources.shutdown(0, waitMillis, TimeUnit.MILLISECONDS).addListener(f -> r.complete(true));
                    return r;
                });
        if (!control.inEventLoop() && !onOurLoop()) {
            try {
                released.get(2 * waitMillis + 1000, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                log.debug("closing the Redis connections did not finish in time", e);
            }
        }
    }

    private boolean onOurLoop() {
        for (io.netty.util.concurrent.EventExecutor e : loops) {
            if (e.inEventLoop()) {
                return true;
            }
        }
        return false;
    }

    /** Whether the broker is connected and registered (for tests and the stats line). */
    boolean isUp() {
        return up;
    }

    String channel(String room) {
        return prefix + ":room:" + room;
    }

    private String roomKey(String room) {
        return prefix + ":members:" + room;
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return String.valueOf(c.getMessage() != null ? c.getMessage() : c);
    }

    private static final Map<String, String> SHAS = new java.util.concurrent.ConcurrentHashMap<>();

    static String sha(String script) {
        return SHAS.computeIfAbsent(script, s -> {
            try {
                return HexFormat.of()
                        .formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JDK has no SHA-1", e);
            }
        });
    }
}
