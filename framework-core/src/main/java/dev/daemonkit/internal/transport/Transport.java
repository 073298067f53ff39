package dev.daemonkit.internal.transport;

import dev.daemonkit.internal.plugins.FrameworkThreads;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringAdaptiveBufferRingAllocator;
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event loops shared by all daemons: one acceptor thread and {@code io-threads} loops for
 * connections, on epoll where the native transport loads and NIO otherwise, or on io_uring when asked
 * for ({@code daemonkit.transport.native = io_uring}).
 */
public final class Transport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    /**
     * Ready sockets an epoll loop handles per turn, between which it runs its tasks and timers. Netty's
     * default array grows with the load (4,096 and up), so one turn could handle every one of 14,000
     * sockets an attacker closed at once: a 200-330 ms turn in which no other daemon's request, timer
     * or watchdog probe ran. 1,024 bounds a turn to a few tens of milliseconds; under high load it
     * costs one more epoll_wait per 1,024 events.
     */
    static final int MAX_EVENTS_PER_TURN = 1024;

    /** {@code daemonkit.timers.loop-slack}'s default in reference.conf, for transports made without settings (tests). */
    static final Duration DEFAULT_LOOP_SLACK = Duration.ofNanos(1_000);

    /** The one buffer group every io_uring loop registers, and every connection reads from. */
    static final short BUFFER_GROUP = 0;

    /**
     * Largest buffer the ring's adaptive allocator hands the kernel. Netty's default, 64 KiB, would let a
     * 512-buffer ring hold 32 MiB per loop once clients send big writes; 16 KiB keeps it at 8 MiB, and a
     * larger request is only read in more pieces.
     */
    static final int RING_BUFFER_MAX_BYTES = 16 * 1024;

    private final String kind;
    private final int ringBuffers; // 0: no buffer ring (not io_uring, or switched off)
    private final IoHandlerFactory io;
    private final LoopTimerSlack slack;
    private final Set<EventLoopGroup> daemonLoops = ConcurrentHashMap.newKeySet();
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final Class<? extends ServerChannel> serverChannel;
    private final Class<? extends DatagramChannel> datagramChannel;

    private Transport(
            String kind,
            IoHandlerFactory io,
            int ringBuffers,
            int threads,
            LoopTimerSlack slack,
            Class<? extends ServerChannel> serverChannel,
            Class<? extends DatagramChannel> datagramChannel) {
        this.kind = kind;
        this.ringBuffers = ringBuffers;
        this.io = io;
        this.slack = slack;
        // The acceptor waits for connections, not timers: it keeps the kernel's slack.
        this.acceptors = new MultiThreadIoEventLoopGroup(1, FrameworkThreads.factory("daemonkit-accept", false), io);
        this.workers = new MultiThreadIoEventLoopGroup(
                threads, slack.threads(FrameworkThreads.factory("daemonkit-io", false)), io);
        this.serverChannel = serverChannel;
        this.datagramChannel = datagramChannel;
    }

    /**
     * {@code wanted}: auto, epoll, io_uring or nio. Asking for epoll or io_uring where it is not available
     * falls back (io_uring to epoll, then NIO) with a warning that says why and what to do.
     *
     * @param inheritedSockets systemd passed listening sockets (LISTEN_FDS): Netty 4.2.18's io_uring
     *     server channel cannot be made from a descriptor, so io_uring gives way to epoll then
     * @param ringBuffers {@code daemonkit.transport.io-uring-buffer-ring}: buffers in each io_uring loop's
     *     provided buffer ring, a power of two up to 16,384 (Netty's ring size is a short), or 0 for none; ignored by epoll and NIO
     * @param loopSlack {@code daemonkit.timers.loop-slack}: the event loop threads' timer slack ({@link LoopTimerSlack})
     */
    public static Transport create(
            String wanted, int threads, boolean inheritedSockets, int ringBuffers, Duration loopSlack) {
        LoopTimerSlack slack = new LoopTimerSlack(loopSlack);
        warmAllocator();
        String kind = choose(wanted, inheritedSockets);
        int ring = kind.equals("io_uring") ? ringBuffers(ringBuffers) : 0;
        Transport t = switch (kind) {
            // Netty's defaults: a 128-entry submission ring and a 4,096-entry completion queue. Unlike epoll's
            // MAX_EVENTS_PER_TURN, no size bounds a turn here: a turn drains the completion queue up to 128 times
            // over while completions keep coming, and a full queue spills into the kernel's overflow list, which
            // the same turn drains too. 14,000 sockets closed at once are one turn, as on epoll before its bound
            // (docs/architecture.md, "Transport"): one reason io_uring is not what auto picks.
            case "io_uring" ->
                new Transport(
                        "io_uring",
                        IoUringIoHandler.newFactory(uringConfig(ring)),
                        ring,
                        threads,
                        slack,
                        IoUringServerSocketChannel.class,
                        IoUringDatagramChannel.class);
            case "epoll" ->
                new Transport(
                        "epoll",
                        EpollIoHandler.newFactory(MAX_EVENTS_PER_TURN, DefaultSelectStrategyFactory.INSTANCE),
                        0,
                        threads,
                        slack,
                        EpollServerSocketChannel.class,
                        EpollDatagramChannel.class);
            default ->
                new Transport(
                        "nio",
                        NioIoHandler.newFactory(),
                        0,
                        threads,
                        slack,
                        NioServerSocketChannel.class,
                        NioDatagramChannel.class);
        };
        log.info(
                "transport: {} with {} event loop thread(s){}",
                t.kind,
                threads,
                ring > 0 ? ", a provided buffer ring of " + ring + " buffers per loop" : "");
        return t;
    }

    /** {@link #create(String, int, boolean, int, Duration)} without inherited sockets or a buffer ring. */
    public static Transport create(String wanted, int threads) {
        return create(wanted, threads, false, 0);
    }

    /** {@link #create(String, int, boolean, int, Duration)} without a buffer ring. */
    public static Transport create(String wanted, int threads, boolean inheritedSockets) {
        return create(wanted, threads, inheritedSockets, 0);
    }

    /** {@link #create(String, int, boolean, int, Duration)} with the launcher's default loop slack. */
    public static Transport create(String wanted, int threads, boolean inheritedSockets, int ringBuffers) {
        return create(wanted, threads, inheritedSockets, ringBuffers, DEFAULT_LOOP_SLACK);
    }

    /** {@code wanted} buffers where this kernel can register a buffer ring (5.19+), else 0 with a warning. */
    private static int ringBuffers(int wanted) {
        if (wanted > 0 && !IoUring.isRegisterBufferRingSupported()) {
            log.warn(
                    "daemonkit.transport.io-uring-buffer-ring = {}, but this kernel cannot register a provided"
                            + " buffer ring (Linux 5.19 or later can); reading without one (a poll, then a recv, per read)."
                            + " Set it to 0 to silence this.",
                    wanted);
            return 0;
        }
        return wanted;
    }

    /**
     * With a ring, a connection's read is one multishot recv that the kernel fills from the loop's
     * shared buffers: one completion per arriving segment, and no POLLIN first, where without it each
     * read was a poll and a recv submitted and completed in Java (measured: about one submission and one
     * completion fewer per request at depth 1, but 40-50 B more allocated per request, so it is off by
     * default: docs/benchmarks.md, "The cache on io_uring"). The ring starts at 32 buffers and
     * grows (in 32s, up to {@code buffers}) only when the kernel ran out (ENOBUFS). A buffer handed to
     * the pipeline is a slice of one taken off the ring, which Netty refills at once, so connections
     * that hold unread data do not hold ring slots; what they hold is bounded by the daemons' inbound
     * limits. When all the buffers are in the completion queue at once (more connections with data in
     * one turn than buffers), the recvs that found none get ENOBUFS and Netty arms them again at once;
     * they are served as buffers come back (BufferRingOnIoUringTest).
     */
    private static IoUringIoHandlerConfig uringConfig(int buffers) {
        IoUringIoHandlerConfig config = new IoUringIoHandlerConfig();
        if (buffers > 0) {
            config.setBufferRingConfig(IoUringBufferRingConfig.builder()
                    .bufferGroupId(BUFFER_GROUP)
                    .bufferRingSize((short) buffers)
                    .batchSize(Math.min(32, buffers))
                    .allocator(new IoUringAdaptiveBufferRingAllocator(
                            ByteBufAllocator.DEFAULT,
                            IoUringAdaptiveBufferRingAllocator.DEFAULT_MINIMUM,
                            IoUringAdaptiveBufferRingAllocator.DEFAULT_INITIAL,
                            RING_BUFFER_MAX_BYTES))
                    .build());
        }
        return config;
    }

    /**
     * Sets what a new connection needs on this transport before it is registered with its loop: on
     * io_uring with a ring, the buffer group it reads from (read once, at registration).
     */
    public void prepareChild(Channel child) {
        if (ringBuffers > 0) {
            child.config().setOption(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, BUFFER_GROUP);
        }
    }

    /** Buffers in each io_uring loop's provided buffer ring; 0 without one. */
    public int ringBuffers() {
        return ringBuffers;
    }

    /** What {@code wanted} gets here: io_uring, epoll or nio; warns when that is not what was asked. */
    static String choose(String wanted, boolean inheritedSockets) {
        return choose(
                wanted,
                inheritedSockets,
                IoUring.isAvailable() ? null : IoUring.unavailabilityCause(),
                Epoll.isAvailable() ? null : Epoll.unavailabilityCause());
    }

    /** @param uringMissing why io_uring cannot load, null when it can; {@code epollMissing} likewise */
    static String choose(String wanted, boolean inheritedSockets, Throwable uringMissing, Throwable epollMissing) {
        if (wanted.equals("nio")) {
            return "nio";
        }
        boolean epoll = epollMissing == null;
        if (wanted.equals("io_uring")) {
            if (uringMissing != null) {
                log.warn(
                        "daemonkit.transport.native = io_uring, but io_uring is not available here ({}); using {}."
                                + " io_uring needs Linux 5.9 or later (Netty's minimum) with io_uring allowed (sysctl"
                                + " kernel.io_uring_disabled = 0, and no seccomp profile that blocks it, as Docker's"
                                + " default one does); or set daemonkit.transport.native = auto to silence this.",
                        uringMissing,
                        epoll ? "epoll" : "NIO (epoll is not available either: " + epollMissing + ")");
                return epoll ? "epoll" : "nio";
            }
            if (inheritedSockets && epoll) {
                log.warn("daemonkit.transport.native = io_uring, but systemd passed listening sockets (LISTEN_FDS) and"
                        + " Netty's io_uring transport cannot adopt a socket by its descriptor; using epoll, which"
                        + " can. To run on io_uring, let the daemons bind their addresses (no socket activation).");
                return "epoll";
            }
            return "io_uring";
        }
        if (wanted.equals("epoll") && !epoll) {
            log.warn(
                    "daemonkit.transport.native = epoll, but epoll is not available here ({}); using NIO",
                    String.valueOf(epollMissing));
        }
        return epoll ? "epoll" : "nio";
    }

    /**
     * Netty's first buffer chunk registers the allocator's JFR event types, which took 200-350 ms
     * here: paid now, on the starting thread, rather than by the event loop serving the first
     * clients (the stall watchdog saw it as a stall of every daemon on that loop).
     */
    private static void warmAllocator() {
        ByteBufAllocator.DEFAULT.directBuffer(64).release();
        ByteBufAllocator.DEFAULT.heapBuffer(64).release();
    }

    public String kind() {
        return kind;
    }

    public EventLoopGroup acceptors() {
        return acceptors;
    }

    public EventLoopGroup workers() {
        return workers;
    }

    /**
     * Event loops of one daemon's own ({@code daemons.NAME.io-threads}), on the same transport as the
     * shared ones: a noisy daemon put there cannot hold the loops the others share. The daemon shuts
     * them down when it has stopped.
     */
    public EventLoopGroup newDaemonLoops(String daemon, int threads) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                threads, slack.threads(FrameworkThreads.factory("daemonkit-" + daemon + "-io", false)), io);
        daemonLoops.add(group);
        group.terminationFuture().addListener(f -> daemonLoops.remove(group));
        return group;
    }

    /** The daemons' own event loop groups that are running now. */
    public Collection<EventLoopGroup> daemonLoops() {
        return List.copyOf(daemonLoops);
    }

    public Class<? extends ServerChannel> serverChannel() {
        return serverChannel;
    }

    public Class<? extends DatagramChannel> datagramChannel() {
        return datagramChannel;
    }

    /** Stops the loops; call after every daemon has stopped (Netty's own shutdown closes channels at once). */
    @Override
    public void close() {
        // Accepting ends before the loops that take the accepted connections: the admin endpoint still
        // listens here, and a connection accepted after the workers had gone was handed to a terminated
        // loop (Netty logged a RejectedExecutionException with its stack at ERROR; a CI run met it when
        // the stop command's client connected once more as the launcher stopped).
        acceptors.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        acceptors.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        for (EventLoopGroup own : daemonLoops()) {
            own.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
