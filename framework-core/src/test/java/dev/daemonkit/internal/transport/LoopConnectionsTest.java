package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.api.DaemonStopping;
import dev.daemonkit.api.PipelineInitializer;
import dev.daemonkit.internal.config.DaemonSettings;
import dev.daemonkit.timers.HierarchicalTimerWheel;
import dev.daemonkit.timers.TimerWheelSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-loop connection lists ({@link LoopConnections}) with real event loops (Netty's local
 * transport): the idle sweep, the drain and closeAll over connections on one and on several loops. The
 * timer wheel is driven from the test thread with a hand-moved clock, so every sweep also takes the
 * hop back to its loop.
 */
class LoopConnectionsTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final HierarchicalTimerWheel wheel = new HierarchicalTimerWheel(TimerWheelSettings.defaults(), clock::get);
    private final List<DefaultEventLoopGroup> groups = new ArrayList<>();
    private final List<Channel> servers = new ArrayList<>();

    private static DaemonSettings settings(Duration idle) {
        return new DaemonSettings(
                "loops-test",
                "loops-test",
                true,
                100,
                idle,
                Duration.ZERO,
                new DaemonSettings.Inbound(1024 * 1024, 64L * 1024 * 1024),
                32 * 1024,
                64 * 1024,
                64L * 1024 * 1024,
                new DaemonSettings.RestartPolicy(false, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO),
                0,
                Duration.ofSeconds(30));
    }

    @AfterEach
    void stop() throws Exception {
        for (Channel s : servers) {
            s.close().sync();
        }
        for (DefaultEventLoopGroup g : groups) {
            g.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** A local server on {@code loops} event loops whose connections {@code owner} accepts. */
    private LocalAddress serve(DaemonConnections owner, int loops, PipelineInitializer protocol) throws Exception {
        DefaultEventLoopGroup group = new DefaultEventLoopGroup(loops);
        groups.add(group);
        LocalAddress address = new LocalAddress("loops-test-" + System.nanoTime());
        servers.add(new ServerBootstrap()
                .group(group)
                .channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        owner.accept(ch, protocol);
                    }
                })
                .bind(address)
                .sync()
                .channel());
        return address;
    }

    private Channel connect(LocalAddress address) throws Exception {
        DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
        groups.add(group);
        return new Bootstrap()
                .group(group)
                .channel(LocalChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                    }
                })
                .connect(address)
                .sync()
                .channel();
    }

    private void advance(Duration d) {
        clock.addAndGet(d.toNanos());
        wheel.expire();
    }

    /** The server side of each accepted connection, in accept order. */
    private static PipelineInitializer recording(List<Channel> accepted, PipelineInitializer more) {
        return p -> {
            accepted.add(p.channel());
            more.initialize(p);
        };
    }

    @Test
    void anIdleSweepClosesTheIdleConnectionsOfItsLoopAndSkipsOneClosedDuringTheSweep() throws Exception {
        DaemonConnections owner = new DaemonConnections(
                settings(Duration.ofSeconds(5)), wheel, clock::get, new ConnectionBudget(100), null);
        List<Channel> accepted = new CopyOnWriteArrayList<>();
        AtomicInteger n = new AtomicInteger();
        // The third connection's protocol closes the first one when it is closed itself. A sweep visits
        // the newest first: the first is closed in the middle of the sweep, before the sweep reaches it.
        LocalAddress address = serve(owner, 1, recording(accepted, p -> {
            if (n.getAndIncrement() == 2) {
                p.addLast(new ChannelOutboundHandlerAdapter() {
                    @Override
                    public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
                        accepted.get(0).close();
                        super.close(ctx, promise);
                    }
                });
            }
        }));
        for (int i = 0; i < 3; i++) {
            connect(address);
        }
        await().atMost(10, TimeUnit.SECONDS).until(() -> owner.open() == 3 && accepted.size() == 3);
        Channel first = accepted.get(0);
        Channel second = accepted.get(1);
        Channel third = accepted.get(2);
        assertThat(first.eventLoop()).isSameAs(second.eventLoop()).isSameAs(third.eventLoop());

        advance(Duration.ofSeconds(3));
        second.eventLoop()
                .submit(() -> second.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER))
                .sync();
        advance(Duration.ofMillis(2_100)); // 5.1 s: the first has been idle 5 s; the second only 2.1 s
        await().atMost(10, TimeUnit.SECONDS).until(() -> !first.isOpen() && !third.isOpen() && owner.open() == 1);
        assertThat(second.isOpen()).isTrue();

        advance(Duration.ofMillis(2_800)); // 7.9 s: the second's deadline is 8 s
        second.eventLoop().submit(() -> {}).sync(); // any sweep that ran has finished
        assertThat(second.isOpen()).isTrue();
        advance(Duration.ofMillis(400)); // 8.3 s: within 1/16 of the timeout after its deadline
        await().atMost(10, TimeUnit.SECONDS).until(() -> !second.isOpen() && owner.open() == 0);
    }

    @Test
    void aDrainTellsConnectionsOnSeveralLoopsAndCompletesWhenClientsLeaveEvenOneLeavingDuringTheDrain()
            throws Exception {
        DaemonConnections owner =
                new DaemonConnections(settings(Duration.ZERO), wheel, clock::get, new ConnectionBudget(100), null);
        List<Channel> accepted = new CopyOnWriteArrayList<>();
        List<Object> told = new CopyOnWriteArrayList<>();
        Set<Channel> toldChannels = ConcurrentHashMap.newKeySet();
        LocalAddress address = serve(
                owner,
                2,
                recording(
                        accepted,
                        p -> p.addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                told.add(evt);
                                toldChannels.add(ctx.channel());
                            }
                        })));
        List<Channel> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(connect(address));
        }
        await().atMost(10, TimeUnit.SECONDS).until(() -> owner.open() == 4 && accepted.size() == 4);
        Set<Object> loops = ConcurrentHashMap.newKeySet();
        accepted.forEach(ch -> loops.add(ch.eventLoop()));
        assertThat(loops).hasSize(2);

        clients.get(0).close(); // leaves as the drain begins
        CompletableFuture<Void> drained = owner.drain(Duration.ofSeconds(10), null); // a hot swap: stay open
        // Accepted channels are recorded on two loops, so their order is not the clients' order: wait until each
        // server side was either told or closed (the one whose client left may be closed before the drain reaches it).
        await().atMost(10, TimeUnit.SECONDS)
                .until(() -> accepted.stream().allMatch(ch -> toldChannels.contains(ch) || !ch.isOpen()));
        assertThat(told).allMatch(e -> e.equals(new DaemonStopping(Duration.ofSeconds(10))));
        assertThat(drained).isNotDone();
        for (Channel c : clients) {
            c.close().sync();
        }
        drained.get(10, TimeUnit.SECONDS);
        assertThat(owner.open()).isZero();
    }

    @Test
    void closeAllClosesTheConnectionsOfEveryLoopAndNewOnesAreRefusedAfterward() throws Exception {
        DaemonConnections owner =
                new DaemonConnections(settings(Duration.ZERO), wheel, clock::get, new ConnectionBudget(100), null);
        List<Channel> accepted = new CopyOnWriteArrayList<>();
        LocalAddress address = serve(owner, 2, recording(accepted, p -> {}));
        for (int i = 0; i < 5; i++) {
            connect(address);
        }
        await().atMost(10, TimeUnit.SECONDS).until(() -> owner.open() == 5);
        assertThat(owner.closeAll()).isEqualTo(5);
        assertThat(accepted).noneMatch(Channel::isOpen);
        await().atMost(10, TimeUnit.SECONDS).until(() -> owner.open() == 0);

        Channel late = connect(address); // a client after the stop: closed at once
        await().atMost(10, TimeUnit.SECONDS).until(() -> !late.isOpen());
        assertThat(owner.open()).isZero();
    }

    @Test
    void tcpConnectionsShareTheDaemonsWriteMarksAndReceiveAllocatorButAProtocolsOwnAllocatorIsKept() throws Exception {
        DaemonConnections owner =
                new DaemonConnections(settings(Duration.ZERO), wheel, clock::get, new ConnectionBudget(100), null);
        List<Channel> accepted = new CopyOnWriteArrayList<>();
        AdaptiveRecvByteBufAllocator own = new AdaptiveRecvByteBufAllocator(64, 1024, 65536);
        AtomicInteger n = new AtomicInteger();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel server = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            owner.accept(ch, recording(accepted, p -> {
                                if (n.getAndIncrement() == 2) {
                                    p.channel().config().setRecvByteBufAllocator(own); // the protocol's choice
                                }
                            }));
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0))
                    .sync()
                    .channel();
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Socket s = new Socket();
                    s.connect(server.localAddress(), 5_000);
                    clients.add(s);
                }
                await().atMost(10, TimeUnit.SECONDS).until(() -> accepted.size() == 3);
                ChannelConfig first = accepted.get(0).config();
                ChannelConfig second = accepted.get(1).config();
                assertThat((Object) second.getRecvByteBufAllocator()).isSameAs(first.getRecvByteBufAllocator());
                assertThat(second.getWriteBufferWaterMark()).isSameAs(first.getWriteBufferWaterMark());
                assertThat(first.getWriteBufferWaterMark().high()).isEqualTo(64 * 1024);
                assertThat((Object) accepted.get(2).config().getRecvByteBufAllocator())
                        .isSameAs(own);
            } finally {
                for (Socket s : clients) {
                    s.close();
                }
                server.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
