package dev.daemonkit.bench;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/** The echo daemon's line protocol: a line of --value-size bytes goes out, the same line comes back. */
final class EchoMode implements Mode {
    private final byte[] line;

    EchoMode(Settings settings) {
        line = new byte[settings.valueSize() + 1];
        Arrays.fill(line, (byte) 'e');
        line[line.length - 1] = '\n';
    }

    @Override
    public Session newSession(int connection) {
        return new Session() {
            @Override
            public void writeRequest(ByteBuf out) {
                out.writeBytes(line);
            }

            @Override
            public int readReplies(ByteBuf in, long[] errors) {
                int done = 0;
                while (in.readableBytes() >= line.length) {
                    int eol = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
                    if (eol < 0) {
                        return done;
                    }
                    if (eol - in.readerIndex() + 1 != line.length) {
                        errors[0]++; // not our line back: the daemon answered something else
                    }
                    in.readerIndex(eol + 1);
                    done++;
                }
                return done;
            }
        };
    }
}
