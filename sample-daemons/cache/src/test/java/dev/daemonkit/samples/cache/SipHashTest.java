package dev.daemonkit.samples.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link SipHash} against the reference implementation's vectors, and what a client gets without the key. */
class SipHashTest {
    /** The reference key: bytes 00..0f, little-endian. */
    private static final long K0 = 0x0706050403020100L;

    private static final long K1 = 0x0f0e0d0c0b0a0908L;

    private static byte[] counting(int length) {
        byte[] m = new byte[length];
        for (int i = 0; i < length; i++) {
            m[i] = (byte) i;
        }
        return m;
    }

    @Test
    void sipHash24MatchesTheReferenceVectors() {
        SipHash h = new SipHash(K0, K1, 2, 4);
        // From the SipHash paper (appendix A, 15 bytes 00..0e) and the reference vectors.h (lengths 0, 1, 8).
        assertThat(h.hash(counting(15), 0, 15)).isEqualTo(0xa129ca6149be45e5L);
        assertThat(h.hash(counting(0), 0, 0)).isEqualTo(0x726fdb47dd0e0e31L);
        assertThat(h.hash(counting(1), 0, 1)).isEqualTo(0x74f839c593dc67fdL);
        assertThat(h.hash(counting(8), 0, 8)).isEqualTo(0x93f5f5799a932462L);
        // An offset into a larger array hashes the same bytes.
        byte[] inside = new byte[20];
        System.arraycopy(counting(15), 0, inside, 3, 15);
        assertThat(h.hash(inside, 3, 15)).isEqualTo(0xa129ca6149be45e5L);
    }

    @Test
    void attackerCannotKnowTheHashOfAKeyBecauseEachProcessDrawsItsOwnKey() {
        // The table index is the hash's low bits: with an unkeyed hash, keys colliding there were computed offline.
        byte[] key = "the same key".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            seen.add(SipHash.withRandomKey().hash(key, 0, key.length));
        }
        assertThat(seen).as("eight stores, eight hashes of one key").hasSize(8);
    }
}
