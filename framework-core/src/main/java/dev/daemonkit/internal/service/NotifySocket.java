package dev.daemonkit.internal.service;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The AF_UNIX datagram socket systemd names in {@code NOTIFY_SOCKET}. The JDK cannot send AF_UNIX
 * datagrams ({@code DatagramChannel.open(StandardProtocolFamily.UNIX)} throws on JDK 17), so this
 * uses Netty's epoll {@link EpollDomainDatagramChannel} on a loop of its own (one daemon thread):
 * the launcher's loops may be NIO ({@code daemonkit.transport.native}) or stalled, and a keep-alive
 * must not wait behind a stalled loop's tasks.
 */
final class NotifySocket implements SystemdNotify.Sender {
    private static final Logger log = LoggerFactory.getLogger(NotifySocket.class);

    private final EventLoopGroup loop;
    private final Channel channel;
    private final DomainSocketAddress target;
    private final String name;
    private final AtomicBoolean failureReported = new AtomicBoolean();

    private NotifySocket(EventLoopGroup loop, Channel channel, DomainSocketAddress target, String name) {
        this.loop = loop;
        this.channel = channel;
        this.target = target;
        this.name = name;
    }

    /**
     * @param notifySocket the value of {@code NOTIFY_SOCKET}: a path, or {@code @name} for a socket in
     *     the abstract namespace
     * @throws IllegalStateException when epoll is not available here (not Linux, or the native library did not load)
     */
    static NotifySocket open(String notifySocket) {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException(
                    "the epoll native transport is not available here (" + Epoll.unavailabilityCause() + ")");
        }
        // sd_notify(3): a leading '@' stands for the abstract namespace, whose names start with a NUL byte.
        String path = notifySocket.startsWith("@") ? "\0" + notifySocket.substring(1) : notifySocket;
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("daemonkit-notify", true), EpollIoHandler.newFactory());
        try {
            Channel channel = new Bootstrap()
                    .group(loop)
                    .channel(EpollDomainDatagramChannel.class)
                    // Never bound nor connected: each datagram names its target.
                    .option(ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
                    .handler(new ChannelInboundHandlerAdapter())
                    .register()
                    .syncUninterruptibly()
                    .channel();
            return new NotifySocket(loop, channel, new DomainSocketAddress(path), notifySocket);
        } catch (RuntimeException e) {
            loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    /** Any thread; never blocks. A failed send is logged once (systemd may have gone away). */
    @Override
    public void send(String message) {
        channel.writeAndFlush(new DomainDatagramPacket(Unpooled.copiedBuffer(message, StandardCharsets.UTF_8), target))
                .addListener(f -> {
                    if (!f.isSuccess() && failureReported.compareAndSet(false, true)) {
                        log.warn(
                                "cannot notify systemd through NOTIFY_SOCKET={}: {}. The launcher runs on; systemd may"
                                        + " time it out or restart it (Type=notify, WatchdogSec). Further failures are"
                                        + " not logged.",
                                name,
                                String.valueOf(f.cause()));
                    }
                });
    }

    /** Sends what was written before, then closes the socket and its loop. */
    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
