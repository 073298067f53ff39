package dev.daemonkit.internal.transport;

import dev.daemonkit.internal.plugins.FrameworkThreads;
import io.netty.buffer.ByteBufAllocator;
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
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event loops shared by all daemons: one acceptor thread and {@code io-threads} loops for
 * connections, on epoll where the native transport loads and NIO otherwise.
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

    private final String kind;
    private final IoHandlerFactory io;
    private final Set<EventLoopGroup> daemonLoops = ConcurrentHashMap.newKeySet();
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final Class<? extends ServerChannel> serverChannel;
    private final Class<? extends DatagramChannel> datagramChannel;

    private Transport(
            String kind,
            IoHandlerFactory io,
            int threads,
            Class<? extends ServerChannel> serverChannel,
            Class<? extends DatagramChannel> datagramChannel) {
        this.kind = kind;
        this.io = io;
        this.acceptors = new MultiThreadIoEventLoopGroup(1, FrameworkThreads.factory("daemonkit-accept", false), io);
        this.workers = new MultiThreadIoEventLoopGroup(threads, FrameworkThreads.factory("daemonkit-io", false), io);
        this.serverChannel = serverChannel;
        this.datagramChannel = datagramChannel;
    }

    /** {@code wanted}: auto, epoll or nio. Asking for epoll where it is not available falls back to NIO with a warning. */
    public static Transport create(String wanted, int threads) {
        warmAllocator();
        boolean epoll = !wanted.equals("nio") && Epoll.isAvailable();
        if (wanted.equals("epoll") && !epoll) {
            log.warn(
                    "daemonkit.transport.native = epoll, but epoll is not available here ({}); using NIO",
                    String.valueOf(Epoll.unavailabilityCause()));
        }
        Transport t = epoll
                ? new Transport(
                        "epoll",
                        EpollIoHandler.newFactory(MAX_EVENTS_PER_TURN, DefaultSelectStrategyFactory.INSTANCE),
                        threads,
                        EpollServerSocketChannel.class,
                        EpollDatagramChannel.class)
                : new Transport(
                        "nio",
                        NioIoHandler.newFactory(),
                        threads,
                        NioServerSocketChannel.class,
                        NioDatagramChannel.class);
        log.info("transport: {} with {} event loop thread(s)", t.kind, threads);
        return t;
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
                threads, FrameworkThreads.factory("daemonkit-" + daemon + "-io", false), io);
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
        acceptors.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        for (EventLoopGroup own : daemonLoops()) {
            own.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        acceptors.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
