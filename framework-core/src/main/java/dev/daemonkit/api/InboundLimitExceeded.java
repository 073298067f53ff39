package dev.daemonkit.api;

import io.netty.handler.codec.TooLongFrameException;

/**
 * Raised in a connection's pipeline when the framework refuses to buffer more of an incomplete
 * request: the bytes a connection's decoders hold would pass {@code inbound.max-buffered} of the
 * daemon's block ({@link Limit#CONNECTION}), or all connections of the daemon together would pass
 * {@code inbound.max-buffered-total} ({@link Limit#DAEMON}). The bytes that did not fit were never
 * copied (the check runs before the decoder's buffer grows).
 *
 * <p>It reaches the {@code exceptionCaught} of the decoder whose buffer would have grown, then the
 * rest of the pipeline. A protocol that wants its client to know why handles it there (write the
 * protocol's error, then close); otherwise the framework's exception barrier closes the connection.
 * Any {@code ByteToMessageDecoder} in the pipeline (Netty's line, length-field and HTTP decoders, or
 * the protocol's own) is counted without code in the plugin.
 */
public final class InboundLimitExceeded extends TooLongFrameException {
    private static final long serialVersionUID = 1L;

    /** Which limit was reached. */
    public enum Limit {
        /** This connection's own cap, {@code inbound.max-buffered}. */
        CONNECTION,
        /** The daemon's cap over all its connections, {@code inbound.max-buffered-total}. */
        DAEMON
    }

    private final Limit limit;
    private final long limitBytes;

    public InboundLimitExceeded(Limit limit, long limitBytes, String message) {
        super(message);
        this.limit = limit;
        this.limitBytes = limitBytes;
    }

    public Limit limit() {
        return limit;
    }

    /** The limit in bytes. */
    public long limitBytes() {
        return limitBytes;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // raised per hostile connection: no stack to walk, it says all in its message
    }
}
