package dev.daemonkit.api;

/**
 * For a decoder that takes part of a request out of its buffer before the request is complete, such
 * as a large value read into an array of its own: implement it on the {@code ByteToMessageDecoder}
 * and the framework times that request with {@code request-timeout} as it times a partial frame.
 *
 * <p>Why it is needed: the framework knows a request is under way when a decoder's buffer holds part of
 * one after a read. A decoder that empties its buffer into state of its own looks finished to it, so a
 * client that trickles the rest of such a request (a byte a minute: never idle) would hold the
 * connection, and whatever the request reserved, for ever. The cache sample's data blocks are the case.
 *
 * <p>Called on the connection's event loop after each read; keep it to a field read or two.
 */
public interface PartialRequest {

    /**
     * Bytes of the request under way that this decoder keeps outside its buffer, counted from the
     * request's first byte (so at least 1 once it has begun); 0 when it keeps none. The framework
     * compares it with the bytes of each read to tell a request that goes on (the figure grew by less
     * than the read brought in addition to what it held) from a new one begun within the read.
     */
    long partialRequestBytes();
}
