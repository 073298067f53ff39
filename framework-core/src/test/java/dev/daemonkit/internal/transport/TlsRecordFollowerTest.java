package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link TlsRecordFollower}: where a connection's ciphertext stands between records, however reads cut it. */
class TlsRecordFollowerTest {
    /** A record of {@code type} with a body of {@code length} bytes. */
    private static byte[] record(int type, int length) {
        byte[] r = new byte[5 + length];
        r[0] = (byte) type;
        r[1] = 3;
        r[2] = 3;
        r[3] = (byte) (length >> 8);
        r[4] = (byte) length;
        Arrays.fill(r, 5, r.length, (byte) 0x5a);
        return r;
    }

    private static void feed(TlsRecordFollower f, byte[] bytes, int from, int to) {
        ByteBuf b = Unpooled.wrappedBuffer(bytes, from, to - from);
        f.follow(b);
        assertThat(b.readerIndex()).as("indexes untouched").isZero();
        b.release();
    }

    @Test
    void userPartOfARecordIsCountedUntilItsLastByteComesHoweverTheReadsCutIt() {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        int[] ends = new int[6];
        int[] lengths = {40, 0, 300, 1, 16_384 + 17, 7};
        for (int i = 0; i < lengths.length; i++) {
            stream.writeBytes(record(0x17, lengths[i]));
            ends[i] = stream.size();
        }
        byte[] all = stream.toByteArray();
        for (long seed = 1; seed <= 20; seed++) {
            Random random = new Random(seed);
            TlsRecordFollower f = new TlsRecordFollower();
            int recordStart = 0;
            int next = 0;
            for (int at = 0; at < all.length; ) {
                int n = Math.min(all.length - at, 1 + random.nextInt(seed % 2 == 0 ? 9 : 4_000));
                feed(f, all, at, at + n);
                at += n;
                while (next < ends.length && ends[next] <= at) {
                    recordStart = ends[next++];
                }
                int expected = at - recordStart;
                assertThat(f.partialBytes())
                        .as("seed %d, after %d of %d bytes", seed, at, all.length)
                        .isEqualTo(expected);
                int header = 5;
                int expectedRoom = expected == 0 ? 0 : expected < header ? expected : header + lengths[next];
                assertThat(f.room())
                        .as("room, seed %d, after %d bytes", seed, at)
                        .isEqualTo(expectedRoom);
            }
        }
    }

    @Test
    void attackerLengthPastWhatARecordMayCarryIsChargedAtMostTheLargestRecord() {
        TlsRecordFollower f = new TlsRecordFollower();
        byte[] header = {0x17, 3, 3, (byte) 0xff, (byte) 0xff};
        feed(f, header, 0, 5);
        assertThat(f.partialBytes()).isEqualTo(5);
        assertThat(f.room()).isEqualTo(5 + TlsRecordFollower.MAX_CIPHERTEXT);
    }

    @Test
    void userSslV2CompatibleClientHelloIsFollowedByItsTwoByteHeader() {
        // An old client's first record: a 2-byte header (high bit set, 15-bit length), then TLS records.
        byte[] hello = new byte[2 + 46];
        hello[0] = (byte) 0x80;
        hello[1] = 46;
        byte[] next = record(0x16, 20);
        byte[] both = new byte[hello.length + next.length];
        System.arraycopy(hello, 0, both, 0, hello.length);
        System.arraycopy(next, 0, both, hello.length, next.length);
        TlsRecordFollower f = new TlsRecordFollower();
        feed(f, both, 0, hello.length + 3);
        assertThat(f.partialBytes()).as("3 bytes into the next record").isEqualTo(3);
        feed(f, both, hello.length + 3, both.length);
        assertThat(f.partialBytes()).isZero();
    }
}
