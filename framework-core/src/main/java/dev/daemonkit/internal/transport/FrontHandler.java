package dev.daemonkit.internal.transport;

import dev.daemonkit.api.DaemonStopping;
import dev.daemonkit.api.InboundLimitExceeded;
import dev.daemonkit.api.PartialRequest;
import dev.daemonkit.internal.config.Addresses;
import dev.daemonkit.internal.config.DaemonSettings;
import dev.daemonkit.timers.Timeout;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.uring.IoUringBufferRingExhaustedEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First handler of every connection's pipeline. One object per connection, so it does several jobs
 * to keep a held connection small: it is the connection's {@link LogScope} (daemon, connection id,
 * peer) and enters it around every inbound event, so every line the protocol's handlers log carries
 * it (a read's context stays from {@code channelRead} to the end of {@code channelReadComplete}: a
 * request then costs three MDC puts and three removes, not twice that; the profile of the cache
 * daemon showed the MDC as the framework's largest cost per request); it closes the connection
 * when it has been idle too long (its loop's {@link LoopConnections} sweeps the list it is linked
 * into: activity only records a timestamp, and the list replaces a set entry and a timer per
 * connection); it pauses reading while the outbound buffer is above its high-water mark; and while the
 * daemon drains it tells the protocol, and the loop's drain sweep closes it once it is quiet (all replies
 * written, nothing read for the quiet period).
 *
 * <p>It also holds the connection to its inbound limits and its request deadline, for every protocol
 * without code in the plugin: at the first read it finds the pipeline's {@link ByteToMessageDecoder}s
 * and becomes their cumulator, so a read that would make a decoder hold more than
 * {@code inbound.max-buffered} for an incomplete frame (or the daemon more than
 * {@code inbound.max-buffered-total}) is refused before any byte is copied; after each read it
 * counts what the decoders still hold. A connection whose decoders hold part of a request, or that
 * is inside an HTTP request, for longer than {@code request-timeout} is closed: a client trickling a
 * byte at a time never goes idle, but its request never completes either.
 */
public final class FrontHandler extends ChannelDuplexHandler implements ByteToMessageDecoder.Cumulator, LogScope {
    private static final Logger log = LoggerFactory.getLogger(FrontHandler.class);

    private final DaemonConnections owner;
    /** Kept as a number: its string, and the peer's, are built only when a line is logged (see {@link LogScope}). */
    private final long id;

    private Channel channel;
    private long lastActivityNanos;
    /** Neighbours in the daemon's list of this loop's connections ({@link LoopConnections}); on the loop only. */
    FrontHandler prevConn;

    FrontHandler nextConn;
    /**
     * The request in progress and its deadline timer, made at the first read that leaves part of a
     * request (or at a TLS accept) and kept: a held idle connection has none, 8 bytes less in this
     * object (72 to 64) than the start time and timer as fields.
     */
    private Request request;
    /** The connection's own timers, made on first use (most connections have none); closed with it. */
    private volatile AutoCloseable connectionTimers;

    private static final AtomicReferenceFieldUpdater<FrontHandler, AutoCloseable> TIMERS =
            AtomicReferenceFieldUpdater.newUpdater(FrontHandler.class, AutoCloseable.class, "connectionTimers");
    /**
     * The pipeline's decoders, found at the first read and again when one is removed; null before. The
     * usual case, one decoder that is its context's handler, is held as that context (no object of its
     * own, 24 bytes less per connection); otherwise an {@link InboundDecoders.Found}.
     */
    private Object decoders;
    /** Bytes of this connection counted in the daemon's inbound total. */
    private int counted;
    /** Inside an HTTP request: from its first byte to its last content. */
    private boolean httpInRequest;
    /** A TLS handshake is under way (from accept): bound by request-timeout like a request. */
    private boolean tlsHandshaking;
    /** The connection speaks TLS: what this handler reads is ciphertext, see {@link #plaintextRead()}. */
    private boolean tls;
    /**
     * Between {@code channelRead} and the end of {@code channelReadComplete}: the read stamped the
     * activity, so a reply written within it needs no clock read of its own (one per request at depth 1).
     */
    private boolean reading;
    /**
     * A flush left the outbound buffer above its high-water mark: the connection's replies are charged to
     * the daemon's {@link StalledReplies} until it is writable again or closed (a boolean in what was padding).
     */
    private boolean stalled;

