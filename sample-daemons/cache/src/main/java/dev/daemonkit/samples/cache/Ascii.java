package dev.daemonkit.samples.cache;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Numbers as memcached reads and writes them. memcached parses with the C library's strtoul,
 * strtol and strtoull and then checks what follows, so its quirks are part of the protocol: leading
 * white space and a sign are accepted, a flags value above 2^32 wraps, an exptime above 2^31 wraps
 * to a negative one, and a negative value is refused by the unsigned parsers only when it would
 * wrap. Each parser mirrors one of memcached's {@code safe_strto*} functions and leaves the result
 * in {@link #value}. One instance per connection: not thread-safe.
 */
final class Ascii {
    long value;

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == 0x0b || b == '\f' || b == '\r';
    }

    /**
     * strtoull followed by memcached's checks (safe_strtoull): no digits or an overflow is false; a
     * number followed by anything but white space or the end is false; a "negative" number is false
     * only if it would read as negative when signed.
     */
    /** (2^64 - 1) / 10, unsigned. */
    private static final long MAX_DIV_10 = Long.divideUnsigned(-1L, 10);

    boolean parseUnsigned64(byte[] b, int off, int end) {
        int i = off;
        while (i < end && isSpace(b[i])) {
            i++;
        }
        boolean negative = false;
        if (i < end && (b[i] == '+' || b[i] == '-')) {
            negative = b[i] == '-';
            i++;
        }
        int digitsStart = i;
        long v = 0;
        boolean overflow = false;
        while (i < end && b[i] >= '0' && b[i] <= '9') {
            int d = b[i] - '0';
            // v * 10 + d > 2^64 - 1 ? (2^64 - 1 = 1844674407370955161 * 10 + 5.) No division per digit: a value of a
            // million leading zeros is read for every incr of it.
            if (Long.compareUnsigned(v, MAX_DIV_10) > 0 || (v == MAX_DIV_10 && d > 5)) {
                overflow = true;
            }
            v = v * 10 + d;
            i++;
        }
        if (i == digitsStart || overflow) {
            return false;
        }
        if (i < end && !isSpace(b[i])) {
            return false;
        }
        if (negative) {
            v = -v;
            if (v < 0) {
                return false;
            }
        }
        value = v;
        return true;
    }

    /** safe_strtoul: as {@link #parseUnsigned64}, then cut to 32 bits, as memcached stores it. */
    boolean parseUnsigned32(byte[] b, int off, int end) {
        if (!parseUnsigned64(b, off, end)) {
            return false;
        }
        value &= 0xFFFF_FFFFL;
        return true;
    }

    /** safe_strtol: strtol on 64 bits (an overflow is false), then cut to a signed 32-bit int. */
    boolean parseSigned32(byte[] b, int off, int end) {
        int i = off;
        while (i < end && isSpace(b[i])) {
            i++;
        }
        boolean negative = false;
        if (i < end && (b[i] == '+' || b[i] == '-')) {
            negative = b[i] == '-';
            i++;
        }
        int digitsStart = i;
        long v = 0;
        boolean overflow = false;
        while (i < end && b[i] >= '0' && b[i] <= '9') {
            int d = b[i] - '0';
            // magnitude above Long.MAX_VALUE (+1 when negative) is ERANGE
            long limit = negative ? Long.MIN_VALUE : -Long.MAX_VALUE;
            if (v < (limit + d) / 10) {
                overflow = true;
            }
            v = v * 10 - d;
            i++;
        }
        if (i == digitsStart || overflow) {
            return false;
        }
        if (i < end && !isSpace(b[i])) {
            return false;
        }
        value = (int) (negative ? v : -v);
        return true;
    }

    /** Digits in the unsigned decimal form of {@code v}. */
    static int unsignedLength(long v) {
        if (v < 0) {
            return Long.toUnsignedString(v).length(); // 2^63 and above: rare, may allocate
        }
        int n = 1;
        for (long x = v; x >= 10; x /= 10) {
            n++;
        }
        return n;
    }

    /** Writes the unsigned decimal form of {@code v} into {@code b[off, off + digits)}. */
    static void writeUnsigned(long v, byte[] b, int off, int digits) {
        String s = Long.toUnsignedString(v);
        if (s.length() != digits) {
            throw new IllegalStateException("digits " + digits + " for " + s);
        }
        for (int i = 0; i < digits; i++) {
            b[off + i] = (byte) s.charAt(i);
        }
    }

    /** Appends the unsigned decimal form of {@code v} without allocating (for the hot reply paths). */
    static void writeUnsigned(ByteBuf out, long v) {
        if (v < 0) {
            out.writeCharSequence(Long.toUnsignedString(v), StandardCharsets.US_ASCII);
            return;
        }
        if (v < 10) {
            out.writeByte('0' + (int) v);
            return;
        }
        int digits = 1;
        for (long x = v; x >= 10; x /= 10) {
            digits++;
        }
        int at = out.writerIndex() + digits;
        out.ensureWritable(digits);
        for (int i = 1; i <= digits; i++) {
            out.setByte(at - i, '0' + (int) (v % 10));
            v /= 10;
        }
        out.writerIndex(at);
    }

    /** Appends a signed decimal number. */
    static void writeSigned(ByteBuf out, long v) {
        if (v < 0) {
            out.writeByte('-');
            if (v == Long.MIN_VALUE) {
                out.writeCharSequence("9223372036854775808", StandardCharsets.US_ASCII);
                return;
            }
            v = -v;
        }
        writeUnsigned(out, v);
    }
}
