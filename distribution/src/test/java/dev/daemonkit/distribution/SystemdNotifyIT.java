package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
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
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher run as systemd runs a {@code Type=notify} service with {@code WatchdogSec}: a receiver bound
 * where {@code NOTIFY_SOCKET} points gets the notifications through start, reload (HUP) and stop (TERM).
 * (A stalled loop withholding the keep-alives is {@code SystemdNotifyTest}'s, with a fake stall view.)
 */
class SystemdNotifyIT {
    @TempDir
    Path tmp;

    private final List<String> received = new CopyOnWriteArrayList<>();

    @Test
    void startReloadAndStopAreNotifiedInOrderWithKeepAlivesBetween() throws Exception {
        assumeTrue(Epoll.isAvailable(), "sd_notify needs the epoll transport (Linux)");
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (var launcher = new LauncherProcess(tmp)) {
            Path socket = tmp.resolve("notify");
            Channel receiver = bindReceiver(loop, socket);
            launcher.writeConfig("""
                    daemonkit.admin.listen = "127.0.0.1:%d"
                    daemons {
                      echo.listen = "127.0.0.1:%d"
                      daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                    }
                    """.formatted(
                            LauncherProcess.freePort(),
                            LauncherProcess.freePort(),
                            LauncherProcess.freePort(),
                            LauncherProcess.freePort()));
            launcher.env("NOTIFY_SOCKET", socket.toString()).env("WATCHDOG_USEC", "1000000");
            launcher.start().awaitStarted();
            await().atMost(Duration.ofSeconds(30)).until(() -> notifications().size() == 1);
            // Keep-alives every 500 ms (half of WATCHDOG_USEC) while the launcher runs.
            await().atMost(Duration.ofSeconds(30)).until(() -> keepAlives() >= 2);

            long beforeReload = TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
            launcher.signal("HUP");
            await().atMost(Duration.ofSeconds(30)).until(() -> notifications().size() == 3);
            long afterReload = TimeUnit.NANOSECONDS.toMicros(System.nanoTime());

            assertThat(launcher.terminate()).as(launcher::output).isZero();
            receiver.close().sync();

            List<String> n = notifications();
            assertThat(n).as(launcher::output).hasSize(4);
            assertThat(n.get(0)).isEqualTo("READY=1\nSTATUS=2 daemon(s) running");
            assertThat(n.get(1)).matches("RELOADING=1\nMONOTONIC_USEC=\\d+");
            // CLOCK_MONOTONIC is one clock for the whole machine: the reload began between HUP and READY=1.
            assertThat(Long.parseLong(n.get(1).substring(n.get(1).lastIndexOf('=') + 1)))
                    .isBetween(beforeReload, afterReload);
            assertThat(n.get(2)).isEqualTo("READY=1\nSTATUS=2 daemon(s) running");
            assertThat(n.get(3)).isEqualTo("STOPPING=1\nSTATUS=stopping: draining the daemons");
            assertThat(launcher.output())
                    .contains("systemd: notifying through NOTIFY_SOCKET=" + socket
                            + ", watchdog keep-alive every 500 ms");
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** What was received, without the keep-alives. */
    private List<String> notifications() {
        return received.stream().filter(m -> !m.equals("WATCHDOG=1")).toList();
    }

    private long keepAlives() {
        return received.stream().filter(m -> m.equals("WATCHDOG=1")).count();
    }

    private Channel bindReceiver(EventLoopGroup loop, Path path) throws InterruptedException {
        return new Bootstrap()
                .group(loop)
                .channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket p) {
                        received.add(p.content().toString(StandardCharsets.UTF_8));
                    }
                })
                .bind(new DomainSocketAddress(path.toString()))
                .sync()
                .channel();
    }
}
