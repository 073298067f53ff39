package dev.daemonkit.bench;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * memcached text protocol: "get KEY" or "set KEY 0 0 N" with an N-byte value, over a fixed key space
 * of fixed-size keys. Replies: "VALUE ... END", "END" (a miss), "STORED"; anything starting with
 * ERROR, CLIENT_ERROR or SERVER_ERROR counts as an error.
 */
final class MemcachedMode implements Mode {
    private final Settings settings;
    private final byte[][] getLines;
    private final byte[][] setLines;
    private final byte[] value;

    MemcachedMode(Settings settings) {
        this.settings = settings;
        this.getLines = new byte[settings.keys()][];
        this.setLines = new byte[settings.keys()][];
        for (int i = 0; i < settings.keys(); i++) {
            String key = key(i, settings.keySize());
            getLines[i] = ("get " + key + "\r\n").getBytes(StandardCharsets.US_ASCII);
            setLines[i] = ("set " + key + " 0 0 " + settings.valueSize() + "\r\n").getBytes(StandardCharsets.US_ASCII);
        }
        value = new byte[settings.valueSize() + 2];
        Arrays.fill(value, (byte) 'v');
        value[value.length - 2] = '\r';
        value[value.length - 1] = '\n';
    }

    /** Key i, zero-padded to exactly {@code size} bytes: "k00000000042". */
    static String key(int i, int size) {
        String digits = Integer.toString(i);
        StringBuilder sb = new StringBuilder(size).append('k');
        for (int n = 1 + digits.length(); n < size; n++) {
            sb.append('0');
        }
        return sb.append(digits).toString();
    }

    /** Writes a set of every key, for --preload. */
    void writeSet(ByteBuf out, int key) {
        out.writeBytes(setLines[key]).writeBytes(value);
    }

    int keys() {
        return settings.keys();
    }

    @Override
    public Session newSession(int connection) {
        SplittableRandom random = new SplittableRandom(connection * 0x9E3779B97F4A7C15L + 1);
        return new Session() {
            @Override
            public void writeRequest(ByteBuf out) {
                int key = random.nextInt(getLines.length);
                if (random.nextDouble() < settings.getRatio()) {
                    out.writeBytes(getLines[key]);
                } else {
                    writeSet(out, key);
                }
            }

            @Override
            public int readReplies(ByteBuf in, long[] errors) {
                return MemcachedMode.readReplies(in, errors);
            }
        };
    }

    /** Whole replies in {@code in}: a VALUE block up to its END, or one line. */
    static int readReplies(ByteBuf in, long[] errors) {
        int done = 0;
        while (in.isReadable()) {
            int start = in.readerIndex();
            int eol = in.indexOf(start, in.writerIndex(), (byte) '\n');
            if (eol < 0) {
                return done;
            }
            byte first = in.getByte(start);
            if (first == 'V') {
                // VALUE <key> <flags> <bytes>\r\n<data>\r\nEND\r\n
                int bytes = 0;
                int at = eol - 2;
                int mul = 1;
                while (at > start && in.getByte(at) != ' ') {
                    bytes += (in.getByte(at) - '0') * mul;
                    mul *= 10;
                    at--;
                }
                int end = eol + 1 + bytes + 2 + 5;
                if (in.writerIndex() < end) {
                    return done;
                }
                in.readerIndex(end);
            } else {
                if (first == 'E' && in.getByte(start + 1) == 'R'
                        || first == 'C'
                        || first == 'S' && in.getByte(start + 1) == 'E') {
                    errors[0]++;
                }
                in.readerIndex(eol + 1);
            }
            done++;
        }
        return done;
    }
}
