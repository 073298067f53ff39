package dev.daemonkit.samples.cache;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;

/**
 * The command being processed on one event loop: its line and tokens, its meta flags, and the small
 * arrays the store answers through. It lives once per event loop thread, not once per connection:
 * a held, idle connection should cost its socket and little more, and these ~1 KB times 19,000
 * connections would be 19 MB of nothing. A command never outlives one call of the decoder, so
 * nothing here is kept from one read to the next: the connection's own state is in
 * {@link TextProtocolHandler} and, for a storage command waiting for its data, {@link PendingStore}.
 *
 * <p>Used on its event loop thread only, by one command at a time ({@link #begin}, {@link #end}).
 */
final class Scratch {
    private static final byte[] CRLF = {'\r', '\n'};
    /**
     * Replies of one read are written out once they pass this many bytes, before the next command (or the
     * next key of a multi-get), so that the client's reading paces them, not the event loop's memory.
     */
    static final int REPLY_FLUSH_AT = 64 * 1024;

    private static final FastThreadLocal<Scratch> ON_THIS_LOOP = new FastThreadLocal<>() {
        @Override
        protected Scratch initialValue() {
            return new Scratch();
        }
    };

    final CommandLine line = new CommandLine();
    final MetaFlags flags = new MetaFlags();
    final Ascii number = new Ascii();
    final ItemStore.Seen seen = new ItemStore.Seen();
    final long[] casOut = new long[1];
    final int[] sizeOut = new int[1];
    /** incr/decr: the new value, then the bytes of the old value read (see {@link ItemStore#delta}). */
    final long[] deltaResult = new long[2];

    final Item[] deltaItem = new Item[1];
    /** memcached's c->noreply: the next {@link #reply} is dropped (and this cleared). */
    boolean noreply;

    private TextProtocolHandler connection;
    private ChannelHandlerContext ctx;

    private Scratch() {}

    /** The scratch of this event loop, set up for one command of {@code connection}. */
    static Scratch begin(TextProtocolHandler connection, ChannelHandlerContext ctx) {
        Scratch s = ON_THIS_LOOP.get();
        s.connection = connection;
        s.ctx = ctx;
        s.noreply = false;
        return s;
    }

    /** Forgets the connection, so that a closed one is not kept reachable by its loop. */
    void end() {
        connection = null;
        ctx = null;
        deltaItem[0] = null;
    }

    /** The connection's replies of this read. */
    ByteBuf out() {
        return connection.out(ctx);
    }

    /** memcached's out_string: one line, unless noreply was asked for (which it then clears). */
    void reply(String text) {
        if (noreply) {
            noreply = false;
            return;
        }
        ByteBuf o = out();
        o.writeCharSequence(text, StandardCharsets.US_ASCII);
        o.writeBytes(CRLF);
    }

    /** memcached's out_errstring: an error line that noreply does not silence. */
    void replyError(String text) {
        noreply = false;
        reply(text);
    }

    /** The value of a storage command comes next: read into {@code pending}, then completed. */
    void expect(PendingStore pending) {
        connection.expect(pending);
    }

    /** The data block of a refused storage command comes next: skipped. */
    void swallow(long bytes) {
        connection.swallow(bytes);
    }

    /**
     * Writes the replies so far; whether the client has left too many of them unread for more now (the
     * connection is not writable): the command then stops and waits.
     */
    boolean writeRepliesBlocked() {
        return connection.writeRepliesBlocked(ctx);
    }

    /** The rest of a multi-get, answered once the client has read the replies so far. */
    void moreKeys(ClassicCommands.MoreKeys more) {
        connection.waitToAnswer(more);
    }

    /** The command copied {@code bytes} of values (append, prepend): it counts against the connection's turn. */
    void copied(long bytes) {
        connection.copied(bytes);
    }

    /** Writes what is already answered, then closes. */
    void close() {
        connection.closeAfterReplies();
    }
}
