package dev.daemonkit.samples.cache;

import dev.daemonkit.api.InboundLimitExceeded;
import dev.daemonkit.api.PartialRequest;
import dev.daemonkit.api.RequestCounter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One connection of the memcached text protocol (classic and meta commands), replying byte for byte
 * as memcached 1.6.18 does, including its errors. This class frames the input: command lines, the
 * data blocks of storage commands, and foreign input (binary requests, lines without an end, lines
 * over max-line-bytes). The commands are {@link ClassicCommands} and {@link MetaCommands}, shared by
 * the daemon's connections; a command's line, tokens ({@link CommandLine}) and flags are in its event
 * loop's {@link Scratch}; a storage command waiting for its data block is one {@link PendingStore}.
 *
 * <p>Speed: a command line is copied once into the loop's line array and tokenized in place; keys
 * are looked up straight from that array (no String, no key object); replies of all commands of one
 * read go into one buffer that is written and flushed once, in {@link #channelReadComplete}. A value
 * is read straight into the byte array the store keeps, so a large value is never cumulated.
 *
 * <p>Memory: an idle connection holds only the fields below (the decoder's own aside); a
 * connection waiting for a data block also holds its {@link PendingStore}.
 *
 * <p>Not shareable: one instance per connection, used on its event loop only.
 */
final class TextProtocolHandler extends ByteToMessageDecoder implements PartialRequest {
    static final String VERSION = ClassicCommands.VERSION;
    /** A line this long without a newline is not a command (unless a multi-get): close, as memcached does. */
    private static final int MAX_LINE_WITHOUT_NEWLINE = 2048;
    /** The first byte of every request of memcached's binary protocol. */
    private static final byte BINARY_REQUEST_MAGIC = (byte) 0x80;
    /**
     * memcached's words when it cannot grow its read buffer for a long request (then it closes).
     * Ours when a line passes max-line-bytes or the framework refuses to buffer more of a request.
     */
    static final String REQUEST_TOO_LONG = "SERVER_ERROR out of memory reading request";

    private final ClassicCommands classic;
    private final MetaCommands meta;
    /** No command line, counted with its line ending, may be longer (the setting max-line-bytes). */
    private final int maxLineBytes;

    /** Replies of the current read, flushed once in channelReadComplete. */
    private ByteBuf out;
    /** A storage command waiting for (the rest of) its data block, or null. */
    private PendingStore pending;
    /** The data block of a refused storage command while it is skipped, else null. */
    private Skipping skipping;
    /** Bytes after the reader index already searched for a newline in vain. */
    private int scanned;

    private boolean closing;
    /**
     * Decoding waits for the client to read its replies (the connection is not writable): what it sent
     * since stays in the decoder's buffer, bounded by the inbound limits, until
     * {@link #channelWritabilityChanged} goes on with it.
     */
    private boolean paused;
    /** Inside {@link #channelWritabilityChanged}'s resume. */
    private boolean resuming;
    /** A multi-get's keys still to answer once the client reads, or null. */
    private ClassicCommands.MoreKeys more;
    /** Nothing of this connection has been read yet (a binary client shows itself by its first byte). */
    private boolean firstByte = true;
    /**
     * Bytes of values copied by this connection's commands (append, prepend) since it last gave up its turn:
     * past {@link #COPY_PER_TURN} it lets the event loop serve others before going on ({@link #yieldTurn}).
     * {@link #YIELDED} while it waits for its next turn (one field: an idle connection stays small).
     */
    private int turn;

    private static final int YIELDED = -1;

    /**
     * The most bytes a connection's commands copy before it lets the loop serve the others. An append of 0
     * bytes to a 1 MB item is a 28-byte command that copies 1 MB: one connection pipelining them held a shared
     * event loop for seconds (every daemon on it waited). memcached bounds a connection's turn the same way, by
     * requests (its {@code -R}, 20 per event).
     */
    static final int COPY_PER_TURN = 1 << 20;

    /**
     * A connection of a daemon whose commands are {@code classic} and {@code meta}; every command line executed is
     * one request of {@link ClassicCommands#requests()} (daemonkit_requests_total).
     */
    TextProtocolHandler(ClassicCommands classic, MetaCommands meta, int maxLineBytes) {
        this.classic = classic;
        this.meta = meta;
        this.maxLineBytes = maxLineBytes;
    }

    /** A connection with commands of its own (tests). */
    TextProtocolHandler(
            ItemStore store,
            CacheStats stats,
            int threads,
            long maxConnections,
            int maxLineBytes,
            RequestCounter requests) {
        this(
                new ClassicCommands(store, stats, threads, maxConnections, requests),
                new MetaCommands(store, stats),
                maxLineBytes);
    }

    // ---- connection events ---------------------------------------------------------------------

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        classic.stats().currConnections.increment();
        classic.stats().totalConnections.increment();
        super.handlerAdded(ctx);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        classic.stats().currConnections.decrement();
        if (out != null) {
            out.release();
            out = null;
        }
        if (pending != null) {
            classic.released(pending); // the connection closed in the middle of a value
            pending = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf b) {
            classic.stats().bytesRead.add(b.readableBytes());
        }
        super.channelRead(ctx, msg);
    }

    /**
     * The framework refused to buffer more of an incomplete request (inbound.max-buffered or
     * inbound.max-buffered-total): answered as a line over max-line-bytes is, then closed. Other
     * exceptions go on to the framework's barrier.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof InboundLimitExceeded) {
                if (!closing) {
                    refuseRequestTooLong(ctx);
                }
                flushReplies(ctx); // with the replies of earlier commands of this read, then close
                return;
            }
        }
        super.exceptionCaught(ctx, cause);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        flushReplies(ctx);
        if (turn == YIELDED) {
            // Not the decoder's own: with auto-read off and nothing decoded it asks for another read, and the
            // client's next commands would pile up while this connection waits for its turn.
            discardSomeReadBytes();
            ctx.fireChannelReadComplete();
            return;
        }
        super.channelReadComplete(ctx);
    }

    /**
     * The client has read enough of its replies again: answers the rest of a waiting multi-get, then decodes
     * what came meanwhile, as a read would. Memcached does the same: it reads no new command while a reply
     * waits to be sent.
     */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (!resuming) {
            // A change this causes (its own writes) comes back here nested: the loop below sees it.
            resuming = true;
            try {
                while (paused
                        && turn != YIELDED
                        && ctx.channel().isWritable()
                        && ctx.channel().isOpen()) {
                    paused = false;
                    ClassicCommands.MoreKeys keys = more;
                    if (closing) {
                        more = null; // refused input (its error line is on its way, then the close): nothing more
                    } else if (keys != null) {
                        more = null;
                        Scratch s = Scratch.begin(this, ctx);
                        try {
                            classic.moreKeys(s, keys);
                        } finally {
                            s.end();
                        }
                    }
                    if (!paused) {
                        super.channelRead(ctx, Unpooled.EMPTY_BUFFER); // decodes what the buffer holds
                    }
                    channelReadComplete(ctx); // writes the replies
                }
            } finally {
                resuming = false;
            }
        }
        super.channelWritabilityChanged(ctx);
    }

    /** Writes the replies so far now; true if the connection is no longer writable (the client reads too little). */
    boolean writeRepliesBlocked(ChannelHandlerContext ctx) {
        flushReplies(ctx);
        return !ctx.channel().isWritable();
    }

    /** A command copied {@code bytes} of values (append, prepend): counted against this connection's turn. */
    void copied(long bytes) {
        if (turn != YIELDED) {
            turn = (int) Math.min(COPY_PER_TURN, turn + bytes);
        }
    }

    /**
     * Gives up the event loop after {@link #COPY_PER_TURN}: reading stops, and a task queued behind what the loop
     * has to do for the other connections goes on (as a writability change does: the framework's front handler
     * turns reading back on and counts what the decoder still holds, then {@link #channelWritabilityChanged}
     * decodes the rest).
     */
    private void yieldTurn(ChannelHandlerContext ctx) {
        paused = true;
        turn = YIELDED;
        ctx.channel().config().setAutoRead(false);
        // Scheduled, not executed: the loop runs the tasks queued meanwhile in the same pass (up to a second of
        // them), so a task that queues itself again would never let the loop poll its sockets. A scheduled task
        // is taken at the next pass, after the loop has served its other connections' reads.
        ctx.executor()
                .schedule(
                        () -> {
                            turn = 0;
                            if (ctx.channel().isOpen()) {
                                ctx.channel().config().setAutoRead(ctx.channel().isWritable());
                                ctx.pipeline().fireChannelWritabilityChanged();
                            }
                        },
                        0,
                        TimeUnit.NANOSECONDS);
    }

    /** A multi-get stops until the client has read its replies so far; its keys left are {@code keys}. */
    void waitToAnswer(ClassicCommands.MoreKeys keys) {
        more = keys;
        paused = true;
    }

    private void flushReplies(ChannelHandlerContext ctx) {
        ByteBuf replies = out;
        out = null;
        if (replies != null && replies.isReadable()) {
            classic.stats().bytesWritten.add(replies.readableBytes());
            if (closing) {
                ctx.writeAndFlush(replies).addListener(ChannelFutureListener.CLOSE);
            } else {
                // No promise: nothing waits on this write, and a DefaultChannelPromise per reply was
                // garbage at depth 1. A failed write still reaches exceptionCaught (then the barrier).
                ctx.writeAndFlush(replies, ctx.voidPromise());
            }
            return;
        }
        if (replies != null) {
            replies.release();
        }
        if (closing) {
            ctx.close();
        }
    }

    // ---- what commands ask of their connection (through Scratch) -------------------------------

    ByteBuf out(ChannelHandlerContext ctx) {
        if (out == null) {
            out = ctx.alloc().buffer(256);
        }
        return out;
    }

    void expect(PendingStore store) {
        pending = store;
    }

    void swallow(long bytes) {
        skipping = bytes > 0 ? new Skipping(bytes) : null;
    }

    /**
     * A refused data block being skipped: an object made only then (refusals are rare), so that a held
     * idle connection carries one reference for it, not two longs.
     */
    private static final class Skipping {
        final long total;
        long remaining;
        /** The command line's bytes, its line ending included. */
        int lineBytes = 1;

        Skipping(long total) {
            this.total = total;
            this.remaining = total;
        }
    }

    /**
     * A data block spanning reads is taken out of the buffer into its own array (or skipped, when
     * refused), so the framework would not see the request as under way: this tells it, so that
     * {@code request-timeout} closes a client that trickles a value (each byte is activity, so
     * {@code idle-timeout} never would), and with it the room its value reserved in {@code memory-limit}.
     * Counted from the command line's first byte: the line, then the block's bytes so far.
     */
    @Override
    public long partialRequestBytes() {
        if (pending != null) {
            return (long) pending.lineBytes + pending.received();
        }
        Skipping k = skipping;
        return k != null ? k.lineBytes + k.total - k.remaining : 0;
    }

    void closeAfterReplies() {
        closing = true;
    }

    // ---- framing -------------------------------------------------------------------------------

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> unused) {
        while (in.isReadable()) {
            if (closing) {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (out != null && out.readableBytes() >= Scratch.REPLY_FLUSH_AT) {
                flushReplies(ctx); // replies are paced by the client's reading, not held for the whole read
            }
            if (paused || !ctx.channel().isWritable()) {
                paused = true; // channelWritabilityChanged goes on
                return;
            }
            if (turn >= COPY_PER_TURN) {
                yieldTurn(ctx); // the other connections of this loop first
                return;
            }
            Skipping k = skipping;
            if (k != null) {
                int n = (int) Math.min(in.readableBytes(), k.remaining);
                in.skipBytes(n);
                k.remaining -= n;
                if (k.remaining == 0) {
                    skipping = null;
                }
                continue;
            }
            if (pending != null) {
                if (!pending.read(in)) {
                    return;
                }
                PendingStore complete = pending;
                pending = null;
                // Its reservation goes back before it is stored: the value becomes the item, counted once.
                classic.released(complete);
                Scratch s = Scratch.begin(this, ctx);
                try {
                    if (complete.isMeta()) {
                        meta.complete(s, complete);
                    } else {
                        classic.complete(s, complete);
                    }
                } finally {
                    s.end();
                }
                continue;
            }
            int from = in.readerIndex();
            if (firstByte) {
                firstByte = false;
                if (in.getByte(from) == BINARY_REQUEST_MAGIC) {
                    // A binary-protocol client: answered at once, not when a 0x0a happens to come by.
                    writeLine(ctx, "ERROR");
                    closing = true;
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
            int lf = in.indexOf(from + scanned, in.writerIndex(), (byte) '\n');
            if (lf < 0) {
                scanned = in.readableBytes();
                if (scanned > MAX_LINE_WITHOUT_NEWLINE && !mayBeLongMultiGet(in)) {
                    closing = true; // foreign input: memcached closes without a word
                    in.skipBytes(in.readableBytes());
                } else if (scanned >= maxLineBytes) {
                    // With its line ending it would pass the limit: refused before it costs more memory.
                    refuseRequestTooLong(ctx);
                    in.skipBytes(in.readableBytes());
                }
                return;
            }
            scanned = 0;
            if (lf - from + 1 > maxLineBytes) {
                // Refused even when it came whole in one read, so that TCP's split does not decide.
                refuseRequestTooLong(ctx);
                in.skipBytes(in.readableBytes());
                return;
            }
            int length = lf - from;
            if (length > 1 && in.getByte(lf - 1) == '\r') {
                length--;
            }
            Scratch s = Scratch.begin(this, ctx);
            try {
                s.line.load(in, from, length);
                in.readerIndex(lf + 1);
                execute(s);
            } finally {
                s.end();
            }
            // A storage command now waits for its data block: its command line is part of the request
            // (partialRequestBytes), so that the read that ends a trickled line is not taken for a new one.
            if (pending != null) {
                pending.lineBytes = lf - from + 1;
            } else if (skipping != null) {
                skipping.lineBytes = lf - from + 1;
            }
        }
    }

    private void execute(Scratch s) {
        classic.requests().increment();
        CommandLine line = s.line;
        line.tokenize(0);
        if (line.ntokens < 2 || line.length(0) < 2) {
            s.reply("ERROR");
        } else if (line.first(0) == 'm' && line.length(0) == 2) {
            meta.execute(s);
        } else {
            classic.execute(s);
        }
    }

    /** One reply line outside any command (foreign input). */
    private void writeLine(ChannelHandlerContext ctx, String text) {
        ByteBuf o = out(ctx);
        o.writeCharSequence(text, StandardCharsets.US_ASCII);
        o.writeByte('\r').writeByte('\n');
    }

    /** A request longer than we buffer: memcached's error for a request it cannot buffer, then close. */
    private void refuseRequestTooLong(ChannelHandlerContext ctx) {
        writeLine(ctx, REQUEST_TOO_LONG);
        closing = true;
    }

    /** memcached waits for the newline of a long line only if it starts like a get (within 100 spaces). */
    private static boolean mayBeLongMultiGet(ByteBuf in) {
        int i = in.readerIndex();
        int spaces = 0;
        while (i < in.writerIndex() && spaces <= 100 && in.getByte(i) == ' ') {
            i++;
            spaces++;
        }
        if (spaces > 100 || in.writerIndex() - i < 5) {
            return false;
        }
        return startsWith(in, i, "get ") || startsWith(in, i, "gets ");
    }

    private static boolean startsWith(ByteBuf in, int at, String prefix) {
        for (int k = 0; k < prefix.length(); k++) {
            if (in.getByte(at + k) != prefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}
