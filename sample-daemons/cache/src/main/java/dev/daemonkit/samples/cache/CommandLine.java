package dev.daemonkit.samples.cache;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * One command line and its tokens, as memcached's tokenize_command makes them: split on spaces only,
 * at most 23 tokens and then one unparsed tail, and a terminal token of length 0. Tokens are offsets
 * into the line; keys are looked up straight from it, nothing is copied.
 *
 * <p>One per event loop (in its {@link Scratch}), reused line after line; never kept across reads.
 */
final class CommandLine {
    /** memcached's MAX_TOKENS: the tokenizer stops after 23 tokens; the rest is one unparsed tail. */
    static final int MAX_TOKENS = 24;

    /** The line, copied out of the input (NUL-truncated, CR stripped); grows to the longest line seen. */
    byte[] bytes = new byte[256];

    int length;
    final int[] start = new int[MAX_TOKENS];
    final int[] end = new int[MAX_TOKENS];
    /** As memcached counts: the real tokens plus the terminal token. */
    int ntokens;

    /** Copies {@code length} bytes of {@code in} from {@code from}; a NUL ends the line, as in C. */
    void load(ByteBuf in, int from, int length) {
        if (bytes.length < length) {
            bytes = new byte[Math.max(length, bytes.length * 2)];
        }
        in.getBytes(from, bytes, 0, length);
        this.length = length;
        for (int i = 0; i < length; i++) {
            if (bytes[i] == 0) {
                this.length = i; // C strings: memcached sees the line only up to a NUL
                break;
            }
        }
    }

    /** memcached's tokenize_command over the line from {@code from}. */
    void tokenize(int from) {
        int n = 0;
        int s = from;
        int e = from;
        for (; e < length; e++) {
            if (bytes[e] == ' ') {
                if (s != e) {
                    start[n] = s;
                    end[n] = e;
                    n++;
                    if (n == MAX_TOKENS - 1) {
                        e++;
                        s = e;
                        break;
                    }
                }
                s = e + 1;
            }
        }
        if (s != e) {
            start[n] = s;
            end[n] = e;
            n++;
        }
        // The terminal token: empty, and starting at the unparsed tail if the tokenizer stopped early.
        start[n] = e;
        end[n] = e;
        n++;
        ntokens = n;
    }

    int length(int token) {
        return end[token] - start[token];
    }

    byte first(int token) {
        return bytes[start[token]];
    }

    boolean is(int token, String word) {
        int len = length(token);
        if (len != word.length()) {
            return false;
        }
        int at = start[token];
        for (int i = 0; i < len; i++) {
            if (bytes[at + i] != word.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    byte[] copy(int token) {
        return Arrays.copyOfRange(bytes, start[token], end[token]);
    }

    /** memcached's set_noreply_maybe test: the last real token is exactly "noreply". */
    boolean endsWithNoreply() {
        return ntokens >= 2 && is(ntokens - 2, "noreply");
    }

    boolean startsWithHttp(int token) {
        if (length(token) < 5) {
            return false;
        }
        int at = start[token];
        return bytes[at] == 'H'
                && bytes[at + 1] == 'T'
                && bytes[at + 2] == 'T'
                && bytes[at + 3] == 'P'
                && bytes[at + 4] == '/';
    }
}
