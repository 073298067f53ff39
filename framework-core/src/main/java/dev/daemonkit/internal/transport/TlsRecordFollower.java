package dev.daemonkit.internal.transport;

import io.netty.buffer.ByteBuf;

/**
 * Where a TLS connection's ciphertext stands between records, followed from its first byte: how many bytes of
 * a record begun and not finished have come, and the room a TLS library takes to hold it. With the framework's
 * OpenSSL record path ({@link OpenSslRecordHandler}) BoringSSL keeps that partial record in a buffer of its
 * own, where no decoder shows it; the front handler times it as a request under way and charges its room to
 * the daemon's inbound total. Followed from the first byte, not from the record handler's takeover: the
 * handshake's last read may already carry the start of the first application record, which {@code SslHandler}
 * hands to BoringSSL before the takeover (a review found the count misaligned for good that way, and idle
 * keep-alive clients cut at request-timeout).
 *
 * <p>A few arithmetic steps per record; the header's length bytes are read in place. A length no record may
 * have is the TLS library's to refuse (it closes the connection); until then it is followed as given. On the
 * connection's loop.
 */
final class TlsRecordFollower {
    /** TLS's record header: type, version (2 bytes), length (2 bytes). */
    static final int HEADER = 5;
    /** The most ciphertext a TLS record may carry (RFC 5246 section 6.2.3: 2^14 + 2048); BoringSSL refuses more. */
    static final int MAX_CIPHERTEXT = 16_384 + 2_048;

    /** Bytes of the current record so far, its header included; 0 at a record's end. */
    private int soFar;
    /** The current record's body length, once its header's length bytes have come. */
    private int length;
    /** Nothing has come yet: the first record may be an SSLv2-compatible ClientHello (a 2-byte header). */
    private boolean first = true;

    /** Walks the record boundaries in {@code in}'s readable bytes (not moving its indexes). */
    void follow(ByteBuf in) {
        int at = in.readerIndex();
        int end = in.writerIndex();
        int so = soFar;
        int len = length;
        if (first && at < end) {
            first = false;
            int b0 = in.getUnsignedByte(at);
            if ((b0 & 0x80) != 0 && end - at >= 2) {
                // An SSLv2-compatible ClientHello: a 2-byte header with the length in its low 15 bits. Its body is
                // walked as a record's whose header has come (a client's first segment holds both header bytes).
                len = ((b0 & 0x7f) << 8) | in.getUnsignedByte(at + 1);
                so = HEADER;
                at += 2;
            }
        }
        while (at < end) {
            if (so < HEADER) {
                int b = in.getUnsignedByte(at++);
                if (so == 3) {
                    len = b << 8;
                } else if (so == 4) {
                    len |= b;
                }
                so++;
            } else {
                int take = Math.min(HEADER + len - so, end - at);
                at += take;
                so += take;
            }
            if (so >= HEADER && so == HEADER + len) {
                so = 0; // the record is whole
            }
        }
        if (so >= HEADER && so == HEADER + len) {
            so = 0;
        }
        soFar = so;
        length = len;
    }

    /** Bytes of a record begun and not finished, its header included; 0 between records. */
    int partialBytes() {
        return soFar;
    }

    /**
     * The room a TLS library holds for the partial record: once its header has come, the whole record's
     * (BoringSSL allocates that at once, so 5 bytes of a header make it hold up to 18 KiB), else the bytes so far.
     */
    int room() {
        if (soFar == 0) {
            return 0;
        }
        return soFar < HEADER ? soFar : HEADER + Math.min(length, MAX_CIPHERTEXT);
    }
}
