package dev.daemonkit.bench;

import io.netty.buffer.ByteBuf;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * A protocol the bots speak. A mode makes one {@link Session} per connection; the bots own the
 * sockets, the pipelining, the clock and the statistics. A new mode (presence) is one more class and
 * one more line in {@link #MODES}.
 */
interface Mode {

    /** What one connection sends and how it recognises whole replies. Used on one event loop only. */
    interface Session {
        /** Appends the next request. */
        void writeRequest(ByteBuf out);

        /**
         * Consumes whole replies from {@code in} (leaving a partial one), and returns how many were
         * complete; adds the erroneous ones among them to {@code errors[0]}.
         */
        int readReplies(ByteBuf in, long[] errors);
    }

    Session newSession(int connection);

    /** Modes by name, for --mode. */
    Map<String, Function<Settings, Mode>> MODES = new TreeMap<>(Map.of(
            "memcached", MemcachedMode::new,
            "echo", EchoMode::new));
}