    FrontHandler(DaemonConnections owner, long id) {
        this.owner = owner;
        this.id = id;
        this.lastActivityNanos = owner.nanoTime();
    }

    @Override
    public String connectionId() {
        LoopActivity a = LoopActivity.current();
        int i = (int) id & (LoopActivity.NAMES - 1);
        if (a.namedIds[i] != id) {
            name(a, i);
        }
        return a.ids[i];
    }

    @Override
    public String peer() {
        LoopActivity a = LoopActivity.current();
        int i = (int) id & (LoopActivity.NAMES - 1);
        if (a.namedIds[i] != id) {
            name(a, i);
        }
        return a.peers[i];
    }

    /** Builds this connection's strings into the thread's cache (see {@link LoopActivity#NAMES}). */
    private void name(LoopActivity a, int i) {
        Channel ch = channel;
        String peer =
                ch != null && ch.remoteAddress() instanceof InetSocketAddress remote ? Addresses.format(remote) : "?";
        a.ids[i] = Long.toString(id);
        a.peers[i] = peer;
        a.namedIds[i] = peer.equals("?") ? 0 : id; // not known yet: build again next time
    }

    @Override
    public String daemon() {
        return owner.daemon();
    }

    /** The connection's timers if made already, else null. */
    public AutoCloseable connectionTimers() {
        return connectionTimers;
    }

