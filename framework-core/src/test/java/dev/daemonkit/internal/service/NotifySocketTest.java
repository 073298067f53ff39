package dev.daemonkit.internal.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real datagrams to a receiver bound where systemd's would be: a path, or a name in the abstract namespace. */
class NotifySocketTest {
    private EventLoopGroup loop;
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();

    @BeforeEach
    void epollOnly() {
        assumeTrue(Epoll.isAvailable(), "sd_notify needs the epoll transport (Linux)");
        loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterEach
    void closeLoop() {
        if (loop != null) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void deliversToASocketAtAPath(@TempDir Path dir) throws Exception {
        String path = dir.resolve("notify").toString();
        Channel receiver = bindReceiver(path);
        try (NotifySocket socket = NotifySocket.open(path)) {
            socket.send("READY=1\nSTATUS=1 daemon(s) running");
            socket.send("STOPPING=1");
        }
        assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("READY=1\nSTATUS=1 daemon(s) running");
        assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("STOPPING=1");
        receiver.close().sync();
    }

    @Test
    void deliversToAnAbstractSocketNamedWithAnAt() throws Exception {
        String name = "daemonkit-test-" + ThreadLocalRandom.current().nextLong(Long.MAX_VALUE);
        Channel receiver = bindReceiver("\0" + name);
        try (NotifySocket socket = NotifySocket.open("@" + name)) {
            socket.send("WATCHDOG=1");
        }
        assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("WATCHDOG=1");
        receiver.close().sync();
    }

    private Channel bindReceiver(String path) throws InterruptedException {
        return new Bootstrap()
                .group(loop)
                .channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket p) {
                        received.add(p.content().toString(StandardCharsets.UTF_8));
                    }
                })
                .bind(new DomainSocketAddress(path))
                .sync()
                .channel();
    }
}
