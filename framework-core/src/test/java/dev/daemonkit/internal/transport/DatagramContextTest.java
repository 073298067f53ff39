package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.internal.config.DaemonSettings;
import dev.daemonkit.timers.HierarchicalTimerWheel;
import dev.daemonkit.timers.TimerWheelSettings;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A UDP socket's first handler counts the daemon's datagram bytes, as the front handler does for TCP. */
class DatagramContextTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final HierarchicalTimerWheel wheel = new HierarchicalTimerWheel(TimerWheelSettings.defaults(), clock::get);

    private DaemonConnections connections() {
        DaemonSettings settings = new DaemonSettings(
                "udp-test",
                "udp-test",
                true,
                10,
                Duration.ofSeconds(30),
                Duration.ZERO,
                new DaemonSettings.Inbound(1024 * 1024, 64L * 1024 * 1024),
                32 * 1024,
                64 * 1024,
                64L * 1024 * 1024,
                new DaemonSettings.RestartPolicy(false, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO),
                0,
                Duration.ofSeconds(30));
        return new DaemonConnections(settings, wheel, clock::get, new ConnectionBudget(100), null);
    }

    @Test
    void datagramBytesInAndOutAreCountedForTheDaemon() {
        DaemonConnections owner = connections();
        EmbeddedChannel ch = new EmbeddedChannel(
                new DatagramContext(LogScope.of("udp-test"), owner), new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        ctx.writeAndFlush(new DatagramPacket(
                                Unpooled.copiedBuffer("the time\r\n", StandardCharsets.US_ASCII), p.sender()));
                    }
                });
        InetSocketAddress client = new InetSocketAddress("127.0.0.1", 40000);
        ch.writeInbound(new DatagramPacket(
                Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII),
                new InetSocketAddress("127.0.0.1", 13),
                client));
        DatagramPacket reply = ch.readOutbound();
        assertThat(reply.recipient()).isEqualTo(client);
        reply.release();

        assertThat(owner.bytesIn()).isEqualTo(5);
        assertThat(owner.bytesOut()).isEqualTo(10);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }
}