    /**
     * Installs the connection's timers unless another thread was first; returns the ones in place.
     * If the connection is already closed, they are closed at once.
     */
    public AutoCloseable installConnectionTimers(AutoCloseable made) {
        if (!TIMERS.compareAndSet(this, null, made)) {
            closeQuietly(made);
            return connectionTimers;
        }
        if (channel == null || !channel.isActive()) {
            closeQuietly(made);
        }
        return made;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.debug("closing connection timers failed", e);
        }
    }

    /** {@code daemon 'echo' connection #12 from 127.0.0.1:50012}, for log lines about a channel. */
    static String describe(Channel ch) {
        FrontHandler f = ch.pipeline().get(FrontHandler.class);
        if (f == null) {
            return "channel " + ch.id().asShortText();
        }
        return "daemon '" + f.owner.daemon() + "' connection #" + f.id + " from " + f.peer();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        lastActivityNanos = owner.nanoTime();
        owner.opened(this, ctx.channel().eventLoop()); // registered by now, and on its loop
    }

    Channel channel() {
        return channel;
    }

    long lastActivityNanos() {
        return lastActivityNanos;
    }

    /**
     * The listener speaks TLS: the connection is inside a request from its accept until the handshake
     * completes, so a client that connects and never finishes its handshake (sends nothing, half a
     * ClientHello, or stops after it) is closed at {@code request-timeout}, as a trickled request is.
     * Called at accept, on the connection's loop, before {@code channelActive}.
     */
    void tlsHandshakeStarted(io.netty.util.concurrent.Future<?> handshake) {
        tls = true;
        tlsHandshaking = true;
        request().follower = new TlsRecordFollower(); // from the first byte: see TlsRecordFollower
        handshake.addListener(f -> tlsHandshaking = false); // on this loop: SslHandler completes it there
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Object previous = enter();
        try {
            lastActivityNanos = owner.nanoTime();
            if (tlsHandshaking) {
                requestStarted(lastActivityNanos);
            }
            if (log.isDebugEnabled()) {
                log.debug("connection #{} opened from {}", id, peer());
            }
            ctx.fireChannelActive();
        } finally {
            exit(previous);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        long now = owner.nanoTime();
        lastActivityNanos = now;
        reading = true;
        if (msg instanceof ByteBuf b) {
            owner.bytesIn.add(b.readableBytes());
            if (tls) {
                Request r = request;
                if (r != null && r.follower != null) {
                    r.follower.follow(b); // before any TLS handler takes the bytes
                    InboundLimitExceeded refusal = r.records != null ? recordRoomRefused(r) : null;
                    if (refusal != null) {
                        b.release(); // before BoringSSL holds the record: the barrier closes the connection
                        ctx.fireExceptionCaught(refusal);
                        return;
                    }
                }
            }
        }
        if (decoders == null) {
            track(ctx.pipeline());
        }
        if (http() != null && !tls) {
            httpInRequest = true; // an HTTP request begins, or goes on, with these bytes
        }
        Object previous = enter();
        try {
            ctx.fireChannelRead(msg);
        } finally {
            afterRead(ctx, now);
            if (previous != null) {
                exit(previous); // nested in another connection's event: give it its context back
            }
            // Outermost: the context stays for the rest of this read, until channelReadComplete.
        }
    }

    /**
     * Becomes the cumulator of every decoder in the pipeline (wrapping one the protocol chose itself)
     * and watches the end of HTTP requests if there is an HTTP decoder.
     */
    private void track(ChannelPipeline pipeline) {
        InboundDecoders.Found found = InboundDecoders.scan(pipeline);
        for (int i = 0; i < found.count(); i++) {
            ByteToMessageDecoder d = found.decoder(i);
            // The last decoder's input is what tells a new request from the one going on (afterRead); with a
            // single decoder that is the front handler itself as cumulator, else a cumulator that says so.
            boolean last = i == found.count() - 1;
            boolean alone = found.count() == 1;
            ByteToMessageDecoder.Cumulator c = InboundDecoders.cumulatorOf(d);
            if (c == this) {
                if (alone) {
                    continue;
                }
                c = ByteToMessageDecoder.MERGE_CUMULATOR;
            } else if (c instanceof ChargedCumulator charged && charged.front == this) {
                if (charged.last == last) {
                    continue;
                }
                c = charged.delegate;
            }
            d.setCumulator(
                    alone && c == ByteToMessageDecoder.MERGE_CUMULATOR ? this : new ChargedCumulator(c, this, last));
        }
        boolean watching = pipeline.get(HttpRequestEnd.NAME) != null;
        if (found.http() != null && !watching) {
            pipeline.addAfter(found.http().name(), HttpRequestEnd.NAME, new HttpRequestEnd(this));
        } else if (found.http() == null) {
            httpInRequest = false;
            if (watching) {
                pipeline.remove(HttpRequestEnd.NAME); // the HTTP decoder is gone (a WebSocket upgrade)
            }
        }
        decoders = found instanceof InboundDecoders.One one && one.context().handler() == one.decoder()
                ? one.context()
                : found;
    }

    /** The HTTP request decoder's context, or null (none, or the decoders not found yet). */
    private ChannelHandlerContext http() {
        return decoders instanceof InboundDecoders.Found found ? found.http() : null;
    }

    /** After a read: counts what the decoders still hold and starts or ends the request's deadline. */
    private void afterRead(ChannelHandlerContext ctx, long readAt) {
        if (!ctx.channel().isOpen()) {
            return; // closed during the read: channelInactive gives back what was counted
        }
        int held = heldNow();
        if (held < 0) {
            track(ctx.pipeline()); // a decoder was removed: the protocol changed its pipeline
            held = Math.max(0, heldNow());
        }
        Request r = request;
        // A TLS record begun and not finished, which BoringSSL holds where no decoder shows it (the lean path):
        // its room is counted with what the decoders hold, its bytes time a request.
        boolean lean = r != null && r.records != null && !r.records.released();
        int partialRecord = lean ? r.follower.partialBytes() : 0;
        int room = lean ? r.follower.room() : 0;
        if (lean) {
            r.roomCounted = room;
        }
        int charged = held + room;
        if (charged != counted) {
            owner.buffered(charged - counted);
            counted = charged;
        }
        // What a decoder keeps of a request outside its buffer (PartialRequest) times it, but is not
        // counted against the inbound limits: the protocol holds it to limits of its own.
        long outside = keptOutside();
        long partial = held + outside + partialRecord;
        if (partial > 0 || httpInRequest || tlsHandshaking) {
            if (r == null || r.startNanos == 0) {
                requestStarted(readAt);
            } else if (!httpInRequest
                    && !tlsHandshaking
                    && (r.addedThisRead > 0
                                    && (decoders instanceof ChannelHandlerContext ? held : lastHeldOfMany()) + outside
                                            <= r.addedThisRead
                            || held + outside == 0 && r.plaintextThisRead)) {
                // The last decoder got bytes and holds none from before this read (decoders take bytes from
                // the front, so none of those before it does either): the request those bytes began is done,
                // and what the decoders hold now is one begun in this read. Without this a client streaming
                // requests, each read ending inside the next one, was one endless request to the deadline and
                // closed at request-timeout (a bulk load past 20 s). Only the last decoder's input counts: a
                // TLS record of 30 bytes carrying one byte of a trickled line must not look like progress.
                // With nothing held past the record layer, a record that was opened in this read (plaintext
                // came) means the partial record now held began after it, in this read: a client streaming
                // large records to a daemon without a decoder (echo) is not one endless request either.
                requestStarted(readAt);
            }
        } else if (r != null) {
            r.startNanos = 0;
        }
        if (r != null) {
            r.addedThisRead = 0;
            r.plaintextThisRead = false;
        }
    }

    /**
     * This read goes on with a partial record that BoringSSL will hold once the record layer has it: refused
     * (returned, and kept: later reads are refused too), as a decoder's read is in {@link #charge}, if the growth
     * of its room since the last count would pass the daemon's {@code inbound.max-buffered-total}; else null.
     * A record never passes the connection's {@code max-buffered}, which is at least 18 KiB with TLS listeners.
     */
    private InboundLimitExceeded recordRoomRefused(Request r) {
        if (refused != null) {
            return refused;
        }
        int growth = r.follower.room() - r.roomCounted;
        if (growth <= 0) {
            return null;
        }
        long limit = owner.inbound().maxBufferedTotal();
        long all = owner.buffered();
        if (all + growth <= limit) {
            return null;
        }
        return refused = owner.inboundRefused(
                InboundLimitExceeded.Limit.DAEMON,
                limit,
                "connection #" + id + " from " + peer() + ": the daemon's connections hold " + all
                        + " bytes of incomplete requests; a TLS record begun by this one would hold " + growth
                        + " more, past daemons." + owner.daemon() + ".inbound.max-buffered-total (" + limit
                        + " bytes)");
    }

    /**
     * The TLS record layer after the handshake when it is {@link OpenSslRecordHandler}: the bytes of a record
     * it has begun to receive time a request. On the connection's loop, as the handler takes over.
     */
    void recordLayer(OpenSslRecordHandler records) {
        Request r = request();
        if (r.follower != null) { // its records followed from the first byte (told of the handshake at accept)
            r.records = records;
        }
    }

    /** The request object, made now if there is none yet (it holds no request until one starts). */
    private Request request() {
        Request r = request;
        if (r == null) {
            r = new Request(this);
            request = r;
        }
        return r;
    }

    /**
     * Bytes the last of several decoders (the one nearest the protocol) holds now, 0 if it has been removed.
     * With a single decoder that is what {@link #heldNow()} gave, and afterRead uses it.
     */
    private int lastHeldOfMany() {
        InboundDecoders.Found found = (InboundDecoders.Found) decoders;
        int n = found.count();
        return n == 0 || found.context(n - 1).isRemoved() ? 0 : InboundDecoders.held(found.decoder(n - 1));
    }

    /** Bytes of a request under way that the decoders keep outside their buffers ({@link PartialRequest}). */
    private long keptOutside() {
        if (decoders instanceof ChannelHandlerContext only) {
            return only.handler() instanceof PartialRequest p ? Math.max(0, p.partialRequestBytes()) : 0;
        }
        InboundDecoders.Found found = (InboundDecoders.Found) decoders;
        long kept = 0;
        for (int i = 0; i < found.count(); i++) {
            if (found.decoder(i) instanceof PartialRequest p) {
                kept += Math.max(0, p.partialRequestBytes());
            }
        }
        return kept;
    }

    /** Bytes the pipeline's decoders hold now, or -1 if one of them has been removed. */
    private int heldNow() {
        if (decoders instanceof ChannelHandlerContext only) {
            return only.isRemoved() ? -1 : InboundDecoders.held((ByteToMessageDecoder) only.handler());
        }
        InboundDecoders.Found found = (InboundDecoders.Found) decoders;
        int held = 0;
        for (int i = 0; i < found.count(); i++) {
            if (found.context(i).isRemoved()) {
                return -1;
            }
            held += InboundDecoders.held(found.decoder(i));
        }
        return held;
    }

    /**
     * How long this connection has had no request in progress and read and written nothing, or -1 if
     * a request is in progress. Read from other threads (a racy but harmless read, for eviction).
     */
    long idleFor(long now) {
        Request r = request;
        return r != null && r.startNanos != 0 ? -1 : now - lastActivityNanos;
    }

    /**
     * Called (by the handler after the TLS handler) when decrypted bytes arrive, within a read: on a TLS
     * connection, only these begin an HTTP request. A read that carried only TLS records (the client's
     * last handshake message of a browser's preconnect, an alert) must not look like one, or an idle
     * keep-alive connection would be cut at request-timeout.
     */
    void plaintextRead() {
        Request r = request;
        if (r != null) {
            r.plaintextThisRead = true;
        }
        if (http() != null) {
            httpInRequest = true;
        }
    }

    /** Called by {@link HttpRequestEnd} when the last content of an HTTP request has been decoded. */
    void httpRequestEnded() {
        httpInRequest = false;
    }

    /**
     * The first refusal of this connection's input. The connection is closing then, but on io_uring with a
     * buffer ring reads already received keep arriving until the close completes (16 for one attacker in
     * HostileClientsOnIoUringTest): they are refused too, and counted and reported once.
     */
    private InboundLimitExceeded refused;

    @Override
    public ByteBuf cumulate(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
        return charge(alloc, cumulation, in, ByteToMessageDecoder.MERGE_CUMULATOR, true);
    }

    /**
     * A decoder is about to add {@code in} to the bytes it holds: refused (nothing copied, {@code in}
     * released) if that would pass the connection's or the daemon's inbound limit.
     */
    ByteBuf charge(
            ByteBufAllocator alloc,
            ByteBuf cumulation,
            ByteBuf in,
            ByteToMessageDecoder.Cumulator delegate,
            boolean lastDecoder) {
        int incoming = in.readableBytes();
        if (refused != null) {
            in.release();
            throw refused;
        }
        Request r = request;
        if (r != null && lastDecoder) {
            r.addedThisRead += incoming;
        }
        if (incoming > 0 && cumulation != in) {
            DaemonSettings.Inbound limits = owner.inbound();
            long held = cumulation.readableBytes();
            if (held + incoming > limits.maxBuffered()) {
                in.release();
                throw refused = owner.inboundRefused(
                        InboundLimitExceeded.Limit.CONNECTION,
                        limits.maxBuffered(),
                        "connection #" + id + " from " + peer() + ": an incomplete request would hold "
                                + (held + incoming)
                                + " bytes, over daemons." + owner.daemon() + ".inbound.max-buffered ("
                                + limits.maxBuffered()
                                + " bytes)");
            }
            long all = owner.buffered();
            if (all + incoming > limits.maxBufferedTotal()) {
                in.release();
                throw refused = owner.inboundRefused(
                        InboundLimitExceeded.Limit.DAEMON,
                        limits.maxBufferedTotal(),
                        "connection #" + id + " from " + peer() + ": the daemon's connections hold " + all
                                + " bytes of incomplete requests; " + incoming + " more would pass daemons."
                                + owner.daemon()
                                + ".inbound.max-buffered-total (" + limits.maxBufferedTotal() + " bytes)");
            }
        }
        return delegate.cumulate(alloc, cumulation, in);
    }

    /**
     * A protocol's own cumulator, or any decoder's when the pipeline has several, held to the same limits;
     * {@code last}: the decoder nearest the protocol, whose input afterRead counts.
     */
    private static final class ChargedCumulator implements ByteToMessageDecoder.Cumulator {
        final ByteToMessageDecoder.Cumulator delegate;
        final FrontHandler front;
        final boolean last;

        ChargedCumulator(ByteToMessageDecoder.Cumulator delegate, FrontHandler front, boolean last) {
            this.delegate = delegate;
            this.front = front;
            this.last = last;
        }

        @Override
        public ByteBuf cumulate(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
            return front.charge(alloc, cumulation, in, delegate, last);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Object previous = enter();
        try {
            ctx.fireChannelReadComplete();
        } finally {
            reading = false;
            exit(previous == this ? null : previous); // the read is over: take the context out
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IoUringBufferRingExhaustedEvent) {
            owner.ringExhausted.increment(); // Netty re-arms the read itself; counted so an operator can size the ring
        }
        Object previous = enter();
        try {
            ctx.fireUserEventTriggered(evt);
        } finally {
            exit(previous);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Object previous = enter();
        try {
            ctx.fireExceptionCaught(cause);
        } finally {
            exit(previous);
        }
    }

    /**
     * A read asked for by a handler (a decoder that produced nothing, Netty's WebSocket handler after each
     * ping it answers) while the client does not read its replies is not passed on: turning auto-read off
     * alone did not stop those, and a client sending WebSocket pings and reading nothing had the server read
     * on and queue pongs until the heap ran out (the launcher died with every daemon in it). Reading resumes
     * when the replies drain ({@link #channelWritabilityChanged}: auto-read on, which reads).
     */
    @Override
    public void read(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            ctx.read();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // A client that does not read its replies must not make us buffer without bound: stop reading
        // its requests until the outbound buffer drains below the low-water mark.
        // The request deadline keeps running meanwhile: a client that could make the server write without
        // finishing its request (a TLS KeyUpdate, a push) could otherwise stop the clock for good.
        boolean writable = ctx.channel().isWritable();
        ctx.channel().config().setAutoRead(writable);
        if (writable && stalled) {
            stalled = false;
            owner.repliesResumed(this);
        }
        int heldBefore = writable && decoders != null ? heldNow() : -1;
        Object previous = enter();
        try {
            ctx.fireChannelWritabilityChanged();
        } finally {
            exit(previous);
        }
        if (heldBefore >= 0 && ctx.channel().isOpen()) {
            // A protocol that paused decoding while its client read too little (the cache: pipelined requests
            // waiting behind unread replies) goes on with what its decoder holds on this event, outside a read:
            // count what is left, or a request it finished would still look under way to the deadline and the
            // inbound total. If it answered some of what it held, the requests are moving: the clock restarts
            // for what is left (a client reading a long pipelined batch slowly is not cut at request-timeout;
            // a partial request at the end of the buffer is never answered, so it gets no more time this way).
            long now = owner.nanoTime();
            afterRead(ctx, now);
            int heldAfter = heldNow();
            Request r = request;
            if (heldAfter >= 0 && heldAfter < heldBefore && r != null && r.startNanos != 0) {
                requestStarted(now);
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimers();
        if (stalled) {
            stalled = false;
            owner.repliesResumed(this);
        }
        if (counted != 0) {
            owner.buffered(-counted);
            counted = 0;
        }
        AutoCloseable timers = connectionTimers;
        if (timers != null) {
            closeQuietly(timers);
        }
        owner.closed(this);
        Object previous = enter();
        try {
            if (log.isDebugEnabled()) {
                log.debug("connection #{} from {} closed", id, peer());
            }
            ctx.fireChannelInactive();
        } finally {
            exit(previous == this ? null : previous); // the connection is gone: take its context out
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!reading) {
            lastActivityNanos = owner.nanoTime();
        }
        if (msg instanceof ByteBuf b) {
            owner.bytesOut.add(b.readableBytes());
        }
        ctx.write(msg, promise);
    }

    /**
     * After the transport has written what the socket takes: a connection still above its high-water mark
     * holds the rest for a client that is not reading, and is charged to the daemon's cap on such bytes
     * (which may close it, or another connection stalled longer). One volatile read per flush otherwise.
     */
    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        Channel ch = ctx.channel();
        if (!ch.isWritable() && ch.isOpen()) {
            ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
            if (out != null) {
                stalled = true;
                owner.repliesStalled(this, out.totalPendingWriteBytes());
            }
        }
    }

    /** The connection's number, as its log lines name it. */
    long id() {
        return id;
    }

    private void cancelTimers() {
        Request r = request;
        if (r != null && r.check != null) {
            r.check.cancel();
            r.check = null;
        }
    }

    /** A request begins at {@code at}: its deadline is armed. */
    private void requestStarted(long at) {
        Request r = request();
        r.startNanos = at;
        long timeout = owner.requestTimeoutNanos();
        if (timeout > 0 && r.check == null) {
            r.check = owner.timers().schedule(Duration.ofNanos(timeout), r);
        }
    }

    /** The request in progress (start 0: none) and its deadline timer; the timer's task too. */
    private static final class Request implements Runnable {
        final FrontHandler front;
        long startNanos;
        /** Bytes given to the decoders in the read under way (see afterRead). */
        int addedThisRead;
        /** The record layer passed plaintext on in the read under way (a record was opened). */
        boolean plaintextThisRead;
        /**
         * The lean TLS record layer, whose partial record is part of the request ({@link #recordLayer}); on a
         * TLS connection, the only kind that has one, this object exists from the accept.
         */
        OpenSslRecordHandler records;
        /** A TLS connection's records, followed from its first byte (null on a plaintext connection). */
        TlsRecordFollower follower;
        /** The room of a partial record counted in the daemon's inbound total at the last count. */
        int roomCounted;

        Timeout check;

        Request(FrontHandler front) {
            this.front = front;
        }

        @Override
        public void run() {
            front.requestCheck(this);
        }
    }

    /** On the connection's loop: close it if its request has taken too long; otherwise look again later. */
    private void requestCheck(Request r) {
        r.check = null;
        Channel ch = channel;
        long timeout = owner.requestTimeoutNanos();
        if (ch == null || !ch.isOpen() || r.startNanos == 0 || timeout <= 0) {
            return;
        }
        long took = owner.nanoTime() - r.startNanos;
        if (took < timeout) {
            r.check = owner.timers().schedule(Duration.ofNanos(timeout - took), r);
            return;
        }
        Object previous = enter();
        try {
            owner.requestTimedOut("connection #" + id + " from " + peer()
                    + (tlsHandshaking
                            ? " began its TLS handshake " + TimeUnit.NANOSECONDS.toMillis(took)
                                    + " ms ago and has not finished it"
                            : " sent part of a request " + TimeUnit.NANOSECONDS.toMillis(took)
                                    + " ms ago and has not finished it")
                    + ": closed at daemons." + owner.daemon() + ".request-timeout ("
                    + TimeUnit.NANOSECONDS.toMillis(timeout) + " ms)");
        } finally {
            exit(previous);
        }
        ch.close();
    }

    /**
     * Called by its loop's idle sweep: closes the connection if it has been idle for {@code timeout}
     * and returns 0, else returns how long it may stay idle yet.
     */
    long idleLeft(long now, long timeout) {
        Channel ch = channel;
        if (ch == null || !ch.isOpen()) {
            return 0;
        }
        long idleFor = now - lastActivityNanos;
        if (idleFor < timeout) {
            return timeout - idleFor;
        }
        Object previous = enter();
        try {
            log.debug(
                    "connection #{} from {} idle for {} ms, closing it",
                    id,
                    peer(),
                    TimeUnit.NANOSECONDS.toMillis(idleFor));
        } finally {
            exit(previous);
        }
        ch.close();
        return 0;
    }

    /** On the connection's loop, as the daemon drains: tells the protocol it stops. */
    void tellStopping(DaemonStopping event) {
        Channel ch = channel;
        if (ch == null || !ch.isOpen()) {
            return;
        }
        Object previous = enter();
        try {
            ch.pipeline().fireUserEventTriggered(event);
        } finally {
            exit(previous);
        }
    }
}
