package dev.daemonkit.internal.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.UnsupportedMessageTypeException;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslClosedEngineException;
import io.netty.handler.ssl.SslHandler;
import io.netty.internal.tcnative.SSL;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.PromiseNotifier;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The record layer of an OpenSSL (BoringSSL) TLS connection once its handshake is done: takes the place
 * of Netty's {@link SslHandler} and drives the same engine's {@code SSL*} straight through netty-tcnative,
 * the way {@link ReferenceCountedOpenSslEngine} does inside {@code unwrap} and {@code wrap}, without what
 * the {@code SSLEngine} contract and {@code SslHandler} add per record and that a connection past its
 * handshake does not need (issue 15: TLS at depth 1 cost 1.33-1.40x plaintext's server CPU per request,
 * and BoringSSL's own record work was about a third of what TLS added):
 *
 * <ul>
 *   <li>a read is decrypted straight from the socket's buffer into one pooled buffer (BoringSSL keeps a
 *       partial record itself, so there is no cumulation), with 4 calls into BoringSSL for a read of whole
 *       records: point the network BIO at the bytes, {@code SSL_read}, how many bytes are left, unset;
 *   <li>a flush encrypts the writes of the loop turn into one buffer (the loop's reusable one when their
 *       records fit in it and no write holds it, else a pooled one), with one promise: writes of up
 *       to 16 KiB in all are copied into one record first (one {@code SSL_write}, as {@code SslHandler}
 *       coalesces), a larger one goes in {@code SSL_write}s of up to 64 KiB;
 *   <li>no {@code SSLEngineResult}s, no per-wrap promise, no renegotiation check per read (BoringSSL
 *       refuses a renegotiation itself: a fatal alert, then this handler closes the connection).
 * </ul>
 *
 * <p>The handshake stays {@code SslHandler}'s (with its ALPN, client-certificate and failure paths); once
 * it succeeds, {@link #takeOver} runs as a task on the connection's loop, after the read that finished
 * it, so the handshake's events (and {@code ApplicationProtocolNegotiationHandler}) have seen
 * {@code SslHandler}. The engine stays the same object: {@code SSLSession} and certificates are unchanged.
 *
 * <p>What a peer can send after the handshake and what it gets: TLS 1.3 {@code KeyUpdate} is handled
 * inside {@code SSL_read}; the key update it asks of us is queued in the BIO by BoringSSL and goes out
 * ahead of the next reply, which is what RFC 8446 section 4.6.3 asks. A {@code close_notify} is
 * answered with ours, {@link SslCloseCompletionEvent#SUCCESS} is fired and the connection closed. Bytes
 * that are not a valid record (garbage, a bad MAC, a renegotiation attempt) send BoringSSL's alert, close
 * the connection, and reach the exception barrier as a {@link DecoderException} (a WARN "bad input").
 * A close from the pipeline sends {@code close_notify} first (without waiting for the peer's).
 *
 * <p>On the connection's loop only; the {@code SSL*} is used only while this handler holds a reference
 * to the engine ({@link #takeOver} retains it; the close, {@code channelInactive} or removal releases it).
 */
final class OpenSslRecordHandler extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(OpenSslRecordHandler.class);
    static final String NAME = "daemonkit-tls-records";

    /** TLS's largest plaintext per record. */
    private static final int MAX_PLAINTEXT = 16_384;
    /** Plaintext encrypted into one outbound buffer at most: bounds a buffer made for a large reply. */
    private static final int MAX_OUT_PLAINTEXT = 4 * MAX_PLAINTEXT;

    /** {@code ReferenceCountedOpenSslEngine.networkBIO}: private, with no accessor; null if out of reach. */
    private static final MethodHandle NETWORK_BIO;

    /**
     * The outbound buffer of a small flush (a reply and its records up to this size), one per event loop and
     * shared by its connections: reused whenever no write holds it any more, which at depth 1 is every
     * time (the socket took the last reply whole), so a request allocates, tracks for leaks and frees no
     * buffer of ciphertext (issue 15: about as much as the pipeline hop of the plaintext mark, by the
     * profile in docs/benchmarks.md). A flush while a write still holds it (the socket did not take all of
     * it yet) gets a buffer of its own, as before.
     */
    static final int REUSED_OUT_CAPACITY = 4096;

    /**
     * Where the reusable buffers come from: direct, unpooled (one per loop, for the process's life) and not
     * tracked for leaks, as a tracked buffer keeps the stack traces of its allocation and retains, which
     * name the plugin's handler that flushed, and would keep a hot-deployed plugin's old class loader
     * alive for as long as the loop (HotDeployTest checks it is collected).
     */
    private static final ByteBufAllocator REUSED_OUT_ALLOCATOR = new UnpooledByteBufAllocator(true, true);

    private static final FastThreadLocal<ByteBuf> REUSED_OUT = new FastThreadLocal<>() {
        @Override
        protected void onRemoval(ByteBuf out) {
            out.release(); // the loop's thread ends
        }
    };

    /** Connections whose records this handler took over, in this process (tests and debugging read it). */
    static final LongAdder TOOK_OVER = new LongAdder();

    static {
        MethodHandle h = null;
        try {
            h = MethodHandles.privateLookupIn(ReferenceCountedOpenSslEngine.class, MethodHandles.lookup())
                    .findGetter(ReferenceCountedOpenSslEngine.class, "networkBIO", long.class);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.debug("ReferenceCountedOpenSslEngine.networkBIO is out of reach: TLS records stay SslHandler's", e);
        }
        NETWORK_BIO = h;
    }

    private final ReferenceCountedOpenSslEngine engine;
    private final long ssl;
    private final long bio;
    private final int maxOverhead;
    /**
     * What the {@link PlaintextMark} after {@code SslHandler} ran per read of plaintext (the front handler's
     * {@link FrontHandler#plaintextRead()}), run here instead of through a handler of its own; null if none.
     */
    private final Runnable onPlaintext;

    /** The engine was released: no more calls into BoringSSL. */
    private boolean released;
    /** close_notify sent (or the connection failed): writes are refused. */
    private boolean outboundClosed;
    /** Plaintext was passed on since the last channelReadComplete. */
    private boolean firedRead;
    /**
     * BoringSSL may hold part of a record: the last read did not end on a record's end (or it is not known,
     * as after the handshake), so the next read is not decrypted in place.
     */
    private boolean mayHoldPartialRecord = true;

    /** Writes waiting for the next flush (never more than one loop turn's). */
    private ByteBuf[] pending = new ByteBuf[4];

    private ChannelPromise[] promises = new ChannelPromise[4];
    private int pendingCount;
    private long pendingBytes;
    /** The buffer records are being encrypted into, within a flush; null otherwise. */
    private ByteBuf out;

    private OpenSslRecordHandler(ReferenceCountedOpenSslEngine engine, long ssl, long bio, Runnable onPlaintext) {
        this.engine = engine;
        this.onPlaintext = onPlaintext;
        this.ssl = ssl;
        this.bio = bio;
        this.maxOverhead = SSL.getMaxWrapOverhead(ssl);
    }

    /** Whether this handler can work here: netty-tcnative's engine exposes what it needs. */
    static boolean available() {
        return NETWORK_BIO != null;
    }

    /**
     * Puts this handler in the place of {@code sslHandler} (whose handshake has succeeded), if its engine
     * is OpenSSL's and the connection is open; otherwise leaves the pipeline as it is. Anything written
     * and not flushed yet is flushed through {@code sslHandler} first; bytes it holds of a record are
     * passed to this handler as it is removed. A {@link PlaintextMark} in the pipeline is removed too: this
     * handler runs its hook itself, before each buffer of plaintext it passes on. On the connection's loop.
     *
     * @return whether this handler took over
     */
    static boolean takeOver(ChannelPipeline pipeline, SslHandler sslHandler) throws Exception {
        ChannelHandlerContext sslCtx = pipeline.context(sslHandler);
        if (NETWORK_BIO == null
                || sslCtx == null
                || !pipeline.channel().isActive()
                || !(sslHandler.engine() instanceof ReferenceCountedOpenSslEngine engine)) {
            return false;
        }
        long ssl;
        long bio;
        try {
            ssl = engine.sslPointer();
            bio = (long) NETWORK_BIO.invokeExact(engine);
        } catch (Throwable e) {
            log.debug("cannot reach the engine's SSL and BIO: TLS records stay SslHandler's", e);
            return false;
        }
        if (ssl == 0 || bio == 0 || engine.isOutboundDone() || engine.isInboundDone()) {
            return false; // closed or closing: SslHandler finishes what it began
        }
        sslHandler.flush(sslCtx); // writes made before the swap are encrypted in order, by the handler they reached
        PlaintextMark mark = pipeline.get(PlaintextMark.class);
        engine.retain(); // SslHandler releases its reference as it is removed
        OpenSslRecordHandler records =
                new OpenSslRecordHandler(engine, ssl, bio, mark == null ? null : mark.onPlaintext);
        try {
            pipeline.addAfter(sslCtx.name(), NAME, records);
        } catch (RuntimeException e) {
            engine.release();
            throw e;
        }
        FrontHandler front = pipeline.get(FrontHandler.class);
        if (front != null) {
            front.recordLayer(records); // before SslHandler's removal passes on what it holds of a record
        }
        pipeline.remove(sslHandler); // from here on, this handler releases the engine (close, inactive, removal)
        if (mark != null) {
            pipeline.remove(mark); // its hook is this handler's now
        }
        TOOK_OVER.increment();
        return true;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        boolean passedOn = false;
        try {
            if (released || !in.isReadable()) {
                return;
            }
            if (in.hasMemoryAddress()) {
                passedOn = decrypt(ctx, in);
            } else { // not the epoll or NIO transport's direct buffer (a test's, or a heap buffer)
                ByteBuf direct = ctx.alloc().directBuffer(in.readableBytes());
                direct.writeBytes(in);
                if (!decrypt(ctx, direct)) {
                    direct.release();
                }
            }
        } finally {
            if (!passedOn) {
                in.release();
            }
        }
    }

    /** The engine was released (closed): BoringSSL holds no record any more. */
    boolean released() {
        return released;
    }

    /**
     * Decrypts every whole record of {@code in}; BoringSSL keeps a last partial record for the next read.
     * Returns whether {@code in} was passed on (holding plaintext) and so is no longer this handler's to release.
     */
    private boolean decrypt(ChannelHandlerContext ctx, ByteBuf in) {
        final long address = in.memoryAddress() + in.readerIndex();
        final int length = in.readableBytes();
        int offset = 0;
        ByteBuf out;
        if (!mayHoldPartialRecord && !in.isReadOnly() && in.refCnt() == 1) {
            // In place: the plaintext of a record is shorter than its ciphertext, and BoringSSL reads a
            // record whole into its own buffer before it writes the plaintext out, so the plaintext written
            // from the read's start never reaches ciphertext the BIO has not read yet. Not after a read that
            // left BoringSSL a partial record: that record's plaintext is longer than what this read holds of it.
            out = in;
            in.writerIndex(in.readerIndex());
        } else {
            // Plaintext is never longer than the ciphertext of the same records, but a record begun in an
            // earlier read may add up to one record's plaintext, which takes a second buffer.
            out = ctx.alloc().directBuffer(Math.max(length, 64));
        }
        boolean passedOn = false;
        ByteBuf heldIn = null;
        while (true) {
            int outcome;
            int left;
            SSL.bioSetByteBuffer(bio, address + offset, length - offset, false);
            try {
                outcome = readRecords(out);
                left = outcome == DONE_ALL_READ ? 0 : SSL.bioLengthByteBuffer(bio);
            } finally {
                SSL.bioClearByteBuffer(bio); // before any handler can write (a reply encrypts through the BIO)
            }
            offset = length - left;
            mayHoldPartialRecord = outcome != DONE_ALL_READ;
            boolean more = outcome == OUT_FULL && !released;
            if (out.isReadable()) {
                if (out == in) {
                    passedOn = true;
                    if (more) {
                        // Not expected in place (a read's plaintext is shorter than the read), but the next
                        // SSL_read still reads ciphertext from in's memory: keep it until then.
                        in.retain();
                        heldIn = in;
                    }
                }
                if (onPlaintext != null) {
                    onPlaintext.run(); // per buffer of plaintext passed on, as PlaintextMark did
                }
                firedRead = true;
                ctx.fireChannelRead(out);
            } else if (out != in) {
                out.release();
            }
            if (more) {
                out = ctx.alloc().directBuffer(MAX_PLAINTEXT);
                continue; // more plaintext than the buffer held
            }
            if (heldIn != null) {
                heldIn.release();
            }
            if (outcome == CLOSE_NOTIFY) {
                closeNotifyReceived(ctx);
            } else if (outcome == FAILED) {
                failed(ctx);
            }
            return passedOn;
        }
    }

    private static final int DONE = 0;
    /** Done, and no byte of the read is left in the BIO. */
    private static final int DONE_ALL_READ = 1;

    private static final int OUT_FULL = 2;
    private static final int CLOSE_NOTIFY = 3;
    private static final int FAILED = 4;

    /** SSL_read into {@code out} until the BIO's bytes are used up, {@code out} is full, or the peer closes. */
    private int readRecords(ByteBuf out) {
        while (true) {
            int room = out.writableBytes();
            if (room == 0) {
                return OUT_FULL;
            }
            int n = SSL.readFromSSL(ssl, out.memoryAddress() + out.writerIndex(), room);
            if (n > 0) {
                out.writerIndex(out.writerIndex() + n);
                // A record's plaintext came out whole (less than the room) and no ciphertext is left: BoringSSL
                // reads a record's bytes only, never ahead, so nothing more can come out of this read. Saves
                // the SSL_read and SSL_get_error that would say so.
                if (n < room && SSL.bioLengthByteBuffer(bio) == 0) {
                    return DONE_ALL_READ;
                }
                continue;
            }
            int error = SSL.getError(ssl, n);
            if (error == SSL.SSL_ERROR_WANT_READ) {
                return DONE; // the rest of the BIO's bytes (if any) were a part of a record: BoringSSL keeps them
            }
            return error == SSL.SSL_ERROR_ZERO_RETURN ? CLOSE_NOTIFY : FAILED;
        }
    }

    /** The peer sent close_notify: ours goes back, the close event is fired, the connection closed. */
    private void closeNotifyReceived(ChannelHandlerContext ctx) {
        ctx.fireUserEventTriggered(SslCloseCompletionEvent.SUCCESS);
        close(ctx, ctx.newPromise()); // this handler's close (ctx.close() would start past it): sends close_notify
    }

    /** BoringSSL refused what it read: its alert goes out, the connection is closed, the barrier logs why. */
    private void failed(ChannelHandlerContext ctx) {
        int code = SSL.getLastErrorNumber();
        String reason = SSL.getErrorString(code);
        SSL.clearError(); // the error queue is the thread's: the loop's next connection must not see it
        ByteBuf alert = nonApplicationData(ctx, 0);
        failPending(new SslClosedEngineException("the TLS connection failed: " + reason));
        outboundClosed = true;
        if (alert != null) {
            ctx.writeAndFlush(alert);
        }
        release();
        ctx.fireExceptionCaught(
                new DecoderException(new SSLException("TLS record refused after the handshake: " + reason)));
        ctx.close();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!firedRead && !ctx.channel().config().isAutoRead()) {
            // Only ciphertext of a partial record (or a KeyUpdate) came: with auto-read off the protocol
            // asked for a message and got none, so ask the transport for more, as SslHandler does.
            ctx.read();
        }
        firedRead = false;
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf b)) {
            ReferenceCountUtil.safeRelease(msg);
            promise.setFailure(new UnsupportedMessageTypeException(msg, ByteBuf.class));
            return;
        }
        if (outboundClosed || released) {
            b.release();
            promise.setFailure(new SslClosedEngineException("the TLS connection is closed (close_notify sent)"));
            return;
        }
        if (pendingCount == pending.length) {
            pending = Arrays.copyOf(pending, pendingCount * 2);
            promises = Arrays.copyOf(promises, pendingCount * 2);
        }
        pending[pendingCount] = b;
        promises[pendingCount] = promise;
        pendingCount++;
        pendingBytes += b.readableBytes();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (pendingCount > 0) {
            encryptPending(ctx);
        }
        ctx.flush();
    }

    /** Encrypts the pending writes into as few records and buffers as their sizes allow, and writes those. */
    private void encryptPending(ChannelHandlerContext ctx) {
        ChannelPromise promise = pendingCount == 1 ? promises[0] : combinedPromise(ctx);
        long total = pendingBytes;
        // Several small writes (a reply in parts) are copied into one record, as SslHandler does: a record
        // costs 22 bytes and a seal each, and the client one open each.
        ByteBuf staged = null;
        if (pendingCount > 1 && total <= MAX_PLAINTEXT) {
            staged = ctx.alloc().directBuffer((int) total);
            for (int i = 0; i < pendingCount; i++) {
                staged.writeBytes(pending[i]);
            }
        }
        int outRoom = 0; // plaintext that out was sized for and has not taken yet
        try {
            if (staged != null) {
                out = newOut(ctx, total, 1);
                encrypt(ctx, staged, staged.readableBytes());
            } else {
                for (int i = 0; i < pendingCount; i++) {
                    ByteBuf b = pending[i];
                    ByteBuf direct = b.hasMemoryAddress() ? b : copyToDirect(ctx, b);
                    try {
                        while (direct.isReadable()) {
                            if (outRoom == 0) {
                                if (out != null) {
                                    ctx.write(out); // a large reply: in buffers of up to 64 KiB of plaintext
                                }
                                outRoom = (int) Math.min(total, MAX_OUT_PLAINTEXT);
                                out = newOut(ctx, outRoom, pendingCount - i);
                            }
                            int chunk = Math.min(direct.readableBytes(), outRoom);
                            encrypt(ctx, direct, chunk);
                            total -= chunk;
                            outRoom -= chunk;
                        }
                    } finally {
                        if (direct != b) {
                            direct.release();
                        }
                    }
                }
            }
        } catch (SSLException e) {
            if (out != null) {
                out.release();
                out = null;
            }
            releasePending();
            promise.tryFailure(e);
            outboundClosed = true;
            ctx.fireExceptionCaught(e);
            ctx.close();
            return;
        } finally {
            if (staged != null) {
                staged.release();
            }
        }
        releasePending();
        ByteBuf last = out;
        out = null;
        ctx.write(last, promise);
    }

    /**
     * An outbound buffer for {@code plaintext} bytes in {@code writes} SSL_writes or fewer, with room for
     * their records' overhead and what BoringSSL queued in the BIO.
     */
    private ByteBuf newOut(ChannelHandlerContext ctx, long plaintext, int writes) {
        // Each SSL_write of c bytes makes ceil(c / 16 KiB) records, at most c / 16 KiB + 1.
        int records = (int) (plaintext / MAX_PLAINTEXT) + writes + 1;
        // What BoringSSL queued in the BIO outside application data (the reply to a KeyUpdate) goes out ahead
        // of the next record: the BIO drains it into the same buffer.
        int queued = SSL.bioLengthNonApplication(bio);
        long size = plaintext + (long) records * maxOverhead + queued;
        if (size <= REUSED_OUT_CAPACITY) {
            ByteBuf reused = reusedOut();
            if (reused != null) {
                return reused;
            }
        }
        return ctx.alloc().directBuffer((int) size);
    }

    /**
     * This loop's reusable outbound buffer with a reference for the caller (which its write passes on), or
     * null while a write still holds it: its only other reference is the loop's, so when its count is 1 no
     * write, transport or peer handler has it any more.
     */
    private static ByteBuf reusedOut() {
        ByteBuf reused = REUSED_OUT.getIfExists();
        if (reused == null) {
            reused = REUSED_OUT_ALLOCATOR.directBuffer(REUSED_OUT_CAPACITY, REUSED_OUT_CAPACITY);
            if (!reused.hasMemoryAddress()) {
                reused.release();
                return null;
            }
            REUSED_OUT.set(reused);
        } else if (reused.refCnt() != 1) {
            return null;
        }
        return reused.clear().retain();
    }

    private static ByteBuf copyToDirect(ChannelHandlerContext ctx, ByteBuf b) {
        ByteBuf direct = ctx.alloc().directBuffer(b.readableBytes());
        direct.writeBytes(b, b.readerIndex(), b.readableBytes());
        b.skipBytes(b.readableBytes());
        return direct;
    }

    /**
     * SSL_write of {@code length} bytes of {@code plaintext} (direct, from its reader index, which it moves)
     * into {@link #out}, which is written and replaced by a
     * larger buffer if BoringSSL has more to send than it has room for (NewSessionTickets it had not sent
     * yet go out ahead of the first reply after a TLS 1.3 handshake).
     */
    private void encrypt(ChannelHandlerContext ctx, ByteBuf plaintext, int length) throws SSLException {
        int left = length;
        for (int grown = 0; ; grown++) {
            int room = out.writableBytes();
            int error = SSL.SSL_ERROR_NONE;
            SSL.bioSetByteBuffer(bio, out.memoryAddress() + out.writerIndex(), room, true);
            try {
                while (left > 0) {
                    // On SSL_ERROR_WANT_WRITE BoringSSL keeps the sealed records and expects the same
                    // arguments again: it gets them, with a new buffer.
                    int n = SSL.writeToSSL(ssl, plaintext.memoryAddress() + plaintext.readerIndex(), left);
                    if (n <= 0) {
                        error = SSL.getError(ssl, n);
                        break;
                    }
                    plaintext.skipBytes(n);
                    left -= n;
                }
            } finally {
                int produced = room - SSL.bioLengthByteBuffer(bio);
                SSL.bioClearByteBuffer(bio);
                out.writerIndex(out.writerIndex() + produced);
            }
            if (error == SSL.SSL_ERROR_NONE) {
                return;
            }
            if (error != SSL.SSL_ERROR_WANT_WRITE || grown == 8) {
                int code = SSL.getLastErrorNumber();
                SSL.clearError();
                throw new SSLException("SSL_write failed (SSL_get_error " + error + "): " + SSL.getErrorString(code));
            }
            ctx.write(out);
            out = ctx.alloc().directBuffer(left + (left / MAX_PLAINTEXT + 2) * maxOverhead + 4096);
        }
    }

    private ChannelPromise combinedPromise(ChannelHandlerContext ctx) {
        int n = 0;
        for (int i = 0; i < pendingCount; i++) {
            if (!promises[i].isVoid()) {
                n++;
            }
        }
        if (n == 0) {
            return ctx.voidPromise();
        }
        ChannelPromise[] notified = new ChannelPromise[n];
        n = 0;
        for (int i = 0; i < pendingCount; i++) {
            if (!promises[i].isVoid()) {
                notified[n++] = promises[i];
            }
        }
        ChannelPromise combined = ctx.newPromise();
        combined.addListener(new PromiseNotifier<>(false, notified));
        return combined;
    }

    private void releasePending() {
        for (int i = 0; i < pendingCount; i++) {
            pending[i].release();
            pending[i] = null;
            promises[i] = null;
        }
        pendingCount = 0;
        pendingBytes = 0;
    }

    private void failPending(Throwable cause) {
        for (int i = 0; i < pendingCount; i++) {
            pending[i].release();
            promises[i].tryFailure(cause);
            pending[i] = null;
            promises[i] = null;
        }
        pendingCount = 0;
        pendingBytes = 0;
    }

    /**
     * What BoringSSL queued outside application data (an alert, close_notify, a KeyUpdate), after
     * {@code shutdown} more bytes of it, in a new buffer; null if none.
     */
    private ByteBuf nonApplicationData(ChannelHandlerContext ctx, int room) {
        int queued = SSL.bioLengthNonApplication(bio) + room;
        if (queued == 0) {
            return null;
        }
        ByteBuf out = ctx.alloc().directBuffer(queued);
        SSL.bioSetByteBuffer(bio, out.memoryAddress(), queued, true);
        try {
            if (room > 0) {
                SSL.shutdownSSL(ssl); // writes close_notify (straight into out, after what was queued)
                SSL.clearError();
            }
            SSL.bioFlushByteBuffer(bio);
        } finally {
            int produced = queued - SSL.bioLengthByteBuffer(bio);
            SSL.bioClearByteBuffer(bio);
            out.writerIndex(produced);
        }
        if (!out.isReadable()) {
            out.release();
            return null;
        }
        return out;
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (!released && !outboundClosed && ctx.channel().isActive()) {
            // What the protocol wrote goes first, then close_notify; the close does not wait for the peer's.
            if (pendingCount > 0) {
                encryptPending(ctx);
            }
            if (!released) {
                outboundClosed = true;
                // A close_notify record: 2 bytes of alert, its header, content type and tag.
                ByteBuf closeNotify = nonApplicationData(ctx, 2 + maxOverhead + 64);
                if (closeNotify != null) {
                    ctx.write(closeNotify);
                }
                ctx.flush();
            }
        }
        failPending(new SslClosedEngineException("the TLS connection is closing"));
        release();
        ctx.close(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        failPending(new SslClosedEngineException("the connection closed before the write was encrypted"));
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        failPending(new SslClosedEngineException("the TLS handler was removed"));
        release();
    }

    /** Gives back the engine (freed by its last release); no call into BoringSSL after this. */
    private void release() {
        if (!released) {
            released = true;
            outboundClosed = true;
            engine.release();
        }
    }
}
