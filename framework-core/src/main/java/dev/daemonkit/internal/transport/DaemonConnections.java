package dev.daemonkit.internal.transport;

import dev.daemonkit.api.DaemonStopping;
import dev.daemonkit.api.InboundLimitExceeded;
import dev.daemonkit.api.PipelineInitializer;
import dev.daemonkit.internal.config.DaemonSettings;
import dev.daemonkit.timers.Timers;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections of one daemon instance: accepts them (enforcing {@code max-connections} and the
 * process's {@link ConnectionBudget}), builds their pipelines (front handler, the protocol's handlers,
 * exception barrier), counts them and the bytes their decoders hold for incomplete requests, and
 * drains them when the daemon stops. Refusals are logged at most once per {@link #REPORT_EVERY_NANOS}
 * per kind, with how many there were since the last line: a flood must not flood the log as well.
 */
public final class DaemonConnections implements ConnectionOwner {
    private static final Logger log = LoggerFactory.getLogger(DaemonConnections.class);
    private static final AtomicLong NEXT_ID = new AtomicLong();

    private final String daemon;
    private volatile DaemonSettings settings;
    /** The front handlers' timers (idle, request deadline, drain): the daemon's scope, or a test's wheel. */
    private final Timers timers;
    /** The clock those timers and the front handlers' activity stamps use: System::nanoTime but in tests. */
    private final LongSupplier nanoClock;
    /**
     * Open connections, for the drain and the idle timeout: per event loop, a list through the front
     * handlers touched only on that loop ({@link LoopConnections}). Neither a ChannelGroup (a close
     * listener per connection) nor a concurrent set (~39 bytes per connection) nor an idle timer per
     * connection (32 bytes): a held connection costs two references in its front handler.
     */
    private final ConcurrentHashMap<EventExecutor, LoopConnections> loops = new ConcurrentHashMap<>();
    /**
     * With {@link #evictWhenFull()} only (the admin endpoint, a few connections): every connection and
     * when it was opened, readable from any loop to choose the one that gives its place.
     */
    private volatile ConcurrentHashMap<FrontHandler, Long> evictable;
    /** The write-buffer marks every connection gets: one object shared by all, not one each (24 bytes). */
    private volatile WriteBufferWaterMark waterMark;

    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder accepted = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    private final LongAdder refusedByBudget = new LongAdder();
    private final LongAdder deadlineClosed = new LongAdder();
    private final LongAdder inboundRefused = new LongAdder();
    final LongAdder ringExhausted = new LongAdder();
    /** Bytes the decoders of this daemon's connections hold for incomplete requests. */
    private final AtomicLong buffered = new AtomicLong();
    /** Replies held for connections that stopped reading them, capped by write-buffer.max-total. */
    private final StalledReplies stalledReplies = new StalledReplies();

    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private final ConnectionBudget budget;
    private final Report rejectedReport = new Report();
    private final Report budgetReport = new Report();
    private final Report deadlineReport = new Report();
    private final Report inboundReport = new Report();
    private final Report stalledReport = new Report();
    private volatile boolean draining;

    static final long REPORT_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final EventLoopGroup ownLoops;
    /** At max-connections, close the connection waiting longest for the new one instead of refusing it. */
    private volatile boolean evictWhenFull;
    /**
     * Where this owner's settings are in the config, for the log lines that say what to raise:
     * {@code daemons.NAME}, or {@code daemonkit.admin} for the admin endpoint.
     */
    private volatile String configPath;
    /** False when this owner's inbound limits are not configurable (the admin endpoint's). */
    private volatile boolean inboundConfigurable = true;

    private final LongAdder evicted = new LongAdder();

    /** @param budget the process's connection budget, shared by every daemon and the admin endpoint */
    public DaemonConnections(DaemonSettings settings, Timers timers, ConnectionBudget budget) {
        this(settings, timers, budget, null);
    }

    /** @param ownLoops the daemon's own event loops (its connections are registered there), or null */
    public DaemonConnections(DaemonSettings settings, Timers timers, ConnectionBudget budget, EventLoopGroup ownLoops) {
        this(settings, timers, System::nanoTime, budget, ownLoops);
    }

    /** @param nanoClock the clock of {@code timers}: a hand-moved one in tests */
    DaemonConnections(
            DaemonSettings settings,
            Timers timers,
            LongSupplier nanoClock,
            ConnectionBudget budget,
            EventLoopGroup ownLoops) {
        this.daemon = settings.name();
        this.configPath = "daemons." + daemon;
        this.settings = settings;
        this.timers = timers;
        this.nanoClock = nanoClock;
        this.budget = budget;
        this.ownLoops = ownLoops;
        this.waterMark = waterMarkOf(settings);
    }

    private static WriteBufferWaterMark waterMarkOf(DaemonSettings settings) {
        return new WriteBufferWaterMark(settings.writeBufferLow(), settings.writeBufferHigh());
    }

    @Override
    public EventLoopGroup eventLoops() {
        return ownLoops;
    }

    /**
     * For request/response endpoints such as admin, whose clients make a prompt request on a fresh
     * connection (probes, control commands): when full, a new connection takes the place of the
     * connection that has waited longest without finishing an exchange, the one whose {@link #waitingSince}
     * is oldest. A probe's request completes within milliseconds of its connection, so it is the last to
     * be chosen; connections trickling a request that never completes, or idle ones, are the first.
     * Otherwise a flood of either would lock the operator (and liveness probes) out: refusing the new
     * connection hands the endpoint to whoever holds it. Each full accept scans the connections (O(n)
     * in max-connections, 32 for admin): not for daemons with thousands.
     */
    public void evictWhenFull() {
        evictable = new ConcurrentHashMap<>();
        evictWhenFull = true;
    }

    /**
     * The config path of this owner's settings, named by the log lines that say what to raise
     * ({@code daemons.NAME} unless set); {@code inboundConfigurable} false: its inbound limits are fixed.
     */
    public void configPath(String path, boolean inboundConfigurable) {
        this.configPath = path;
        this.inboundConfigurable = inboundConfigurable;
    }

    /** Connections closed to make room for a new one ({@link #evictWhenFull()}). */
    public long evicted() {
        return evicted.sum();
    }

    /**
     * Since when a connection has held its place without finishing an exchange: with a request in
     * progress, since it was opened (a lower bound of its request's start, which this class does not
     * see: a keep-alive client is ranked so only during its request's few milliseconds); otherwise
     * since its last byte in or out (its last exchange, or its opening).
     */
    private static long waitingSince(FrontHandler f, long openedAt, long now) {
        long idle = f.idleFor(now);
        return idle < 0 ? openedAt : now - idle;
    }

    /**
     * Closes the connection that has waited longest ({@link #waitingSince}); false if there is none.
     * The victim is taken out of the set first, so two accepts on two loops never both count the same
     * place as theirs.
     */
    private boolean evictLongestWaiting() {
        Map<FrontHandler, Long> e = evictable;
        for (int attempt = 0; attempt < 4; attempt++) {
            long now = nanoTime();
            // The victim comes from the address holding the most connections: a client keeping every place busy
            // with quick requests on keep-alive connections (each "waiting since" just now) would otherwise have
            // a probe from elsewhere, idle for the milliseconds before its request, chosen at its next connect
            // (found in review). Then the one waiting longest among them.
            Map<java.net.InetAddress, Integer> perAddress = new java.util.HashMap<>();
            int most = 0;
            for (FrontHandler f : e.keySet()) {
                most = Math.max(most, perAddress.merge(addressOf(f), 1, Integer::sum));
            }
            FrontHandler oldest = null;
            long oldestSince = 0;
            for (Map.Entry<FrontHandler, Long> c : e.entrySet()) {
                if (perAddress.getOrDefault(addressOf(c.getKey()), 0) < most) {
                    continue;
                }
                long since = waitingSince(c.getKey(), c.getValue(), now);
                if (oldest == null || since - oldestSince < 0) {
                    oldest = c.getKey();
                    oldestSince = since;
                }
            }
            if (oldest == null) {
                return false;
            }
            if (e.remove(oldest) != null) {
                evicted.increment();
                oldest.channel().close();
                return true;
            }
        }
        return false;
    }

    /** The peer's address of a connection (null if unknown: all unknown ones count as one address). */
    private static java.net.InetAddress addressOf(FrontHandler f) {
        Channel ch = f.channel();
        return ch != null && ch.remoteAddress() instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
    }

    /**
     * A front handler's log text names settings as {@code daemons.NAME.KEY}; for an owner elsewhere in
     * the config (admin) the path is replaced, and fixed inbound limits are named without one.
     */
    private String withConfigPath(String what) {
        String path = configPath;
        String daemonsPath = "daemons." + daemon + ".";
        if (path.equals("daemons." + daemon) || !what.contains(daemonsPath)) {
            return what;
        }
        if (!inboundConfigurable) {
            what = what.replace(daemonsPath + "inbound.", "inbound.");
        }
        return what.replace(daemonsPath, path + ".");
    }

    /** Applies changed limits (reload): new connections get them; the idle timeout applies to all at their next check. */
    public void update(DaemonSettings changed) {
        waterMark = waterMarkOf(changed);
        settings = changed;
    }

    public String daemon() {
        return daemon;
    }

    Timers timers() {
        return timers;
    }

    long nanoTime() {
        return nanoClock.getAsLong();
    }

    /** The idle timeout now (a reload may change it). */
    public Duration idleTimeout() {
        return settings.idleTimeout();
    }

    long idleTimeoutNanos() {
        return settings.idleTimeout().toNanos();
    }

    long requestTimeoutNanos() {
        return settings.requestTimeout().toNanos();
    }

    DaemonSettings.Inbound inbound() {
        return settings.inbound();
    }

    long buffered() {
        return buffered.get();
    }

    void buffered(long delta) {
        buffered.addAndGet(delta);
    }

    /** Counts and reports a refused read; returns the exception the decoder raises. */
    InboundLimitExceeded inboundRefused(InboundLimitExceeded.Limit limit, long limitBytes, String what) {
        inboundRefused.increment();
        String named = withConfigPath(what);
        inboundReport.warn(() -> "daemon '" + daemon + "' refused input: " + named + "; the connection is closed."
                + (inboundConfigurable
                        ? " Raise " + configPath + ".inbound if such requests are expected."
                        : " These limits are fixed: no such request is expected."));
        return new InboundLimitExceeded(limit, limitBytes, "daemon '" + daemon + "' " + named);
    }

    /**
     * On {@code f}'s loop: a flush left it above its high-water mark with {@code pending} bytes of replies
     * unread. If the daemon's stalled connections now hold more than {@code write-buffer.max-total}, those
     * stalled longest are closed until the rest fit ({@link StalledReplies}).
     */
    void repliesStalled(FrontHandler f, long pending) {
        long max = settings.writeBufferMaxTotal();
        List<StalledReplies.Eviction> victims = stalledReplies.stalled(f, pending, max);
        for (StalledReplies.Eviction v : victims) {
            FrontHandler c = v.connection();
            Channel ch = c.channel();
            String peer = c.peer();
            stalledReport.warn(() -> "daemon '" + daemon + "': connection #" + c.id() + " from " + peer + " left "
                    + v.held() + " bytes of replies unread, and the connections that stopped reading held "
                    + v.totalBefore() + " bytes, over " + configPath + ".write-buffer.max-total (" + max
                    + " bytes): closed it, the one stalled longest. Many clients that ask and never read may be a"
                    + " flood; raise " + configPath + ".write-buffer.max-total if clients this slow are expected.");
            ch.close();
        }
    }

    /** {@code f} drained its replies below the low-water mark, or closed: its stalled bytes are given back. */
    void repliesResumed(FrontHandler f) {
        stalledReplies.resumed(f);
    }

    /** Bytes of replies the daemon holds for connections that stopped reading them (as of their last flush). */
    public long stalledReplyBytes() {
        return stalledReplies.total();
    }

    /** Connections charged as stalled now. */
    int stalledConnections() {
        return stalledReplies.count();
    }

    /** Connections closed because the replies held for stalled connections passed write-buffer.max-total. */
    public long stalledEvicted() {
        return stalledReplies.evicted();
    }

    /** Counts and reports a connection closed at its request deadline (the caller closes it). */
    void requestTimedOut(String what) {
        deadlineClosed.increment();
        deadlineReport.warn(() -> "daemon '" + daemon + "': " + withConfigPath(what) + ". Raise " + configPath
                + ".request-timeout if clients are this slow.");
    }

    /** Bytes this daemon's connections hold for incomplete requests now. */
    public long inboundBuffered() {
        return buffered.get();
    }

    /** Reads refused by the inbound limits (each closed its connection). */
    public long inboundRefused() {
        return inboundRefused.sum();
    }

    /**
     * Reads on io_uring that found the loop's provided buffer ring empty at its full size
     * ({@code daemonkit.transport.io-uring-buffer-ring}); each was armed again and served later.
     */
    public long ringExhausted() {
        return ringExhausted.sum();
    }

    /** Connections closed because a request did not complete within request-timeout. */
    public long deadlineClosed() {
        return deadlineClosed.sum();
    }

    /** Connections refused because the process's connection budget was spent. */
    public long refusedByBudget() {
        return refusedByBudget.sum();
    }

    public int maxConnections() {
        return settings.maxConnections();
    }

    /**
     * One kind of refusal's log line: the first at once, then at most one per {@link #REPORT_EVERY_NANOS}
     * saying how many happened since. Racy by design (two loops may both log once): it only thins lines.
     */
    private static final class Report {
        private volatile long lastNanos;
        private final LongAdder since = new LongAdder();

        void warn(Supplier<String> message) {
            long now = System.nanoTime();
            long last = lastNanos;
            if (last != 0 && now - last < REPORT_EVERY_NANOS) {
                since.increment();
                return;
            }
            lastNanos = now;
            long more = since.sumThenReset();
            log.warn(message.get()
                    + (more == 0
                            ? ""
                            : " (" + more + " more like it in the last "
                                    + TimeUnit.NANOSECONDS.toSeconds(REPORT_EVERY_NANOS) + " s)"));
        }
    }

    public int open() {
        return open.get();
    }

    public long accepted() {
        return accepted.sum();
    }

    public long rejected() {
        return rejected.sum();
    }

    public long bytesIn() {
        return bytesIn.sum();
    }

    public long bytesOut() {
        return bytesOut.sum();
    }

    @Override
    public void accept(Channel ch, PipelineInitializer protocol) {
        if (draining) {
            ch.close();
            return;
        }
        DaemonSettings settings = this.settings;
        // When full, an evicted connection's place goes to the new one at once (the count is one over until
        // the victim's close completes and gives its place back).
        boolean madeRoom = evictWhenFull && open.get() >= settings.maxConnections() && evictLongestWaiting();
        if (madeRoom) {
            rejectedReport.warn(() -> "'" + daemon + "' is full (" + settings.maxConnections() + " connections): closed"
                    + " the one waiting longest (idle, or in a request begun longest ago) to serve a new client."
                    + " Many idle or trickling connections may be a flood; raise " + configPath
                    + ".max-connections if that many clients are expected.");
        }
        if (open.incrementAndGet() > settings.maxConnections() && !madeRoom) {
            open.decrementAndGet();
            rejected.increment();
            int max = settings.maxConnections();
            rejectedReport.warn(() -> "daemon '" + daemon + "' refused a connection: max-connections (" + max
                    + ") reached. Raise " + configPath + ".max-connections (and the descriptor limit) if this load"
                    + " is expected.");
            ch.close();
            return;
        }
        if (!budget.tryAcquire()) {
            open.decrementAndGet();
            refusedByBudget.increment();
            budgetReport.warn(() ->
                    "daemon '" + daemon + "' refused a connection: the process holds its whole" + " connection budget ("
                            + budget.limit() + "). Raise ulimit -n, or lower the daemons' max-connections.");
            ch.close();
            return;
        }
        accepted.increment();
        ch.config().setOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark);
        shareReceiveAllocator(ch);
        FrontHandler front = new FrontHandler(this, NEXT_ID.incrementAndGet());
        ch.pipeline().addLast("daemonkit-front", front); // links itself into its loop's list (handlerAdded)
        Object previous = front.enter();
        try {
            protocol.initialize(ch.pipeline());
            ch.pipeline().addLast("daemonkit-barrier", ExceptionBarrier.INSTANCE);
        } catch (Throwable e) {
            log.error("daemon '{}': the protocol's pipeline initializer threw; closing the new connection", daemon, e);
            ch.close();
        } finally {
            front.exit(previous);
        }
    }

    /** On the connection's loop, once it is registered there: the connection joins its loop's list. */
    void opened(FrontHandler f, EventExecutor loop) {
        LoopConnections l = loops.get(loop);
        if (l == null) {
            l = loops.computeIfAbsent(loop, e -> new LoopConnections(this, e));
        }
        l.link(f);
        Map<FrontHandler, Long> e = evictable;
        if (e != null) {
            e.put(f, nanoTime());
        }
    }

    /**
     * Netty gives every channel its own {@link AdaptiveRecvByteBufAllocator}, a 32-byte configuration
     * object (the per-connection state is in the handle it makes): the default one is replaced by one
     * shared instance, as a {@code childOption} would, with a larger smallest guess (see
     * {@link #SMALLEST_READ}). A protocol that sets its own (in its initializer, which runs after this)
     * keeps it.
     */
    private static void shareReceiveAllocator(Channel ch) {
        RecvByteBufAllocator current = ch.config().getRecvByteBufAllocator();
        if (current != null && current.getClass() == AdaptiveRecvByteBufAllocator.class) {
            AdaptiveRecvByteBufAllocator adaptive = (AdaptiveRecvByteBufAllocator) current;
            if (adaptive.maxMessagesPerRead() == SHARED_RECEIVE.maxMessagesPerRead()
                    && adaptive.respectMaybeMoreData() == SHARED_RECEIVE.respectMaybeMoreData()) {
                ch.config().setRecvByteBufAllocator(SHARED_RECEIVE);
            }
        }
    }

    /**
     * The smallest buffer a read gets. Netty's adaptive guess shrinks to 64 bytes after a few small
     * requests, and then a request of 65 bytes or more that arrives whole (a cache's set of a 100-byte
     * value, 140 bytes) takes two reads: a second recvfrom, a second pass through the pipeline and a
     * copy into a merged buffer (measured with the cache daemon at depth 1: 1.06 recvfrom per request
     * where memcached makes 1.00, docs/benchmarks.md). A pooled buffer of 512 bytes costs what one of 64
     * does to take and give back, and only for the read. What a connection can hold is unchanged: a
     * connection's first read already gets {@link AdaptiveRecvByteBufAllocator#DEFAULT_INITIAL} (2,048)
     * bytes, and the inbound limits count what decoders hold.
     */
    static final int SMALLEST_READ = 512;

    /** Netty's default for a stream channel (adaptive sizes, 16 reads per readiness event) but {@link #SMALLEST_READ}. */
    static final AdaptiveRecvByteBufAllocator SHARED_RECEIVE =
            (AdaptiveRecvByteBufAllocator) new AdaptiveRecvByteBufAllocator(
                            SMALLEST_READ,
                            AdaptiveRecvByteBufAllocator.DEFAULT_INITIAL,
                            AdaptiveRecvByteBufAllocator.DEFAULT_MAXIMUM)
                    .maxMessagesPerRead(16);

    /** Called once per accepted connection, by its front handler, on its loop, when it has closed. */
    void closed(FrontHandler f) {
        LoopConnections l = loops.get(f.channel().eventLoop());
        if (l != null) {
            l.unlink(f);
        }
        Map<FrontHandler, Long> e = evictable;
        if (e != null) {
            e.remove(f);
        }
        budget.release();
        if (open.decrementAndGet() == 0 && draining) {
            drained.complete(null);
        }
    }

    /**
     * Starts draining: no new connections; each open one is told {@link DaemonStopping} and, when
     * {@code quiet} is given, closed once quiet (a stop); with {@code quiet} null it stays open until
     * its client closes it (a retired version during a hot swap). The future completes when all are
     * closed; the caller enforces the grace period with {@link #closeAll()}.
     */
    public CompletableFuture<Void> drain(Duration grace, Duration quiet) {
        draining = true;
        DaemonStopping event = new DaemonStopping(grace);
        long quietNanos = quiet == null ? -1 : quiet.toNanos();
        for (LoopConnections l : loops.values()) {
            try {
                l.onLoop(() -> l.startDrain(event, quietNanos));
            } catch (RejectedExecutionException loopGone) {
                // The loop has shut down: its connections are closed with it.
            }
        }
        if (open.get() == 0) {
            drained.complete(null);
        }
        return drained;
    }

    /** Closes every open connection now; returns how many were still open. */
    public int closeAll() {
        draining = true;
        int n = open.get();
        List<ChannelFuture> closing = new ArrayList<>();
        for (LoopConnections l : loops.values()) {
            if (l.loop.inEventLoop()) {
                l.closeAll(closing);
                continue;
            }
            List<ChannelFuture> onLoop = new ArrayList<>();
            try {
                // Each list is read on its own loop; waited for here (a stop runs off the loops).
                l.loop.submit(() -> l.closeAll(onLoop)).awaitUninterruptibly();
            } catch (RejectedExecutionException loopGone) {
                continue; // the loop has shut down: its connections are closed with it
            }
            closing.addAll(onLoop); // the future's completion publishes the list
        }
        for (ChannelFuture f : closing) {
            if (!f.channel().eventLoop().inEventLoop()) {
                f.awaitUninterruptibly();
            }
        }
        return n;
    }
}
