package dev.daemonkit.samples.cache;

import io.netty.buffer.ByteBuf;

/**
 * A storage command (set, add, cas, ms …) whose data block is still arriving: everything its line
 * said, and the block read so far, straight into the array the store will keep (a large value is
 * never cumulated). One per storage command, held by its connection until the block is complete.
 */
final class PendingStore {
    private static final byte[] EMPTY = new byte[0];

    final ItemStore.StoreMode mode;
    final byte[] key;
    final boolean binaryKey;
    final long flags;
    final long exptime;
    final long reqCas;
    /** noreply (or ms's q) as the command line asked. */
    final boolean noreply;
    /** ms with I: an older CAS replaces a value but keeps it stale. */
    final boolean setStale;
    /** ms only: its return flags, in order, as (space, flag char or opaque token) packed into text; null for a classic command. */
    final byte[] metaReturnFlags;

    private final byte[] data;
    private int filled;
    private int tail;
    private byte tail0;
    private byte tail1;

    PendingStore(
            ItemStore.StoreMode mode,
            byte[] key,
            boolean binaryKey,
            long flags,
            long exptime,
            long reqCas,
            int valueLength,
            boolean noreply,
            boolean setStale,
            byte[] metaReturnFlags) {
        this.mode = mode;
        this.key = key;
        this.binaryKey = binaryKey;
        this.flags = flags;
        this.exptime = exptime;
        this.reqCas = reqCas;
        this.data = valueLength == 0 ? EMPTY : new byte[valueLength];
        this.noreply = noreply;
        this.setStale = setStale;
        this.metaReturnFlags = metaReturnFlags;
    }

    /** The length of the value's data block (its reservation in the store). */
    int valueLength() {
        return data.length;
    }

    boolean isMeta() {
        return metaReturnFlags != null;
    }

    /** Reads what has come of the data block; true once it and the two bytes after it are in. */
    /** The command line's bytes, its line ending included (set by the handler once the line is read). */
    int lineBytes = 1;

    /** Bytes of the data block received so far, its line ending included. */
    int received() {
        return filled + tail;
    }

    boolean read(ByteBuf in) {
        int missing = data.length - filled;
        if (missing > 0) {
            int n = Math.min(missing, in.readableBytes());
            in.readBytes(data, filled, n);
            filled += n;
            if (filled < data.length) {
                return false;
            }
        }
        while (tail < 2 && in.isReadable()) {
            if (tail == 0) {
                tail0 = in.readByte();
            } else {
                tail1 = in.readByte();
            }
            tail++;
        }
        return tail == 2;
    }

    /**
     * Counts the set and stores the value (once {@link #read} is done); null, with nothing stored,
     * if the block did not end with CRLF (memcached's "bad data chunk").
     */
    ItemStore.StoreResult store(ItemStore store, CacheStats stats, Scratch s) {
        stats.cmdSet.increment();
        if (tail0 != '\r' || tail1 != '\n') {
            return null;
        }
        s.casOut[0] = 0;
        s.sizeOut[0] = data.length;
        // memcached 1.6.18 accepts N on ms but does not autovivify appends (1.6.19 does): neither do we.
        ItemStore.StoreResult result =
                store.store(mode, key, binaryKey, data, flags, exptime, reqCas, setStale, false, s.casOut, s.sizeOut);
        if (mode == ItemStore.StoreMode.APPEND || mode == ItemStore.StoreMode.PREPEND) {
            s.copied(s.sizeOut[0]); // the whole new value was built from the old one
        }
        return result;
    }
}
