package dev.daemonkit.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The presence mode of the bots: N simulated users of the presence daemon's line protocol log in,
 * join a room each, chat at a set rate and ping; a share of them goes silent after joining and must
 * be dropped by the server's heartbeat. Measures messages delivered per second, the delivery latency
 * from a SAY to its receipt by another user (p50/p99/max, HdrHistogram), lost messages and errors.
 *
 * <p>Phases: connect and log in (ramped), then {@code --duration} of chat (the measured window),
 * then a drain of 2 s with no new messages, after which every message sent in the window must have
 * reached every other member of its room who stayed online. Bounded: stops by itself.
 */
final class PresenceBots {
    static final String USAGE = """
            Usage: daemonkit-bench --mode presence [options]   simulated users of the presence daemon
              --target HOST:PORT[,...]   the line protocol, loopback only (default 127.0.0.1:7100); with
                                         several (launchers sharing one Redis), each room's users are
                                         spread over them, and cross-launcher latency is reported apart
              --users N                  simulated users (default 10000)
              --room-size N              users per room (default 20)
              --chat-rate R              messages per second per user (default 0.1)
              --ping-interval D          each user pings this often (default 10s)
              --silent R                 share of users that go silent after joining (default 0.01)
              --duration D               how long to chat and measure, e.g. 60s or 10m (default 30s)
              --warmup D                 chat this long before the window opens, not measured (default 1s:
                                         every user's chat timer is running); longer leaves the servers'
                                         JIT warm-up out of the window
              --login-timeout D          longest wait for every user to log in (default 120s)
              --threads N                event loop threads of the bots (default 1)
              --source-addresses N       spread users over 127.0.0.1..N as source (default 1; use 2 or
                                         more above ~28000 users: one address has ~28 K ephemeral ports)
              --report D                 progress line interval (default 1s)
            Prints a progress line per interval and a summary (RESULT ...); stops by itself.
            """;

    record Options(
            List<InetSocketAddress> targets,
            int users,
            int roomSize,
            double chatRate,
            Duration pingInterval,
            double silent,
            Duration duration,
            Duration warmup,
            Duration loginTimeout,
            int threads,
            int sourceAddresses,
            Duration report) {
        int rooms() {
            return (users + roomSize - 1) / roomSize;
        }

        /** User i joins room i % rooms; the k-th user of a room connects to target k % targets. */
        int targetOf(long user) {
            return (int) ((user / rooms()) % targets.size());
        }

        InetSocketAddress target() {
            return targets.get(0);
        }
    }

    private final Options o;
    private final PrintStream out;
    private final Recorder latency = new Recorder(3);
    /** Deliveries from a user on another target (launcher) than the receiver's. */
    private final Recorder crossLatency = new Recorder(3);

    private final LongAdder delivered = new LongAdder(); // MSG events received by a user other than the sender
    private final LongAdder sent = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder loggedIn = new LongAdder();
    private final LongAdder unexpectedCloses = new LongAdder();
    private final LongAdder silentDropped = new LongAdder();
    private final LongAdder timeoutEvents = new LongAdder();
    private final LongAdder connectFailures = new LongAdder();
    /** Per room: messages sent in the measured window, and their receipts by others in the window. */
    private final AtomicLongArray windowSent;

    private final AtomicLongArray windowReceived;
    private final int[] stayers; // per room: users who chat (never silent)
    private volatile boolean chatting;
    private volatile long windowId; // messages carry it: 1 = measured window; 0 = before or after
    private volatile boolean stopping;

    PresenceBots(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
        windowSent = new AtomicLongArray(o.rooms());
        windowReceived = new AtomicLongArray(o.rooms());
        stayers = new int[o.rooms()];
        for (int i = 0; i < o.users(); i++) {
            if (!isSilent(i)) {
                stayers[i % o.rooms()]++;
            }
        }
    }

