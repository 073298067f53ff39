package dev.daemonkit.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
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
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The bots: N connections, each keeping {@code depth} requests in flight, for a duration or a number
 * of replies; a progress line each second and a summary at the end. Bounded: it always stops by
 * itself (at the latest 30 s after the planned end, if the server stops answering).
 */
public final class Bots {
    private final Settings settings;
    private final Mode mode;
    private final PrintStream out;
    private final Recorder recorder = new Recorder(3);
    private final LongAdder replies = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final AtomicLong budget;
    private volatile boolean measuring;
    private volatile boolean stopping;

    Bots(Settings settings, PrintStream out) {
        this.settings = settings;
        this.mode = Mode.MODES.get(settings.mode()).apply(settings);
        this.out = out;
        this.budget = new AtomicLong(settings.requests() > 0 ? settings.requests() : Long.MAX_VALUE);
    }

    public static void main(String[] args) throws Exception {
        if (PresenceBots.wanted(args)) {
            PresenceBots.main(args); // simulated users, not request/reply: its own driver and options
            return;
        }
        Settings settings;
        try {
            settings = Settings.parse(args);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().isEmpty()) {
                System.err.println("daemonkit-bench: " + e.getMessage());
            }
            System.err.print(Settings.USAGE);
            System.exit(e.getMessage().isEmpty() ? 0 : 2);
            return;
        }
        Result r = new Bots(settings, System.out).run();
        System.exit(r.connectFailures() > 0 && r.replies() == 0 ? 1 : 0);
    }

    /** What a run measured. Latencies in microseconds. */
    record Result(long replies, double seconds, long errors, long connectFailures, Histogram latency) {
        double perSecond() {
            return replies / seconds;
        }
    }

    Result run() throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                settings.threads(),
                new DefaultThreadFactory("bots", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try {
            if (mode instanceof MemcachedMode m && settings.preload()) {
                preload(group, epoll, m);
            }
            return load(group, epoll);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private Bootstrap bootstrap(EventLoopGroup group, boolean epoll) {
        return new Bootstrap()
                .group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000);
    }

    /** Sets every key once on one connection, so gets hit from the first second. */
    private void preload(EventLoopGroup group, boolean epoll, MemcachedMode m) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        Channel ch = bootstrap(group, epoll)
                .handler(new ChannelInboundHandlerAdapter() {
                    private int pending = m.keys();
                    private final long[] errs = new long[1];
                    private ByteBuf acc;

                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ByteBuf b = ctx.alloc().buffer();
                        for (int i = 0; i < m.keys(); i++) {
                            m.writeSet(b, i);
                            if (b.readableBytes() > 64 * 1024) {
                                ctx.write(b);
                                b = ctx.alloc().buffer();
                            }
                        }
                        ctx.writeAndFlush(b);
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf in = (ByteBuf) msg;
                        acc = acc == null ? in : Unpooled.wrappedBuffer(acc, in);
                        pending -= MemcachedMode.readReplies(acc, errs);
                        if (!acc.isReadable()) {
                            acc.release();
                            acc = null;
                        }
                        if (pending <= 0) {
                            ctx.close();
                            done.countDown();
                        }
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        if (acc != null) {
                            acc.release();
                            acc = null;
                        }
                        done.countDown();
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                })
                .connect(settings.target())
                .syncUninterruptibly()
                .channel();
        if (!done.await(60, TimeUnit.SECONDS)) {
            ch.close();
            out.println("preload did not finish within 60 s; going on");
        }
    }

    private Result load(EventLoopGroup group, boolean epoll) throws InterruptedException {
        AtomicReferenceArray<Channel> channels = new AtomicReferenceArray<>(settings.connections());
        LongAdder connectFailures = new LongAdder();
        CountDownLatch closed = new CountDownLatch(settings.connections());
        SslContext tls = settings.tls() ? clientTls() : null;
        for (int i = 0; i < settings.connections(); i++) {
            open(group, epoll, tls, i, channels, connectFailures, closed);
        }
        out.printf(
                Locale.ROOT,
                "bots: %s mode, %d connections to %s, depth %d, %s transport%n",
                settings.mode(),
                settings.connections(),
                settings.target(),
                settings.depth(),
                epoll ? "epoll" : "nio");

        long warmupNanos = settings.warmup().toNanos();
        if (warmupNanos > 0) {
            TimeUnit.NANOSECONDS.sleep(warmupNanos); // the main thread waits; the event loops work
        }
        recorder.reset();
        replies.reset();
        errors.reset();
        measuring = true;
        out.println("measuring"); // scripts read the server's CPU time from here on
        out.flush();
        Histogram total = new Histogram(3);
        Histogram interval = null;
        long start = System.nanoTime();
        long end = settings.requests() > 0
                ? Long.MAX_VALUE
                : start + settings.duration().toNanos();
        // Bounded whatever the server does: a silent server ends the run 30 s after its planned end
        // (with --requests, 2 minutes after the start).
        long hardStop =
                (settings.requests() > 0 ? start + TimeUnit.MINUTES.toNanos(2) : end) + TimeUnit.SECONDS.toNanos(30);
        long lastReplies = 0;
        int second = 0;
        while (true) {
            long now = System.nanoTime();
            long nextTick = start + TimeUnit.SECONDS.toNanos(second + 1);
            long until = Math.min(nextTick, end);
            if (until > now) {
                TimeUnit.NANOSECONDS.sleep(until - now);
            }
            interval = recorder.getIntervalHistogram(interval);
            total.add(interval);
            long n = replies.sum();
            boolean done = System.nanoTime() >= end
                    || (settings.requests() > 0 && n >= settings.requests())
                    || System.nanoTime() >= hardStop
                    || closed.getCount() == 0;
            if (System.nanoTime() >= nextTick - TimeUnit.MILLISECONDS.toNanos(1)) {
                second++;
                out.printf(
                        Locale.ROOT,
                        "%3ds %,12d req/s  p50 %6d us  p99 %6d us  max %7d us  errors %d%n",
                        second,
                        n - lastReplies,
                        interval.getValueAtPercentile(50),
                        interval.getValueAtPercentile(99),
                        interval.getMaxValue(),
                        errors.sum());
                lastReplies = n;
            }
            if (done) {
                break;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        measuring = false;
        stopping = true;
        long measured = replies.sum();
        total.add(recorder.getIntervalHistogram());
        for (int i = 0; i < channels.length(); i++) {
            Channel ch = channels.get(i);
            if (ch != null) {
                ch.close();
            }
        }
        closed.await(10, TimeUnit.SECONDS);
        Result r = new Result(measured, seconds, errors.sum(), connectFailures.sum(), total);
        out.printf(
                Locale.ROOT,
                "result: %,d requests in %.2f s = %,.0f req/s; latency us p50 %d p99 %d p99.9 %d max %d; "
                        + "errors %d; connect failures %d%n",
                r.replies(),
                r.seconds(),
                r.perSecond(),
                total.getValueAtPercentile(50),
                total.getValueAtPercentile(99),
                total.getValueAtPercentile(99.9),
                total.getMaxValue(),
                r.errors(),
                r.connectFailures());
        out.printf(
                Locale.ROOT,
                "RESULT mode=%s conns=%d depth=%d req_s=%.0f p50_us=%d p99_us=%d p999_us=%d max_us=%d " + "errors=%d%n",
                settings.mode(),
                settings.connections(),
                settings.depth(),
                r.perSecond(),
                total.getValueAtPercentile(50),
                total.getValueAtPercentile(99),
                total.getValueAtPercentile(99.9),
                total.getMaxValue(),
                r.errors());
        return r;
    }

    /**
     * Opens connection {@code id}; with --reconnect, its close opens the next one (until the run stops),
     * so {@code closed} counts the last of each slot.
     */
    private void open(
            EventLoopGroup group,
            boolean epoll,
            SslContext tls,
            int id,
            AtomicReferenceArray<Channel> channels,
            LongAdder connectFailures,
            CountDownLatch closed) {
        Bootstrap b = bootstrap(group, epoll).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (tls != null) {
                    // No peer host given: no session is resumed, each connection pays a full handshake.
                    ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                }
                ch.pipeline().addLast(new LoadConnection(id));
            }
        });
        ChannelFuture f = settings.sourceAddresses() > 1
                ? b.connect(settings.target(), source(id))
                : b.connect(settings.target());
        f.addListener(cf -> {
            if (!cf.isSuccess()) {
                connectFailures.increment();
            }
        });
        f.channel().closeFuture().addListener(cf -> {
            if (settings.reconnect() && !stopping) {
                open(group, epoll, tls, id, channels, connectFailures, closed);
            } else {
                closed.countDown();
            }
        });
        channels.set(id, f.channel());
    }

    /** A client context that trusts any server: the bots measure a server, they do not protect a secret. */
    private static SslContext clientTls() {
        try {
            return SslContextBuilder.forClient()
                    .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
                    .trustManager(InsecureTrustManagerFactory.INSTANCE)
                    .build();
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException("cannot make the bots' TLS context: " + e, e);
        }
    }

    /** Source address for connection i: 127.0.0.1, .2, ... up to --source-addresses (more than 64 K connections). */
    private InetSocketAddress source(int i) {
        int n = i % settings.sourceAddresses() + 1;
        try {
            return new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, (byte) (n >> 8), (byte) n}), 0);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One connection: keeps depth requests in flight, times each reply, flushes once per read. */
    private final class LoadConnection extends ChannelInboundHandlerAdapter {
        private final Mode.Session session;
        private final long[] sentAt;
        private int head;
        private int inFlight;
        private final long[] errs = new long[1];
        private ByteBuf acc;

        LoadConnection(int id) {
            session = mode.newSession(id);
            sentAt = new long[settings.depth()];
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ByteBuf b = ctx.alloc().buffer();
            for (int i = 0; i < settings.depth(); i++) {
                send(b);
            }
            ctx.writeAndFlush(b);
        }

        private boolean send(ByteBuf b) {
            // --requests counts measured requests only: warm-up requests are free.
            if (stopping || (measuring && budget.decrementAndGet() < 0)) {
                return false;
            }
            session.writeRequest(b);
            sentAt[(head + inFlight) % sentAt.length] = System.nanoTime();
            inFlight++;
            return true;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            if (acc == null) {
                acc = in;
            } else {
                acc.writeBytes(in);
                in.release();
            }
            int n = session.readReplies(acc, errs);
            if (n == 0) {
                keepTail(ctx);
                return;
            }
            long now = System.nanoTime();
            ByteBuf b = ctx.alloc().buffer();
            for (int i = 0; i < n && inFlight > 0; i++) {
                long latency = (now - sentAt[head]) / 1000;
                head = (head + 1) % sentAt.length;
                inFlight--;
                if (measuring) {
                    recorder.recordValue(Math.max(latency, 0));
                    replies.increment();
                }
                send(b);
            }
            if (measuring && errs[0] > 0) {
                errors.add(errs[0]);
            }
            errs[0] = 0;
            if (settings.reconnect()) {
                b.release();
                ctx.close(); // its close opens the next connection
                return;
            }
            if (b.isReadable()) {
                ctx.write(b);
            } else {
                b.release();
            }
            keepTail(ctx);
        }

        /** Keeps an incomplete reply for the next read, in a buffer of our own. */
        private void keepTail(ChannelHandlerContext ctx) {
            if (!acc.isReadable()) {
                acc.release();
                acc = null;
            } else if (acc.readerIndex() > 0 || !acc.isWritable()) {
                ByteBuf tail = ctx.alloc().buffer(Math.max(acc.readableBytes() * 2, 1024));
                tail.writeBytes(acc);
                acc.release();
                acc = tail;
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (acc != null) {
                acc.release();
                acc = null;
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
}
