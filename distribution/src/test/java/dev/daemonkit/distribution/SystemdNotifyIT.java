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
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher run as systemd runs a {@code Type=notify} service with {@code WatchdogSec}: a receiver bound
 * where {@code NOTIFY_SOCKET} points gets the notifications through start, a stalled event loop (a plugin
 * compiled here sleeps on it), reload (HUP) and stop (TERM).
 */
class SystemdNotifyIT {
    /** Sleeps on its event loop for as many milliseconds as a line says, then answers "done". */
    private static final String STALL_PLUGIN = """
            package stall;

            import dev.daemonkit.api.DaemonContext;
            import dev.daemonkit.api.DaemonPlugin;
            import io.netty.channel.ChannelHandlerContext;
            import io.netty.channel.SimpleChannelInboundHandler;
            import io.netty.handler.codec.LineBasedFrameDecoder;
            import io.netty.handler.codec.string.StringDecoder;
            import io.netty.handler.codec.string.StringEncoder;
            import java.nio.charset.StandardCharsets;

            public final class StallPlugin implements DaemonPlugin {
                @Override
                public String name() {
                    return "stall";
                }

                @Override
                public void configure(DaemonContext daemon) {
                    daemon.listen("listen", pipeline -> pipeline.addLast(
                            new LineBasedFrameDecoder(64),
                            new StringDecoder(StandardCharsets.UTF_8),
                            new StringEncoder(StandardCharsets.UTF_8),
                            new SimpleChannelInboundHandler<String>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, String millis) throws Exception {
                                    Thread.sleep(Long.parseLong(millis.trim()));
                                    ctx.writeAndFlush("done\\n");
                                }
                            }));
                }
            }
            """;

    @TempDir
    Path tmp;

    private final List<String> received = new CopyOnWriteArrayList<>();

    @Test
    void startStallReloadAndStopAreNotifiedInOrderWithKeepAlivesBetween() throws Exception {
        assumeTrue(Epoll.isAvailable(), "sd_notify needs the epoll transport (Linux)");
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (var launcher = new LauncherProcess(tmp)) {
            Path socket = tmp.resolve("notify");
            Channel receiver = bindReceiver(loop, socket);
            installStallPlugin(launcher);
            int stall = LauncherProcess.freePort();
            launcher.writeConfig("""
                    daemonkit.admin.listen = "127.0.0.1:%d"
                    daemonkit.watchdog.threshold = 500 ms
                    daemons {
                      echo.listen = "127.0.0.1:%d"
                      daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                      stall.listen = "127.0.0.1:%d"
                    }
                    """.formatted(
                            LauncherProcess.freePort(),
                            LauncherProcess.freePort(),
                            LauncherProcess.freePort(),
                            LauncherProcess.freePort(),
                            stall));
            launcher.env("NOTIFY_SOCKET", socket.toString()).env("WATCHDOG_USEC", "400000");
            launcher.start().awaitStarted();
            await().atMost(Duration.ofSeconds(30)).until(() -> notifications().size() == 1);
            // Keep-alives every 200 ms (half of WATCHDOG_USEC) while the launcher runs.
            await().atMost(Duration.ofSeconds(30)).until(() -> keepAlives() >= 2);

            // Block one event loop for 2.5 s: past the 500 ms threshold the keep-alives stop, then resume.
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), stall)) {
                client.setSoTimeout(30_000);
                client.getOutputStream().write("2500\n".getBytes(StandardCharsets.UTF_8));
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).isEqualTo("done");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> notifications().size() == 3);

            long beforeReload = TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
            launcher.signal("HUP");
            await().atMost(Duration.ofSeconds(30)).until(() -> notifications().size() == 5);
            long afterReload = TimeUnit.NANOSECONDS.toMicros(System.nanoTime());

            assertThat(launcher.terminate()).as(launcher::output).isZero();
            receiver.close().sync();

            List<String> n = notifications();
            assertThat(n).as(launcher::output).hasSize(6);
            assertThat(n.get(0)).isEqualTo("READY=1\nSTATUS=3 daemon(s) running");
            assertThat(n.get(1))
                    .matches("STATUS=wedged, no watchdog keep-alive: 1 event loop\\(s\\) blocked for more than 500 ms:"
                            + " daemonkit-io-\\d+-\\d+");
            assertThat(n.get(2)).isEqualTo("WATCHDOG=1\nSTATUS=3 daemon(s) running");
            // Not one keep-alive while the loop was blocked.
            assertThat(received.subList(received.indexOf(n.get(1)) + 1, received.indexOf(n.get(2))))
                    .isEmpty();
            assertThat(n.get(3)).matches("RELOADING=1\nMONOTONIC_USEC=\\d+");
            // CLOCK_MONOTONIC is one clock for the whole machine: the reload began between HUP and READY=1.
            assertThat(Long.parseLong(n.get(3).substring(n.get(3).lastIndexOf('=') + 1)))
                    .isBetween(beforeReload, afterReload);
            assertThat(n.get(4)).isEqualTo("READY=1\nSTATUS=3 daemon(s) running");
            assertThat(n.get(5)).isEqualTo("STOPPING=1\nSTATUS=stopping: draining the daemons");
            assertThat(launcher.output())
                    .contains(
                            "systemd: notifying through NOTIFY_SOCKET=" + socket + ", watchdog keep-alive every 200 ms")
                    .contains("not sending the systemd watchdog keep-alive: 1 event loop(s) blocked for more than"
                            + " 500 ms")
                    .contains("event loops running again: systemd watchdog keep-alives resume");
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Compiles {@link #STALL_PLUGIN} against the distribution's lib/ into plugins/stall.jar. */
    private void installStallPlugin(LauncherProcess launcher) throws IOException {
        Path src = tmp.resolve("stall/src/stall/StallPlugin.java");
        Path classes = tmp.resolve("stall/classes");
        Files.createDirectories(src.getParent());
        Files.createDirectories(classes);
        Files.writeString(src, STALL_PLUGIN);
        String classpath;
        try (Stream<Path> jars = Files.list(launcher.home.resolve("lib"))) {
            classpath = String.join(File.pathSeparator, jars.map(Path::toString).toList());
        }
        int rc = ToolProvider.getSystemJavaCompiler()
                .run(null, null, null, "--release", "17", "-cp", classpath, "-d", classes.toString(), src.toString());
        assertThat(rc).as("javac of the stall plugin").isZero();
        try (JarOutputStream jar =
                new JarOutputStream(Files.newOutputStream(launcher.home.resolve("plugins/stall.jar")))) {
            jar.putNextEntry(new JarEntry("META-INF/services/dev.daemonkit.api.DaemonPlugin"));
            jar.write("stall.StallPlugin\n".getBytes(StandardCharsets.UTF_8));
            jar.putNextEntry(new JarEntry("reference.conf"));
            jar.write("daemons.stall.listen = \"127.0.0.1:7290\"\n".getBytes(StandardCharsets.UTF_8));
            try (Stream<Path> files = Files.list(classes.resolve("stall"))) {
                for (Path f : files.toList()) {
                    jar.putNextEntry(new JarEntry("stall/" + f.getFileName()));
                    jar.write(Files.readAllBytes(f));
                }
            }
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