    /** Every k-th user is silent, spread evenly over the rooms. */
    private boolean isSilent(int user) {
        if (o.silent() <= 0) {
            return false;
        }
        int every = (int) Math.max(1, Math.round(1 / o.silent()));
        return user % every == every - 1;
    }

    /** True if the command line asks for {@code --mode presence}. */
    static boolean wanted(String[] args) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--mode") && args[i + 1].equals("presence")) {
                return true;
            }
        }
        return false;
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().isEmpty()) {
                System.err.println("daemonkit-bench: " + e.getMessage());
            }
            System.err.print(USAGE);
            System.exit(e.getMessage().isEmpty() ? 0 : 2);
            return;
        }
        Result r = new PresenceBots(o, System.out).run();
        System.exit(r.loggedIn() == 0 ? 1 : 0);
    }

    /** What a run measured. Latencies in microseconds. */
    record Result(
            long loggedIn,
            long sent,
            long delivered,
            double seconds,
            long lost,
            long errors,
            long unexpectedCloses,
            long silentDropped,
            long connectFailures,
            Histogram latency) {
        double deliveredPerSecond() {
            return delivered / seconds;
        }
    }

    Result run() throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                o.threads(),
                new DefaultThreadFactory("bots", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try {
            return load(group, epoll);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private Result load(EventLoopGroup group, boolean epoll) throws InterruptedException {
        int silentCount = 0;
        for (int i = 0; i < o.users(); i++) {
            silentCount += isSilent(i) ? 1 : 0;
        }
        out.printf(
                Locale.ROOT,
                "bots: presence mode, %d users (%d go silent) in %d rooms of %d, %.3f msg/s per user,"
                        + " ping every %s, to %s, %d source addresses, %s transport%n",
                o.users(),
                silentCount,
                o.rooms(),
                o.roomSize(),
                o.chatRate(),
                o.pingInterval(),
                o.targets(),
                o.sourceAddresses(),
                epoll ? "epoll" : "nio");
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000);
        List<Channel> channels = new ArrayList<>(o.users());
        Semaphore connecting = new Semaphore(256); // ramp: the server's accept backlog is finite
        long loginStart = System.nanoTime();
        for (int i = 0; i < o.users(); i++) {
            int id = i;
            connecting.acquire();
            var f = b.clone()
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new LineBasedFrameDecoder(64 * 1024), new User(id));
                        }
                    })
                    .connect(o.targets().get(o.targetOf(i)), source(i));
            f.addListener(cf -> {
                connecting.release();
                if (!cf.isSuccess()) {
                    connectFailures.increment();
                }
            });
            channels.add(f.channel());
        }
        long loginDeadline = loginStart + o.loginTimeout().toNanos();
        while (loggedIn.sum() + connectFailures.sum() < o.users() && System.nanoTime() < loginDeadline) {
            TimeUnit.MILLISECONDS.sleep(100);
        }
        out.printf(
                Locale.ROOT,
                "logged in: %d of %d users in %.1f s; connect failures %d%n",
                loggedIn.sum(),
                o.users(),
                (System.nanoTime() - loginStart) / 1e9,
                connectFailures.sum());

        chatting = true;
        TimeUnit.NANOSECONDS.sleep(o.warmup().toNanos()); // every user's chat timer is running before the window opens
        latency.reset();
        crossLatency.reset();
        delivered.reset();
        sent.reset();
        windowId = 1;
        long start = System.nanoTime();
        long end = start + o.duration().toNanos();
        Histogram total = new Histogram(3);
        Histogram cross = new Histogram(3);
        Histogram interval = null;
        long lastDelivered = 0;
        long lastSent = 0;
        long tick = o.report().toNanos();
        for (long next = start + tick; ; next += tick) {
            long now = System.nanoTime();
            long until = Math.min(next, end);
            if (until > now) {
                TimeUnit.NANOSECONDS.sleep(until - now);
            }
            interval = latency.getIntervalHistogram(interval);
            total.add(interval);
            long d = delivered.sum();
            long s = sent.sum();
            double secs = tick / 1e9;
            out.printf(
                    Locale.ROOT,
                    "%6.0fs sent %,8.0f msg/s  delivered %,9.0f msg/s  latency p50 %6d us  p99 %6d us"
                            + "  max %7d us  online %d  errors %d%n",
                    (System.nanoTime() - start) / 1e9,
                    (s - lastSent) / secs,
                    (d - lastDelivered) / secs,
                    interval.getValueAtPercentile(50),
                    interval.getValueAtPercentile(99),
                    interval.getMaxValue(),
                    loggedIn.sum() - silentDropped.sum() - unexpectedCloses.sum(),
                    errors.sum());
            lastDelivered = d;
            lastSent = s;
            if (System.nanoTime() >= end) {
                break;
            }
        }
        windowId = 0;
        double seconds = (System.nanoTime() - start) / 1e9;
        chatting = false;
        TimeUnit.SECONDS.sleep(2); // drain: messages of the window still on their way
        total.add(latency.getIntervalHistogram());
        cross.add(crossLatency.getIntervalHistogram());
        long lost = 0;
        for (int r = 0; r < o.rooms(); r++) {
            long expected = windowSent.get(r) * Math.max(0, stayers[r] - 1);
            lost += Math.max(0, expected - windowReceived.get(r));
        }
        stopping = true;
        for (Channel ch : channels) {
            ch.close();
        }
        for (Channel ch : channels) {
            ch.closeFuture().await(5, TimeUnit.SECONDS);
        }
        Result r = new Result(
                loggedIn.sum(),
                sent.sum(),
                delivered.sum(),
                seconds,
                lost,
                errors.sum(),
                unexpectedCloses.sum(),
                silentDropped.sum(),
                connectFailures.sum(),
                total);
        out.printf(
                Locale.ROOT,
                "result: %,d users, %,d messages sent, %,d delivered to other users in %.1f s = %,.0f msg/s;"
                        + " delivery latency us p50 %d p99 %d p99.9 %d max %d; lost %d; errors %d; unexpected closes %d;"
                        + " silent users dropped %d (room saw %d TIMEOUT events); connect failures %d%n",
                r.loggedIn(),
                r.sent(),
                r.delivered(),
                seconds,
                r.deliveredPerSecond(),
                total.getValueAtPercentile(50),
                total.getValueAtPercentile(99),
                total.getValueAtPercentile(99.9),
                total.getMaxValue(),
                lost,
                r.errors(),
                r.unexpectedCloses(),
                r.silentDropped(),
                timeoutEvents.sum(),
                r.connectFailures());
        if (o.targets().size() > 1) {
            out.printf(
                    Locale.ROOT,
                    "cross-launcher: %,d deliveries from a user of another target, latency us p50 %d p99 %d p99.9 %d"
                            + " max %d%n",
                    cross.getTotalCount(),
                    cross.getValueAtPercentile(50),
                    cross.getValueAtPercentile(99),
                    cross.getValueAtPercentile(99.9),
                    cross.getMaxValue());
        }
        out.printf(
                Locale.ROOT,
                "RESULT mode=presence users=%d delivered_s=%.0f p50_us=%d p99_us=%d max_us=%d lost=%d "
                        + "errors=%d unexpected_closes=%d silent_dropped=%d cross_p50_us=%d cross_p99_us=%d"
                        + " cross_max_us=%d%n",
                r.loggedIn(),
                r.deliveredPerSecond(),
                total.getValueAtPercentile(50),
                total.getValueAtPercentile(99),
                total.getMaxValue(),
                lost,
                r.errors(),
                r.unexpectedCloses(),
                r.silentDropped(),
                cross.getValueAtPercentile(50),
                cross.getValueAtPercentile(99),
                cross.getMaxValue());
        return r;
    }

    private InetSocketAddress source(int i) {
        int n = i % o.sourceAddresses() + 1;
        try {
            return new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, (byte) (n >> 8), (byte) n}), 0);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final byte[] EVENT_MSG = "EVENT MSG ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVENT_TIMEOUT = "EVENT TIMEOUT ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ERR = "ERR ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BYE_TIMEOUT = "BYE timeout".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OK_JOIN = "OK JOIN ".getBytes(StandardCharsets.US_ASCII);

    /** One simulated user, on one event loop. Sends {@code SAY ROOM w=WINDOW t=NANOS u=ID}. */
    private final class User extends ChannelInboundHandlerAdapter {
        private final int id;
        private final int target;
        private final int room;
        private final boolean silent;
        private final byte[] sender;
        private ScheduledFuture<?> chat;
        private ScheduledFuture<?> ping;
        private boolean byeTimeout;

        User(int id) {
            this.id = id;
            this.target = o.targetOf(id);
            this.room = id % o.rooms();
            this.silent = isSilent(id);
            this.sender = (" u" + id + " ").getBytes(StandardCharsets.US_ASCII);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(ctx.alloc()
                    .buffer()
                    .writeBytes(("LOGIN u" + id + "\nJOIN r" + room + "\n").getBytes(StandardCharsets.US_ASCII)));
            if (silent) {
                return;
            }
            ThreadLocalRandom random = ThreadLocalRandom.current();
            long pingNanos = o.pingInterval().toNanos();
            ping = ctx.executor()
                    .scheduleAtFixedRate(
                            () -> ctx.writeAndFlush(
                                    ctx.alloc().buffer(6).writeBytes("PING\n".getBytes(StandardCharsets.US_ASCII))),
                            random.nextLong(pingNanos),
                            pingNanos,
                            TimeUnit.NANOSECONDS);
            if (o.chatRate() > 0) {
                long period = (long) (1e9 / o.chatRate());
                chat = ctx.executor()
                        .scheduleAtFixedRate(() -> say(ctx), random.nextLong(period), period, TimeUnit.NANOSECONDS);
            }
        }

        private void say(ChannelHandlerContext ctx) {
            if (!chatting || stopping) {
                return;
            }
            long w = windowId;
            ByteBuf b = ctx.alloc().buffer(64);
            b.writeCharSequence(
                    "SAY r" + room + " w=" + w + " t=" + System.nanoTime() + " u" + id + " hello\n",
                    StandardCharsets.US_ASCII);
            ctx.writeAndFlush(b);
            sent.increment();
            if (w == 1) {
                windowSent.incrementAndGet(room);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf line = (ByteBuf) msg;
            try {
                if (startsWith(line, EVENT_MSG)) {
                    onMessage(line);
                } else if (startsWith(line, OK_JOIN)) {
                    loggedIn.increment();
                } else if (startsWith(line, EVENT_TIMEOUT)) {
                    timeoutEvents.increment();
                } else if (startsWith(line, BYE_TIMEOUT)) {
                    byeTimeout = true;
                } else if (startsWith(line, ERR)) {
                    errors.increment();
                }
            } finally {
                line.release();
            }
        }

        private void onMessage(ByteBuf line) {
            long now = System.nanoTime();
            int wAt = indexOf(line, " w=");
            int tAt = indexOf(line, " t=");
            if (wAt < 0 || tAt < 0) {
                errors.increment();
                return;
            }
            if (contains(line, sender)) {
                return; // our own message back: not a delivery to another user
            }
            long sentAt = parseLong(line, tAt + 3);
            delivered.increment();
            long micros = Math.max(0, (now - sentAt) / 1000);
            latency.recordValue(micros);
            if (o.targets().size() > 1) {
                int uAt = indexOf(line, " u"); // EVENT MSG rROOM uSENDER ...: the sender's name comes first
                if (uAt >= 0 && o.targetOf(parseLong(line, uAt + 2)) != target) {
                    crossLatency.recordValue(micros);
                }
            }
            if (line.getByte(wAt + 3) == '1') {
                windowReceived.incrementAndGet(room);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (chat != null) {
                chat.cancel(false);
            }
            if (ping != null) {
                ping.cancel(false);
            }
            if (stopping) {
                return;
            }
            if (silent && byeTimeout) {
                silentDropped.increment();
            } else {
                unexpectedCloses.increment();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!stopping) {
                errors.increment();
            }
            ctx.close();
        }
    }

    private static boolean startsWith(ByteBuf line, byte[] prefix) {
        if (line.readableBytes() < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (line.getByte(line.readerIndex() + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(ByteBuf line, String needle) {
        outer:
        for (int i = line.readerIndex(); i <= line.writerIndex() - needle.length(); i++) {
            for (int j = 0; j < needle.length(); j++) {
                if (line.getByte(i + j) != needle.charAt(j)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static boolean contains(ByteBuf line, byte[] needle) {
        outer:
        for (int i = line.readerIndex(); i <= line.writerIndex() - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (line.getByte(i + j) != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static long parseLong(ByteBuf line, int at) {
        long v = 0;
        boolean negative = line.getByte(at) == '-';
        for (int i = negative ? at + 1 : at; i < line.writerIndex(); i++) {
            byte c = line.getByte(i);
            if (c < '0' || c > '9') {
                break;
            }
            v = v * 10 + (c - '0');
        }
        return negative ? -v : v;
    }

    static Options parse(String[] args) {
        String target = "127.0.0.1:7100";
        int users = 10_000;
        int roomSize = 20;
        double chatRate = 0.1;
        Duration ping = Duration.ofSeconds(10);
        double silent = 0.01;
        Duration duration = Duration.ofSeconds(30);
        Duration warmup = Duration.ofSeconds(1);
        Duration loginTimeout = Duration.ofSeconds(120);
        int threads = 1;
        int sources = 1;
        Duration report = Duration.ofSeconds(1);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                throw new IllegalArgumentException("");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--mode" -> {
                    if (!v.equals("presence")) {
                        throw new IllegalArgumentException("--mode " + v + ": this is the presence mode");
                    }
                }
                case "--target" -> target = v;
                case "--users" -> users = Settings.positive(a, v);
                case "--room-size" -> roomSize = Settings.positive(a, v);
                case "--chat-rate" -> chatRate = fraction(a, v, 1000);
                case "--ping-interval" -> ping = Settings.duration(a, v);
                case "--silent" -> silent = fraction(a, v, 1);
                case "--duration" -> duration = Settings.duration(a, v);
                case "--warmup" -> warmup = Settings.duration(a, v);
                case "--login-timeout" -> loginTimeout = Settings.duration(a, v);
                case "--threads" -> threads = Settings.positive(a, v);
                case "--source-addresses" -> sources = Settings.positive(a, v);
                case "--report" -> report = Settings.duration(a, v);
                default -> throw new IllegalArgumentException("unknown option " + a + " for --mode presence");
            }
        }
        if (warmup.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException(
                    "--warmup " + warmup.toMillis() + " ms is too short: every user's chat timer"
                            + " must be running before the window opens; give 1s or more");
        }
        if (ping.isZero() || report.isZero()) {
            throw new IllegalArgumentException("--ping-interval and --report must be longer than 0");
        }
        List<InetSocketAddress> targets = new ArrayList<>();
        for (String t : target.split(",")) {
            targets.add(Settings.loopback(t.strip()));
        }
        return new Options(
                List.copyOf(targets),
                users,
                roomSize,
                chatRate,
                ping,
                silent,
                duration,
                warmup,
                loginTimeout,
                threads,
                sources,
                report);
    }

    private static double fraction(String option, String v, double max) {
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " " + v + " is not a number");
        }
        if (d < 0 || d > max) {
            throw new IllegalArgumentException(option + " " + v + " must be between 0 and " + max);
        }
        return d;
    }
}
