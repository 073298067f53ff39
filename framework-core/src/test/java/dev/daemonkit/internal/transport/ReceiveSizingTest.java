package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The read buffer sizes every accepted connection gets ({@link DaemonConnections#SHARED_RECEIVE}). */
class ReceiveSizingTest {
    private final EmbeddedChannel channel = new EmbeddedChannel();

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    /** One read of {@code bytes} as the transport does it: the buffer is allocated, filled, handed on. */
    private static int read(RecvByteBufAllocator.Handle h, EmbeddedChannel ch, int bytes) {
        h.reset(ch.config());
        ByteBuf b = h.allocate(ch.alloc());
        int capacity = b.writableBytes();
        b.release();
        h.lastBytesRead(Math.min(bytes, capacity));
        h.incMessagesRead(1);
        h.readComplete();
        return capacity;
    }

    @Test
    void aClientsSetOfA100ByteValueStillFitsOneReadAfterThousandsOfSmallGets() {
        RecvByteBufAllocator.Handle h = DaemonConnections.SHARED_RECEIVE.newHandle();
        for (int i = 0; i < 5_000; i++) {
            read(h, channel, 18); // "get " + a 12-byte key + CRLF
        }
        // "set <12-byte key> 0 0 100\r\n" + 100 bytes + CRLF: 140 bytes. Netty's default guess would be
        // 64 here, and the request would take two reads (and a copy into a merged buffer).
        assertThat(read(h, channel, 140)).isGreaterThanOrEqualTo(140);
        assertThat(read(h, channel, 18)).isEqualTo(DaemonConnections.SMALLEST_READ);
    }

    @Test
    void anAttackersFirstReadIsNoLargerThanNettysOwnAndBigWritesStayCapped() {
        // A connection that sends a byte and waits holds its first read's buffer: that size is Netty's
        // default (2,048), as before, so a flood of such connections holds no more than it did.
        RecvByteBufAllocator.Handle fresh = DaemonConnections.SHARED_RECEIVE.newHandle();
        assertThat(read(fresh, channel, 1)).isEqualTo(AdaptiveRecvByteBufAllocator.DEFAULT_INITIAL);

        // A client writing as fast as it can grows the guess only to Netty's default maximum.
        RecvByteBufAllocator.Handle flooded = DaemonConnections.SHARED_RECEIVE.newHandle();
        int largest = 0;
        for (int i = 0; i < 100; i++) {
            largest = Math.max(largest, read(flooded, channel, Integer.MAX_VALUE));
        }
        assertThat(largest).isEqualTo(AdaptiveRecvByteBufAllocator.DEFAULT_MAXIMUM);
    }
}
