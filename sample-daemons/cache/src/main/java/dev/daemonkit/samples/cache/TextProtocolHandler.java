package dev.daemonkit.samples.cache;

import dev.daemonkit.api.InboundLimitExceeded;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * One connection of the memcached text protocol (classic and meta commands), replying byte for byte
 * as memcached 1.6.18 does, including its errors. Its structure follows memcached's proto_text.c on
 * purpose: the same tokenizer (24 tokens, split on spaces only, a NUL ends the line), the same order
 * of checks, and the same "noreply" rules, because clients and conformance checkers depend on which
 * error wins when a line has several faults.
 *
 * <p>Speed: a command line is copied once into a per-connection array and tokenized in place; keys
 * are looked up straight from that array (no String, no key object); replies of all commands of one
 * read go into one buffer that is written and flushed once, in {@link #channelReadComplete}. A value
 * is read straight into the byte array the store keeps, so a large value is never cumulated.
 *
 * <p>Not shareable: one instance per connection, used on its event loop only.
 */
final class TextProtocolHandler extends ByteToMessageDecoder {
    static final String VERSION = "1.6.18";
    static final int KEY_MAX_LENGTH = 250;
    /** memcached's MAX_TOKENS: the tokenizer stops after 23 tokens; the rest is one unparsed tail. */
    private static final int MAX_TOKENS = 24;
    /** A line this long without a newline is not a command (unless a multi-get): close, as memcached does. */
    private static final int MAX_LINE_WITHOUT_NEWLINE = 2048;
    /** The first byte of every request of memcached's binary protocol. */
    private static final byte BINARY_REQUEST_MAGIC = (byte) 0x80;
    /**
     * memcached's words when it cannot grow its read buffer for a long request (then it closes).
     * Ours when a line passes max-line-bytes or the framework refuses to buffer more of a request.
     */
    static final String REQUEST_TOO_LONG = "SERVER_ERROR out of memory reading request";
    private static final int META_MAX_TOKENS = 20;
    private static final int META_MAX_OPAQUE_LENGTH = 32;

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] VALUE = ascii("VALUE ");
    private static final byte[] END = ascii("END\r\n");

    private final ItemStore store;
    private final CacheStats stats;
    private final int threads;
    private final long maxConnections;
    /** No command line, counted with its line ending, may be longer (the setting max-line-bytes). */
    private final int maxLineBytes;
    /**
     * Scratch space used only while one read is processed. It lives once per event loop thread, not
     * once per connection: a held, idle connection should cost its socket and little more, and the
     * ~600 bytes of these arrays times 19,000 connections would be 11 MB of nothing.
     */
    private static final class Scratch {
        byte[] line = new byte[256];
        final int[] tokenStart = new int[MAX_TOKENS];
        final int[] tokenEnd = new int[MAX_TOKENS];
        final Ascii number = new Ascii();
        final ItemStore.Seen seen = new ItemStore.Seen();
        final long[] casOut = new long[1];
        final int[] sizeOut = new int[1];
    }

    private static final FastThreadLocal<Scratch> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected Scratch initialValue() {
            return new Scratch();
        }
    };

    // The scratch of the connection's event loop thread (set in handlerAdded, on that thread).
    private Ascii number;
    private ItemStore.Seen seen;

    /** The current command line, copied out of the input (NUL-truncated, CR stripped). */
    private byte[] line;
    private int lineLength;
    /** Bytes after the reader index already searched for a newline in vain. */
    private int scanned;

    private int[] tokenStart;
    private int[] tokenEnd;
    /** As memcached counts: the real tokens plus one terminal token of length 0. */
    private int ntokens;

    /** Replies of the current read, flushed once in channelReadComplete. */
    private ByteBuf out;
    private boolean noreply;
    private boolean closing;
    /** Nothing of this connection has been read yet (a binary client shows itself by its first byte). */
    private boolean firstByte = true;

    // A storage command waiting for its data block, or an error waiting for the block to be skipped.
    private static final int READ_LINE = 0;
    private static final int READ_DATA = 1;
    private static final int SWALLOW = 2;
    private int state = READ_LINE;
    private long swallowRemaining;
    private ItemStore.StoreMode pendingMode;
    private byte[] pendingKey;
    private boolean pendingBinaryKey;
    private long pendingFlags;
    private long pendingExptime;
    private long pendingCas;
    private byte[] pendingData;
    private int pendingFilled;
    private int pendingTail;
    private byte pendingTail0;
    private byte pendingTail1;
    private boolean pendingMeta;
    private boolean pendingVivify;
    private boolean pendingSetStale;
    /** ms: the return flags, in order, as (flag char, opaque token) pairs packed into text. */
    private byte[] pendingReturnFlags;
    private long[] casOut;
    private int[] sizeOut;

    TextProtocolHandler(ItemStore store, CacheStats stats, int threads, long maxConnections, int maxLineBytes) {
        this.store = store;
        this.stats = stats;
        this.threads = threads;
        this.maxConnections = maxConnections;
        this.maxLineBytes = maxLineBytes;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    // ---- connection events ---------------------------------------------------------------------

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        Scratch scratch = SCRATCH.get();
        line = scratch.line;
        tokenStart = scratch.tokenStart;
        tokenEnd = scratch.tokenEnd;
        number = scratch.number;
        seen = scratch.seen;
        casOut = scratch.casOut;
        sizeOut = scratch.sizeOut;
        stats.currConnections.increment();
        stats.totalConnections.increment();
        super.handlerAdded(ctx);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        stats.currConnections.decrement();
        if (out != null) {
            out.release();
            out = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf b) {
            stats.bytesRead.add(b.readableBytes());
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
                flushReplies(ctx);   // with the replies of earlier commands of this read, then close
                return;
            }
        }
        super.exceptionCaught(ctx, cause);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        flushReplies(ctx);
        super.channelReadComplete(ctx);
    }

    private void flushReplies(ChannelHandlerContext ctx) {
        ByteBuf replies = out;
        out = null;
        if (replies != null && replies.isReadable()) {
            stats.bytesWritten.add(replies.readableBytes());
            if (closing) {
                ctx.writeAndFlush(replies).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.writeAndFlush(replies);
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

    private ByteBuf out(ChannelHandlerContext ctx) {
        if (out == null) {
            out = ctx.alloc().buffer(256);
        }
        return out;
    }

    // ---- framing -------------------------------------------------------------------------------

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> unused) {
        while (in.isReadable()) {
            if (closing) {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (state == SWALLOW) {
                int n = (int) Math.min(in.readableBytes(), swallowRemaining);
                in.skipBytes(n);
                swallowRemaining -= n;
                if (swallowRemaining == 0) {
                    state = READ_LINE;
                }
                continue;
            }
            if (state == READ_DATA) {
                if (!readData(in)) {
                    return;
                }
                state = READ_LINE;
                completeStore(ctx);
                continue;
            }
            int from = in.readerIndex();
            if (firstByte) {
                firstByte = false;
                if (in.getByte(from) == BINARY_REQUEST_MAGIC) {
                    // A binary-protocol client: answered at once, not when a 0x0a happens to come by.
                    replyError(ctx, "ERROR");
                    closing = true;
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
            int lf = in.indexOf(from + scanned, in.writerIndex(), (byte) '\n');
            if (lf < 0) {
                scanned = in.readableBytes();
                if (scanned > MAX_LINE_WITHOUT_NEWLINE && !mayBeLongMultiGet(in)) {
                    closing = true;   // foreign input: memcached closes without a word
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
            if (line.length < length) {
                line = new byte[Math.max(length, line.length * 2)];
                SCRATCH.get().line = line;
            }
            in.getBytes(from, line, 0, length);
            in.readerIndex(lf + 1);
            lineLength = length;
            for (int i = 0; i < length; i++) {
                if (line[i] == 0) {
                    lineLength = i;   // C strings: memcached sees the line only up to a NUL
                    break;
                }
            }
            processCommand(ctx);
        }
    }

    /** A request longer than we buffer: memcached's error for a request it cannot buffer, then close. */
    private void refuseRequestTooLong(ChannelHandlerContext ctx) {
        replyError(ctx, REQUEST_TOO_LONG);
        closing = true;
    }

    /** memcached waits for the newline of a long line only if it starts like a get (within 100 spaces). */
    private boolean mayBeLongMultiGet(ByteBuf in) {
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

    /** Reads the data block of a storage command into its array; true once it and its CRLF are in. */
    private boolean readData(ByteBuf in) {
        int missing = pendingData.length - pendingFilled;
        if (missing > 0) {
            int n = Math.min(missing, in.readableBytes());
            in.readBytes(pendingData, pendingFilled, n);
            pendingFilled += n;
            if (pendingFilled < pendingData.length) {
                return false;
            }
        }
        while (pendingTail < 2 && in.isReadable()) {
            if (pendingTail == 0) {
                pendingTail0 = in.readByte();
            } else {
                pendingTail1 = in.readByte();
            }
            pendingTail++;
        }
        return pendingTail == 2;
    }

    // ---- tokens --------------------------------------------------------------------------------

    /** memcached's tokenize_command over the line from {@code from}. */
    private void tokenize(int from) {
        int n = 0;
        int s = from;
        int e = from;
        for (; e < lineLength; e++) {
            if (line[e] == ' ') {
                if (s != e) {
                    tokenStart[n] = s;
                    tokenEnd[n] = e;
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
            tokenStart[n] = s;
            tokenEnd[n] = e;
            n++;
        }
        // The terminal token: empty, and starting at the unparsed tail if the tokenizer stopped early.
        tokenStart[n] = e;
        tokenEnd[n] = e;
        n++;
        ntokens = n;
    }

    private int length(int token) {
        return tokenEnd[token] - tokenStart[token];
    }

    private boolean is(int token, String word) {
        int len = length(token);
        if (len != word.length()) {
            return false;
        }
        int at = tokenStart[token];
        for (int i = 0; i < len; i++) {
            if (line[at + i] != word.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private byte first(int token) {
        return line[tokenStart[token]];
    }

    /** memcached's set_noreply_maybe: the last real token is exactly "noreply". */
    private boolean setNoreplyMaybe() {
        if (ntokens >= 2 && is(ntokens - 2, "noreply")) {
            noreply = true;
        }
        return noreply;
    }

    // ---- replies -------------------------------------------------------------------------------

    /** memcached's out_string: one line, unless noreply was asked for (which it then clears). */
    private void reply(ChannelHandlerContext ctx, String text) {
        if (noreply) {
            noreply = false;
            return;
        }
        ByteBuf o = out(ctx);
        o.writeCharSequence(text, StandardCharsets.US_ASCII);
        o.writeBytes(CRLF);
    }

    /** memcached's out_errstring: an error line that noreply does not silence (meta commands). */
    private void replyError(ChannelHandlerContext ctx, String text) {
        noreply = false;
        reply(ctx, text);
    }

    // ---- dispatch ------------------------------------------------------------------------------

    private void processCommand(ChannelHandlerContext ctx) {
        noreply = false;
        tokenize(0);
        if (ntokens < 2 || length(0) < 2) {
            reply(ctx, "ERROR");
            return;
        }
        byte first = first(0);
        if (first == 'm' && length(0) == 2) {
            switch (line[tokenStart[0] + 1]) {
                case 'g' -> metaGet(ctx);
                case 's' -> metaSet(ctx);
                case 'd' -> metaDelete(ctx);
                case 'a' -> metaArithmetic(ctx);
                case 'n' -> reply(ctx, "MN");
                case 'e' -> metaDebug(ctx);
                default -> reply(ctx, "ERROR");
            }
        } else if (first == 'g') {
            if (ntokens < 3) {
                reply(ctx, "ERROR");
            } else if (is(0, "get")) {
                get(ctx, false, false);
            } else if (is(0, "gets")) {
                get(ctx, true, false);
            } else if (is(0, "gat")) {
                get(ctx, false, true);
            } else if (is(0, "gats")) {
                get(ctx, true, true);
            } else {
                reply(ctx, "ERROR");
            }
        } else if (first == 's') {
            if (is(0, "set")) {
                update(ctx, ItemStore.StoreMode.SET, 6, 7);
            } else if (is(0, "stats")) {
                stats(ctx);
            } else if (is(0, "shutdown")) {
                reply(ctx, "ERROR: shutdown not enabled");
            } else {
                reply(ctx, "ERROR");
            }
        } else if (first == 'a') {
            if (is(0, "add")) {
                update(ctx, ItemStore.StoreMode.ADD, 6, 7);
            } else if (is(0, "append")) {
                update(ctx, ItemStore.StoreMode.APPEND, 6, 7);
            } else {
                reply(ctx, "ERROR");
            }
        } else if (first == 'c') {
            if (is(0, "cas")) {
                update(ctx, ItemStore.StoreMode.CAS, 7, 8);
            } else {
                reply(ctx, "ERROR");
            }
        } else if (first == 'i') {
            if (is(0, "incr")) {
                if (ntokens != 4 && ntokens != 5) {
                    reply(ctx, "ERROR");
                } else {
                    arithmetic(ctx, true);
                }
            } else {
                reply(ctx, "ERROR");
            }
        } else if (first == 'd') {
            if (is(0, "delete")) {
                if (ntokens < 3 || ntokens > 5) {
                    reply(ctx, "ERROR");
                } else {
                    delete(ctx);
                }
            } else if (is(0, "decr")) {
                if (ntokens != 4 && ntokens != 5) {
                    reply(ctx, "ERROR");
                } else {
                    arithmetic(ctx, false);
                }
            } else {
                reply(ctx, "ERROR");
            }
        } else if (first == 't') {
            if (is(0, "touch")) {
                if (ntokens != 4 && ntokens != 5) {
                    reply(ctx, "ERROR");
                } else {
                    touch(ctx);
                }
            } else {
                reply(ctx, "ERROR");
            }
        } else if (is(0, "replace")) {
            update(ctx, ItemStore.StoreMode.REPLACE, 6, 7);
        } else if (is(0, "prepend")) {
            update(ctx, ItemStore.StoreMode.PREPEND, 6, 7);
        } else if (is(0, "bget")) {
            if (ntokens < 3) {
                reply(ctx, "ERROR");
            } else {
                get(ctx, false, false);
            }
        } else if (is(0, "flush_all")) {
            if (ntokens < 2 || ntokens > 4) {
                reply(ctx, "ERROR");
            } else {
                flushAll(ctx);
            }
        } else if (is(0, "version")) {
            reply(ctx, "VERSION " + VERSION);
        } else if (is(0, "quit")) {
            closing = true;
        } else if (is(0, "verbosity")) {
            if (ntokens != 3 && ntokens != 4) {
                reply(ctx, "ERROR");
            } else {
                verbosity(ctx);
            }
        } else if (ntokens >= 2 && startsWithHttp(ntokens - 2)) {
            closing = true;   // a web browser or HTTP client: memcached hangs up on it
        } else {
            reply(ctx, "ERROR");
        }
    }

    private boolean startsWithHttp(int token) {
        if (length(token) < 5) {
            return false;
        }
        int at = tokenStart[token];
        return line[at] == 'H' && line[at + 1] == 'T' && line[at + 2] == 'T' && line[at + 3] == 'P'
                && line[at + 4] == '/';
    }

    // ---- classic commands ----------------------------------------------------------------------

    private void get(ChannelHandlerContext ctx, boolean returnCas, boolean touch) {
        int keyToken = 1;
        long exptime = Long.MIN_VALUE;
        if (touch) {
            if (!number.parseSigned32(line, tokenStart[1], tokenEnd[1])) {
                reply(ctx, "CLIENT_ERROR invalid exptime argument");
                return;
            }
            exptime = store.absoluteExptime(number.value, store.now());
            keyToken = 2;
        }
        ByteBuf o = out(ctx);
        // All words after the command are keys, however many: memcached re-tokenizes past 24 tokens.
        int i = tokenStart[keyToken];
        while (i < lineLength) {
            if (line[i] == ' ') {
                i++;
                continue;
            }
            int start = i;
            while (i < lineLength && line[i] != ' ') {
                i++;
            }
            int len = i - start;
            if (len > KEY_MAX_LENGTH) {
                // memcached drops every reply it has not sent yet, even those of earlier commands of
                // the same read, and answers only the error.
                o.clear();
                reply(ctx, "CLIENT_ERROR bad command line format");
                return;
            }
            Item it = store.get(line, start, len, true, exptime, null);
            if (touch) {
                stats.cmdTouch.increment();
                (it != null ? stats.touchHits : stats.touchMisses).increment();
            } else {
                stats.cmdGet.increment();
                (it != null ? stats.getHits : stats.getMisses).increment();
            }
            if (it != null) {
                o.writeBytes(VALUE);
                o.writeBytes(it.key);
                o.writeByte(' ');
                Ascii.writeUnsigned(o, it.flags);
                o.writeByte(' ');
                Ascii.writeUnsigned(o, it.value.length);
                if (returnCas) {
                    o.writeByte(' ');
                    Ascii.writeUnsigned(o, it.cas);
                }
                o.writeBytes(CRLF);
                o.writeBytes(it.value);
                o.writeBytes(CRLF);
            }
        }
        o.writeBytes(END);
    }

    private void update(ChannelHandlerContext ctx, ItemStore.StoreMode mode, int tokensA, int tokensB) {
        if (ntokens != tokensA && ntokens != tokensB) {
            reply(ctx, "ERROR");
            return;
        }
        setNoreplyMaybe();
        if (length(1) > KEY_MAX_LENGTH) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        long flags;
        long exptime;
        long vlen;
        if (!number.parseUnsigned32(line, tokenStart[2], tokenEnd[2])) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        flags = number.value;
        if (!number.parseSigned32(line, tokenStart[3], tokenEnd[3])) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        exptime = number.value;
        if (!number.parseSigned32(line, tokenStart[4], tokenEnd[4])) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        vlen = number.value;
        long now = store.now();
        exptime = store.absoluteExptime(exptime, now);
        long reqCas = 0;
        if (mode == ItemStore.StoreMode.CAS) {
            if (!number.parseUnsigned64(line, tokenStart[5], tokenEnd[5])) {
                reply(ctx, "CLIENT_ERROR bad command line format");
                return;
            }
            reqCas = number.value;
        }
        if (vlen < 0 || vlen > Integer.MAX_VALUE - 2) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        int keyLength = length(1);
        if (!store.sizeOk(keyLength, flags, vlen) || Item.sizeOf(keyLength, flags, vlen) > store.limit()) {
            if (!store.sizeOk(keyLength, flags, vlen)) {
                stats.storeTooLarge.increment();
                reply(ctx, "SERVER_ERROR object too large for cache");
            } else {
                stats.storeNoMemory.increment();
                reply(ctx, "SERVER_ERROR out of memory storing object");
            }
            swallow(vlen + 2);
            if (mode == ItemStore.StoreMode.SET) {
                // Unacceptable for a failed set to leave the old value readable.
                store.remove(line, tokenStart[1], keyLength);
            }
            return;
        }
        expectData(mode, copyToken(1), false, flags, exptime, reqCas, (int) vlen);
        pendingMeta = false;
        pendingVivify = false;
        pendingSetStale = false;
    }

    private byte[] copyToken(int token) {
        return Arrays.copyOfRange(line, tokenStart[token], tokenEnd[token]);
    }

    private void swallow(long bytes) {
        swallowRemaining = bytes;
        state = SWALLOW;
    }

    private void expectData(ItemStore.StoreMode mode, byte[] key, boolean binaryKey, long flags, long exptime,
                            long reqCas, int vlen) {
        pendingMode = mode;
        pendingKey = key;
        pendingBinaryKey = binaryKey;
        pendingFlags = flags;
        pendingExptime = exptime;
        pendingCas = reqCas;
        pendingData = vlen == 0 ? EMPTY : new byte[vlen];
        pendingFilled = 0;
        pendingTail = 0;
        state = READ_DATA;
    }

    private static final byte[] EMPTY = new byte[0];

    private void completeStore(ChannelHandlerContext ctx) {
        stats.cmdSet.increment();
        byte[] data = pendingData;
        pendingData = null;
        if (pendingTail0 != '\r' || pendingTail1 != '\n') {
            if (pendingMeta) {
                noreply = false;   // meta sets always report errors
            }
            reply(ctx, "CLIENT_ERROR bad data chunk");
            return;
        }
        casOut[0] = 0;
        sizeOut[0] = data.length;
        ItemStore.StoreResult result = store.store(pendingMode, pendingKey, pendingBinaryKey, data, pendingFlags,
                pendingExptime, pendingCas, pendingSetStale, pendingVivify, casOut, sizeOut);
        if (pendingMeta) {
            finishMetaSet(ctx, result);
            return;
        }
        switch (result) {
            case STORED -> reply(ctx, "STORED");
            case EXISTS -> reply(ctx, "EXISTS");
            case NOT_FOUND -> reply(ctx, "NOT_FOUND");
            case NOT_STORED -> reply(ctx, "NOT_STORED");
            case TOO_LARGE -> reply(ctx, "SERVER_ERROR object too large for cache");
            case NO_MEMORY -> reply(ctx, "SERVER_ERROR out of memory storing object");
        }
    }

    private void touch(ChannelHandlerContext ctx) {
        setNoreplyMaybe();
        if (length(1) > KEY_MAX_LENGTH) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        if (!number.parseSigned32(line, tokenStart[2], tokenEnd[2])) {
            reply(ctx, "CLIENT_ERROR invalid exptime argument");
            return;
        }
        long exptime = store.absoluteExptime(number.value, store.now());
        Item it = store.get(line, tokenStart[1], length(1), true, exptime, null);
        stats.cmdTouch.increment();
        if (it != null) {
            stats.touchHits.increment();
            reply(ctx, "TOUCHED");
        } else {
            stats.touchMisses.increment();
            reply(ctx, "NOT_FOUND");
        }
    }

    private final long[] deltaResult = new long[1];
    private final Item[] deltaItem = new Item[1];

    private void arithmetic(ChannelHandlerContext ctx, boolean incr) {
        setNoreplyMaybe();
        if (length(1) > KEY_MAX_LENGTH) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        if (!number.parseUnsigned64(line, tokenStart[2], tokenEnd[2])) {
            reply(ctx, "CLIENT_ERROR invalid numeric delta argument");
            return;
        }
        switch (store.delta(line, tokenStart[1], length(1), incr, number.value, 0, deltaResult, deltaItem)) {
            case OK -> reply(ctx, Long.toUnsignedString(deltaResult[0]));
            case NON_NUMERIC -> reply(ctx, "CLIENT_ERROR cannot increment or decrement non-numeric value");
            case NO_MEMORY -> reply(ctx, "SERVER_ERROR out of memory");
            case NOT_FOUND -> {
                (incr ? stats.incrMisses : stats.decrMisses).increment();
                reply(ctx, "NOT_FOUND");
            }
            case EXISTS -> { }
        }
        deltaItem[0] = null;
    }

    private void delete(ChannelHandlerContext ctx) {
        if (ntokens > 3) {
            boolean holdIsZero = is(2, "0");
            boolean setsNoreply = setNoreplyMaybe();
            boolean valid = (ntokens == 4 && (holdIsZero || setsNoreply))
                    || (ntokens == 5 && holdIsZero && setsNoreply);
            if (!valid) {
                reply(ctx, "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
                return;
            }
        }
        if (length(1) > KEY_MAX_LENGTH) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        ItemStore.DeleteResult r = store.delete(line, tokenStart[1], length(1), 0, false, Long.MIN_VALUE);
        reply(ctx, r == ItemStore.DeleteResult.DELETED ? "DELETED" : "NOT_FOUND");
    }

    private void verbosity(ChannelHandlerContext ctx) {
        setNoreplyMaybe();
        if (!number.parseUnsigned32(line, tokenStart[1], tokenEnd[1])) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        reply(ctx, "OK");   // we log through the framework; the level is accepted and ignored
    }

    private void flushAll(ChannelHandlerContext ctx) {
        setNoreplyMaybe();
        stats.cmdFlush.increment();
        long delay = 0;
        if (ntokens != (noreply ? 3 : 2)) {
            if (!number.parseSigned32(line, tokenStart[1], tokenEnd[1])) {
                reply(ctx, "CLIENT_ERROR invalid exptime argument");
                return;
            }
            delay = number.value;
        }
        store.flushAll(delay);
        reply(ctx, "OK");
    }

    private void stats(ChannelHandlerContext ctx) {
        if (ntokens == 2) {
            stats.write(out(ctx), store, threads, maxConnections);
        } else if (is(1, "reset")) {
            stats.reset();
            reply(ctx, "RESET");
        } else if (is(1, "detail")) {
            if (ntokens < 4) {
                reply(ctx, "CLIENT_ERROR usage: stats detail on|off|dump");
            } else if (is(2, "on") || is(2, "off")) {
                reply(ctx, "OK");
            } else if (is(2, "dump")) {
                out(ctx).writeBytes(END);
            } else {
                reply(ctx, "CLIENT_ERROR usage: stats detail on|off|dump");
            }
        } else if (is(1, "settings") || is(1, "items") || is(1, "slabs") || is(1, "sizes") || is(1, "conns")) {
            // We have no slabs, and these lists describe memcached's internals: an empty list.
            out(ctx).writeBytes(END);
        } else {
            reply(ctx, "ERROR");
        }
    }

    // ---- meta commands -------------------------------------------------------------------------

    /** What a meta command's flags asked for (memcached's struct _meta_flags), reset per command. */
    private boolean mfValue;
    private boolean mfNoUpdate;
    private boolean mfVivify;
    private boolean mfNoReply;
    private boolean mfHasCas;
    private boolean mfNewTtl;
    private boolean mfKeyBinary;
    private boolean mfSetStale;
    private byte mfMode;
    private long mfExptime;
    private long mfAutovivExptime;
    private long mfRecacheTime;
    private long mfClientFlags;
    private long mfReqCas;
    private long mfDelta;
    private long mfInitial;
    /** The key after the b flag's base64 decoding. */
    private byte[] mfKey;
    private String mfError;
    private final boolean[] mfSeen = new boolean[127];

    /** memcached's _meta_flag_preparse: false with {@link #mfError} set if a flag is bad. */
    private boolean metaPreparse(int start) {
        mfValue = mfNoUpdate = mfVivify = mfNoReply = mfHasCas = mfNewTtl = mfKeyBinary = mfSetStale = false;
        mfMode = 0;
        mfExptime = mfAutovivExptime = mfRecacheTime = mfClientFlags = mfReqCas = mfInitial = 0;
        mfDelta = 1;
        mfKey = null;
        mfError = "CLIENT_ERROR bad command line format";
        Arrays.fill(mfSeen, false);
        boolean hasError = false;
        long now = store.now();
        for (int i = start; i < ntokens - 1; i++) {
            int o = first(i) & 0xff;
            if (o >= 127 || mfSeen[o]) {
                mfError = "CLIENT_ERROR duplicate flag";
                return false;
            }
            mfSeen[o] = true;
            int argStart = tokenStart[i] + 1;
            int argEnd = tokenEnd[i];
            switch (o) {
                case 'b' -> {
                    mfKeyBinary = true;
                    try {
                        mfKey = Base64.getDecoder().decode(copyToken(1));
                    } catch (IllegalArgumentException e) {
                        mfKey = null;
                    }
                    if (mfKey == null || mfKey.length == 0) {
                        mfError = "CLIENT_ERROR error decoding key";
                        hasError = true;
                    }
                }
                case 'N' -> {
                    mfVivify = true;
                    if (!number.parseSigned32(line, argStart, argEnd)) {
                        mfError = "CLIENT_ERROR bad token in command line format";
                        hasError = true;
                    } else {
                        mfAutovivExptime = store.absoluteExptime(number.value, now);
                    }
                }
                case 'T' -> {
                    if (!number.parseSigned32(line, argStart, argEnd)) {
                        mfError = "CLIENT_ERROR bad token in command line format";
                        hasError = true;
                    } else {
                        mfExptime = store.absoluteExptime(number.value, now);
                        mfNewTtl = true;
                    }
                }
                case 'R' -> {
                    if (!number.parseSigned32(line, argStart, argEnd)) {
                        mfError = "CLIENT_ERROR bad token in command line format";
                        hasError = true;
                    } else {
                        mfRecacheTime = store.absoluteExptime(number.value, now);
                    }
                }
                case 'l', 'h', 'O', 'P', 'L', 'k', 's', 't', 'c', 'f' -> { }
                case 'v' -> mfValue = true;
                case 'u' -> mfNoUpdate = true;
                case 'q' -> mfNoReply = true;
                case 'F' -> {
                    if (!number.parseUnsigned32(line, argStart, argEnd)) {
                        hasError = true;
                    } else {
                        mfClientFlags = number.value;
                    }
                }
                case 'C' -> {
                    if (!number.parseUnsigned64(line, argStart, argEnd)) {
                        mfError = "CLIENT_ERROR bad token in command line format";
                        hasError = true;
                    } else {
                        mfReqCas = number.value;
                        mfHasCas = true;
                    }
                }
                case 'M' -> {
                    if (length(i) != 2) {
                        mfError = "CLIENT_ERROR incorrect length for M token";
                        hasError = true;
                    } else {
                        mfMode = line[argStart];
                    }
                }
                case 'J' -> {
                    if (!number.parseUnsigned64(line, argStart, argEnd)) {
                        mfError = "CLIENT_ERROR invalid numeric initial value";
                        hasError = true;
                    } else {
                        mfInitial = number.value;
                    }
                }
                case 'D' -> {
                    if (!number.parseUnsigned64(line, argStart, argEnd)) {
                        mfError = "CLIENT_ERROR invalid numeric delta value";
                        hasError = true;
                    } else {
                        mfDelta = number.value;
                    }
                }
                case 'I' -> mfSetStale = true;
                default -> {
                    mfError = "CLIENT_ERROR invalid flag";
                    return false;
                }
            }
        }
        if (mfKey == null) {
            mfKey = copyToken(1);
        }
        return !hasError;
    }

    private void writeMetaKey(ByteBuf o, byte[] key, boolean binary) {
        o.writeByte(' ');
        o.writeByte('k');
        if (binary) {
            o.writeBytes(Base64.getEncoder().encode(key));
            o.writeByte(' ');
            o.writeByte('b');
        } else {
            o.writeBytes(key);
        }
    }

    private void writeOpaque(ByteBuf o, int token) {
        o.writeByte(' ');
        o.writeBytes(line, tokenStart[token], length(token));
    }

    private void writeTtl(ByteBuf o, long exptime, long now) {
        o.writeByte(' ');
        o.writeByte('t');
        if (exptime == 0) {
            o.writeByte('-');
            o.writeByte('1');
        } else {
            Ascii.writeUnsigned(o, (exptime - now) & 0xFFFF_FFFFL);
        }
    }

    private void metaGet(ChannelHandlerContext ctx) {
        if (ntokens < 3) {
            reply(ctx, "ERROR");
            return;
        }
        if (length(1) > KEY_MAX_LENGTH) {
            replyError(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        if (ntokens > META_MAX_TOKENS) {
            replyError(ctx, "CLIENT_ERROR options flags are too long");
            return;
        }
        if (!metaPreparse(2)) {
            replyError(ctx, mfError);
            return;
        }
        stats.cmdMeta.increment();
        noreply = mfNoReply;
        byte[] key = mfKey;
        ByteBuf o = out(ctx);
        int mark = o.writerIndex();
        Item it;
        boolean ttlSet = false;
        synchronized (store) {
            long now = store.now();
            it = store.get(key, 0, key.length, false, Long.MIN_VALUE, seen);
            boolean created = false;
            if (it == null && mfVivify) {
                it = store.addIfAbsent(key, mfKeyBinary, EMPTY, 0);
                created = it != null;
                seen.fetched = false;
                seen.lastAccess = now;
            }
            if (it != null) {
                boolean won = false;
                long exptime = it.exptime;
                if (mfValue) {
                    o.writeByte('V').writeByte('A').writeByte(' ');
                    Ascii.writeUnsigned(o, it.value.length);
                } else {
                    o.writeByte('H').writeByte('D');
                }
                for (int i = 2; i < ntokens - 1; i++) {
                    switch (first(i)) {
                        case 'T' -> {
                            ttlSet = true;
                            exptime = mfExptime;
                            store.setExptime(it, exptime);
                        }
                        case 'N' -> {
                            if (created) {
                                exptime = mfAutovivExptime;
                                store.setExptime(it, exptime);
                                won = true;
                            }
                        }
                        case 'R' -> {
                            if (!it.tokenSent && !created && exptime != 0 && exptime < mfRecacheTime) {
                                won = true;
                            }
                        }
                        case 's' -> {
                            o.writeByte(' ').writeByte('s');
                            Ascii.writeUnsigned(o, it.value.length);
                        }
                        case 't' -> writeTtl(o, exptime, now);
                        case 'c' -> {
                            o.writeByte(' ').writeByte('c');
                            Ascii.writeUnsigned(o, it.cas);
                        }
                        case 'f' -> {
                            o.writeByte(' ').writeByte('f');
                            Ascii.writeUnsigned(o, it.flags);
                        }
                        case 'l' -> {
                            o.writeByte(' ').writeByte('l');
                            Ascii.writeUnsigned(o, (now - seen.lastAccess) & 0xFFFF_FFFFL);
                        }
                        case 'h' -> o.writeByte(' ').writeByte('h').writeByte(seen.fetched ? '1' : '0');
                        case 'O' -> {
                            if (length(i) > META_MAX_OPAQUE_LENGTH) {
                                o.writerIndex(mark);
                                replyError(ctx, "CLIENT_ERROR opaque token too long");
                                return;
                            }
                            writeOpaque(o, i);
                        }
                        case 'k' -> writeMetaKey(o, it.key, it.binaryKey);
                        default -> { }
                    }
                }
                if (it.tokenSent) {
                    o.writeByte(' ').writeByte('Z');
                }
                if (it.stale) {
                    o.writeByte(' ').writeByte('X');
                    if (!it.tokenSent) {
                        won = true;
                    }
                }
                if (won) {
                    o.writeByte(' ').writeByte('W');
                    it.tokenSent = true;
                }
                o.writeBytes(CRLF);
                if (!mfNoUpdate) {
                    store.get(key, 0, key.length, true, Long.MIN_VALUE, null);   // the delayed LRU bump
                }
            }
        }
        if (it != null) {
            if (mfValue) {
                o.writeBytes(it.value);
                o.writeBytes(CRLF);
            }
            if (ttlSet) {
                stats.cmdTouch.increment();
                stats.touchHits.increment();
            } else {
                stats.cmdGet.increment();
                stats.getHits.increment();
            }
            return;
        }
        if (ttlSet || mfNewTtl) {
            stats.cmdTouch.increment();
            stats.touchMisses.increment();
        } else {
            stats.cmdGet.increment();
            stats.getMisses.increment();
        }
        o.writeByte('E').writeByte('N');
        for (int i = 2; i < ntokens - 1; i++) {
            switch (first(i)) {
                case 'O' -> {
                    if (length(i) > META_MAX_OPAQUE_LENGTH) {
                        o.writerIndex(mark);
                        replyError(ctx, "CLIENT_ERROR opaque token too long");
                        return;
                    }
                    writeOpaque(o, i);
                }
                case 'k' -> writeMetaKey(o, key, mfKeyBinary);
                default -> { }
            }
        }
        o.writeBytes(CRLF);
        if (noreply) {
            o.writerIndex(mark);   // q: a miss is not worth a line
        }
    }

    private void metaSet(ChannelHandlerContext ctx) {
        if (ntokens < 3) {
            reply(ctx, "ERROR");
            return;
        }
        if (length(1) > KEY_MAX_LENGTH || ntokens == 3) {
            replyError(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        if (ntokens > META_MAX_TOKENS) {
            replyError(ctx, "CLIENT_ERROR options flags too long");
            return;
        }
        if (!number.parseSigned32(line, tokenStart[2], tokenEnd[2])
                || number.value < 0 || number.value > Integer.MAX_VALUE - 2) {
            replyError(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        int vlen = (int) number.value;
        stats.cmdMeta.increment();
        if (!metaPreparse(3)) {
            metaSetFailed(ctx, vlen, mfError);
            return;
        }
        noreply = mfNoReply;
        long exptime = mfExptime;
        String error = null;
        StringBuilder returns = new StringBuilder();
        for (int i = 2; i < ntokens - 1; i++) {
            switch (first(i)) {
                case 'O' -> {
                    if (length(i) > META_MAX_OPAQUE_LENGTH) {
                        error = "CLIENT_ERROR opaque token too long";
                    } else {
                        returns.append(' ').append(new String(line, tokenStart[i], length(i), StandardCharsets.ISO_8859_1));
                    }
                }
                case 'k', 'c', 's' -> returns.append(' ').append((char) first(i));
                default -> { }
            }
        }
        ItemStore.StoreMode mode;
        switch (mfMode) {
            case 0, 'S' -> mode = ItemStore.StoreMode.SET;
            case 'E' -> mode = ItemStore.StoreMode.ADD;
            case 'A' -> mode = ItemStore.StoreMode.APPEND;
            case 'P' -> mode = ItemStore.StoreMode.PREPEND;
            case 'R' -> mode = ItemStore.StoreMode.REPLACE;
            default -> {
                metaSetFailed(ctx, vlen, "CLIENT_ERROR invalid mode for ms M token");
                return;
            }
        }
        // memcached 1.6.18 accepts N on ms but does not autovivify appends (1.6.19 does): neither do we.
        boolean vivify = false;
        if (mfHasCas && (mode == ItemStore.StoreMode.SET || mode == ItemStore.StoreMode.REPLACE)) {
            mode = ItemStore.StoreMode.CAS;
        }
        if (error != null) {
            metaSetFailed(ctx, vlen, error);
            return;
        }
        if (!store.sizeOk(mfKey.length, mfClientFlags, vlen) || Item.sizeOf(mfKey.length, mfClientFlags, vlen) > store.limit()) {
            String e;
            if (!store.sizeOk(mfKey.length, mfClientFlags, vlen)) {
                stats.storeTooLarge.increment();
                e = "SERVER_ERROR object too large for cache";
            } else {
                stats.storeNoMemory.increment();
                e = "SERVER_ERROR out of memory storing object";
            }
            store.remove(mfKey, 0, mfKey.length);
            metaSetFailed(ctx, vlen, e);
            return;
        }
        expectData(mode, mfKey, mfKeyBinary, mfClientFlags, exptime, mfReqCas, vlen);
        pendingMeta = true;
        pendingVivify = vivify;
        pendingSetStale = mfSetStale && mode == ItemStore.StoreMode.CAS;
        pendingReturnFlags = returns.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private void metaSetFailed(ChannelHandlerContext ctx, int vlen, String error) {
        swallow(vlen + 2L);
        replyError(ctx, error);
    }

    private void finishMetaSet(ChannelHandlerContext ctx, ItemStore.StoreResult result) {
        String code;
        switch (result) {
            case STORED -> code = "HD";
            case EXISTS -> code = "EX";
            case NOT_FOUND -> code = "NF";
            case NOT_STORED -> code = "NS";
            default -> {
                replyError(ctx, "SERVER_ERROR out of memory storing object");
                return;
            }
        }
        if (result == ItemStore.StoreResult.STORED && noreply) {
            noreply = false;
            return;
        }
        ByteBuf o = out(ctx);
        o.writeCharSequence(code, StandardCharsets.US_ASCII);
        byte[] flags = pendingReturnFlags;
        for (int i = 0; i < flags.length; i++) {
            if (flags[i] != ' ') {
                continue;
            }
            byte f = flags[i + 1];
            if (f == 'k' && (i + 2 == flags.length || flags[i + 2] == ' ')) {
                writeMetaKey(o, pendingKey, pendingBinaryKey);
            } else if (f == 'c' && (i + 2 == flags.length || flags[i + 2] == ' ')) {
                o.writeByte(' ').writeByte('c');
                Ascii.writeUnsigned(o, result == ItemStore.StoreResult.STORED ? casOut[0] : 0);
            } else if (f == 's' && (i + 2 == flags.length || flags[i + 2] == ' ')) {
                o.writeByte(' ').writeByte('s');
                Ascii.writeUnsigned(o, sizeOut[0]);
            } else {
                int end = i + 1;
                while (end < flags.length && flags[end] != ' ') {
                    end++;
                }
                o.writeBytes(flags, i, end - i);
            }
        }
        o.writeBytes(CRLF);
        noreply = false;
    }

    private void metaDelete(ChannelHandlerContext ctx) {
        if (ntokens < 3) {
            reply(ctx, "ERROR");
            return;
        }
        if (length(1) > KEY_MAX_LENGTH) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        if (ntokens > META_MAX_TOKENS) {
            reply(ctx, "CLIENT_ERROR options flags too long");
            return;
        }
        if (!metaPreparse(2)) {
            replyError(ctx, "CLIENT_ERROR invalid or duplicate flag");
            return;
        }
        stats.cmdMeta.increment();
        noreply = mfNoReply;
        ByteBuf o = out(ctx);
        int mark = o.writerIndex();
        o.writeByte('?').writeByte('?');
        for (int i = 2; i < ntokens - 1; i++) {
            switch (first(i)) {
                case 'O' -> {
                    if (length(i) > META_MAX_OPAQUE_LENGTH) {
                        o.writerIndex(mark);
                        replyError(ctx, "CLIENT_ERROR opaque token too long");
                        return;
                    }
                    writeOpaque(o, i);
                }
                case 'k' -> writeMetaKey(o, mfKey, mfKeyBinary);
                default -> { }
            }
        }
        o.writeBytes(CRLF);
        ItemStore.DeleteResult r = store.delete(mfKey, 0, mfKey.length, mfHasCas ? mfReqCas : 0, mfSetStale,
                mfNewTtl ? mfExptime : Long.MIN_VALUE);
        switch (r) {
            case DELETED -> {
                if (noreply) {
                    o.writerIndex(mark);
                    noreply = false;
                    return;
                }
                o.setByte(mark, 'H').setByte(mark + 1, 'D');
            }
            case EXISTS -> o.setByte(mark, 'E').setByte(mark + 1, 'X');
            case NOT_FOUND -> o.setByte(mark, 'N').setByte(mark + 1, 'F');
        }
        noreply = false;
    }

    private void metaArithmetic(ChannelHandlerContext ctx) {
        if (ntokens < 3) {
            reply(ctx, "ERROR");
            return;
        }
        if (length(1) > KEY_MAX_LENGTH) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        if (ntokens > META_MAX_TOKENS) {
            reply(ctx, "CLIENT_ERROR options flags too long");
            return;
        }
        if (!metaPreparse(2)) {
            replyError(ctx, "CLIENT_ERROR invalid or duplicate flag");
            return;
        }
        stats.cmdMeta.increment();
        noreply = mfNoReply;
        boolean incr;
        switch (mfMode) {
            case 0, 'I', '+' -> incr = true;
            case 'D', '-' -> incr = false;
            default -> {
                replyError(ctx, "CLIENT_ERROR invalid mode for ma M token");
                return;
            }
        }
        byte[] key = mfKey;
        ByteBuf o = out(ctx);
        int mark = o.writerIndex();
        synchronized (store) {
            long now = store.now();
            Item it = null;
            boolean created = false;
            long value = 0;
            String code = null;
            switch (store.delta(key, 0, key.length, incr, mfDelta, mfHasCas ? mfReqCas : 0, deltaResult, deltaItem)) {
                case OK -> {
                    it = deltaItem[0];
                    value = deltaResult[0];
                }
                case NON_NUMERIC -> {
                    replyError(ctx, "CLIENT_ERROR cannot increment or decrement non-numeric value");
                    return;
                }
                case NO_MEMORY -> {
                    replyError(ctx, "SERVER_ERROR out of memory");
                    return;
                }
                case NOT_FOUND -> {
                    if (mfVivify) {
                        byte[] digits = Long.toUnsignedString(mfInitial).getBytes(StandardCharsets.US_ASCII);
                        it = store.addIfAbsent(key, mfKeyBinary, digits, 0);
                        if (it == null) {
                            replyError(ctx, "SERVER_ERROR Out of memory allocating new item");
                            return;
                        }
                        created = true;
                        value = mfInitial;
                    } else {
                        (incr ? stats.incrMisses : stats.decrMisses).increment();
                        code = "NF";
                    }
                }
                case EXISTS -> code = "EX";
            }
            deltaItem[0] = null;
            if (it != null) {
                if (noreply) {
                    noreply = false;
                    // q: a success is not worth a line, but the flags may still change the item
                }
                boolean silent = mfNoReply;
                String digits = Long.toUnsignedString(value);
                if (mfValue) {
                    o.writeCharSequence("VA ", StandardCharsets.US_ASCII);
                    Ascii.writeUnsigned(o, digits.length());
                } else {
                    o.writeByte('H').writeByte('D');
                }
                long exptime = it.exptime;
                for (int i = 2; i < ntokens - 1; i++) {
                    switch (first(i)) {
                        case 'c' -> {
                            o.writeByte(' ').writeByte('c');
                            Ascii.writeUnsigned(o, it.cas);
                        }
                        case 't' -> writeTtl(o, exptime, now);
                        case 'T' -> {
                            exptime = mfExptime;
                            store.setExptime(it, exptime);
                        }
                        case 'N' -> {
                            if (created) {
                                exptime = mfAutovivExptime;
                                store.setExptime(it, exptime);
                            }
                        }
                        case 'O' -> {
                            if (length(i) > META_MAX_OPAQUE_LENGTH) {
                                o.writerIndex(mark);
                                replyError(ctx, "CLIENT_ERROR opaque token too long");
                                return;
                            }
                            writeOpaque(o, i);
                        }
                        case 'k' -> writeMetaKey(o, key, mfKeyBinary);
                        default -> { }
                    }
                }
                if (mfValue) {
                    o.writeBytes(CRLF);
                    o.writeCharSequence(digits, StandardCharsets.US_ASCII);
                }
                o.writeBytes(CRLF);
                if (silent) {
                    o.writerIndex(mark);
                }
                return;
            }
            o.writeCharSequence(code, StandardCharsets.US_ASCII);
            for (int i = 2; i < ntokens - 1; i++) {
                switch (first(i)) {
                    case 'O' -> {
                        if (length(i) > META_MAX_OPAQUE_LENGTH) {
                            o.writerIndex(mark);
                            replyError(ctx, "CLIENT_ERROR opaque token too long");
                            return;
                        }
                        writeOpaque(o, i);
                    }
                    case 'k' -> writeMetaKey(o, key, mfKeyBinary);
                    default -> { }
                }
            }
            o.writeBytes(CRLF);
            noreply = false;
        }
    }

    /** "me": memcached's debug view of one item. */
    private void metaDebug(ChannelHandlerContext ctx) {
        if (ntokens < 3 || length(1) > KEY_MAX_LENGTH) {
            reply(ctx, "CLIENT_ERROR bad command line format");
            return;
        }
        byte[] key = copyToken(1);
        boolean binary = false;
        if (ntokens >= 4 && is(2, "b")) {
            try {
                key = Base64.getDecoder().decode(key);
            } catch (IllegalArgumentException e) {
                key = EMPTY;
            }
            if (key.length == 0) {
                reply(ctx, "CLIENT_ERROR bad command line format");
                return;
            }
            binary = true;
        }
        stats.cmdMeta.increment();
        synchronized (store) {
            long now = store.now();
            Item it = store.get(key, 0, key.length, false, Long.MIN_VALUE, seen);
            if (it == null) {
                reply(ctx, "EN");
                return;
            }
            String shown = it.binaryKey || binary
                    ? Base64.getEncoder().encodeToString(it.key)
                    : new String(it.key, StandardCharsets.ISO_8859_1);
            reply(ctx, "ME " + shown + " exp=" + (it.exptime == 0 ? -1 : now - it.exptime)
                    + " la=" + (now - it.time) + " cas=" + it.cas + " fetch=" + (it.fetched ? "yes" : "no")
                    + " cls=" + SlabClasses.classOf(it.size()) + " size=" + it.size());
        }
    }
}
