package dev.daemonkit.samples.cache;

import java.util.Arrays;
import java.util.Base64;

/**
 * What a meta command's flags asked for (memcached's struct _meta_flags), parsed anew for each
 * command. One per event loop, in its {@link Scratch}.
 */
final class MetaFlags {
    boolean value;
    boolean noUpdate;
    boolean vivify;
    boolean noReply;
    boolean hasCas;
    boolean newTtl;
    boolean keyBinary;
    boolean setStale;
    byte mode;
    long exptime;
    long autovivExptime;
    long recacheTime;
    long clientFlags;
    long reqCas;
    long delta;
    long initial;
    /** The key, after the b flag's base64 decoding. */
    byte[] key;
    /** Why {@link #parse} failed. */
    String error;

    private final boolean[] seen = new boolean[127];

    /** memcached's _meta_flag_preparse over the tokens from {@code start}: false with {@link #error} set. */
    boolean parse(CommandLine line, int start, ItemStore store, Ascii number) {
        value = noUpdate = vivify = noReply = hasCas = newTtl = keyBinary = setStale = false;
        mode = 0;
        exptime = autovivExptime = recacheTime = clientFlags = reqCas = initial = 0;
        delta = 1;
        key = null;
        error = "CLIENT_ERROR bad command line format";
        Arrays.fill(seen, false);
        boolean hasError = false;
        long now = store.now();
        for (int i = start; i < line.ntokens - 1; i++) {
            int o = line.first(i) & 0xff;
            if (o >= 127 || seen[o]) {
                error = "CLIENT_ERROR duplicate flag";
                return false;
            }
            seen[o] = true;
            int argStart = line.start[i] + 1;
            int argEnd = line.end[i];
            switch (o) {
                case 'b' -> {
                    keyBinary = true;
                    try {
                        key = Base64.getDecoder().decode(line.copy(1));
                    } catch (IllegalArgumentException e) {
                        key = null;
                    }
                    if (key == null || key.length == 0) {
                        error = "CLIENT_ERROR error decoding key";
                        hasError = true;
                    }
                }
                case 'N' -> {
                    vivify = true;
                    if (!number.parseSigned32(line.bytes, argStart, argEnd)) {
                        error = "CLIENT_ERROR bad token in command line format";
                        hasError = true;
                    } else {
                        autovivExptime = store.absoluteExptime(number.value, now);
                    }
                }
                case 'T' -> {
                    if (!number.parseSigned32(line.bytes, argStart, argEnd)) {
                        error = "CLIENT_ERROR bad token in command line format";
                        hasError = true;
                    } else {
                        exptime = store.absoluteExptime(number.value, now);
                        newTtl = true;
                    }
                }
                case 'R' -> {
                    if (!number.parseSigned32(line.bytes, argStart, argEnd)) {
                        error = "CLIENT_ERROR bad token in command line format";
                        hasError = true;
                    } else {
                        recacheTime = store.absoluteExptime(number.value, now);
                    }
                }
                case 'l', 'h', 'O', 'P', 'L', 'k', 's', 't', 'c', 'f' -> {}
                case 'v' -> value = true;
                case 'u' -> noUpdate = true;
                case 'q' -> noReply = true;
                case 'F' -> {
                    if (!number.parseUnsigned32(line.bytes, argStart, argEnd)) {
                        hasError = true;
                    } else {
                        clientFlags = number.value;
                    }
                }
                case 'C' -> {
                    if (!number.parseUnsigned64(line.bytes, argStart, argEnd)) {
                        error = "CLIENT_ERROR bad token in command line format";
                        hasError = true;
                    } else {
                        reqCas = number.value;
                        hasCas = true;
                    }
                }
                case 'M' -> {
                    if (line.length(i) != 2) {
                        error = "CLIENT_ERROR incorrect length for M token";
                        hasError = true;
                    } else {
                        mode = line.bytes[argStart];
                    }
                }
                case 'J' -> {
                    if (!number.parseUnsigned64(line.bytes, argStart, argEnd)) {
                        error = "CLIENT_ERROR invalid numeric initial value";
                        hasError = true;
                    } else {
                        initial = number.value;
                    }
                }
                case 'D' -> {
                    if (!number.parseUnsigned64(line.bytes, argStart, argEnd)) {
                        error = "CLIENT_ERROR invalid numeric delta value";
                        hasError = true;
                    } else {
                        delta = number.value;
                    }
                }
                case 'I' -> setStale = true;
                default -> {
                    error = "CLIENT_ERROR invalid flag";
                    return false;
                }
            }
        }
        if (key == null) {
            key = line.copy(1);
        }
        return !hasError;
    }
}
