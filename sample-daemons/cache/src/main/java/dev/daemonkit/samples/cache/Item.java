package dev.daemonkit.samples.cache;

/**
 * One cached item. The key, value, flags and CAS never change, so a reply can be written from an
 * item after the store's lock is released; a change of value (set, append, incr) makes a new item.
 * The other fields belong to the store and are only touched under its lock.
 */
final class Item {
    /** memcached's per-item overhead: its item header (48 bytes) plus the 8-byte CAS. */
    static final int HEADER_BYTES = 48 + 8;

    final byte[] key;
    final byte[] value;
    /** Client flags, an unsigned 32-bit number. */
    final long flags;

    final long cas;
    final boolean binaryKey;
    final int hash;

    /** Epoch second at which the item expires, or 0 for never. */
    long exptime;
    /** Epoch second of the last store or bump (memcached's it->time). */
    long time;

    boolean fetched;
    boolean tokenSent;
    boolean stale;

    Item hashNext;
    Item newer;
    Item older;

    Item(byte[] key, int hash, boolean binaryKey, byte[] value, long flags, long cas, long exptime, long now) {
        this.key = key;
        this.hash = hash;
        this.binaryKey = binaryKey;
        this.value = value;
        this.flags = flags;
        this.cas = cas;
        this.exptime = exptime;
        this.time = now;
    }

    /** The memory memcached accounts for this item (ITEM_ntotal), used for memory-limit and "bytes". */
    long size() {
        return sizeOf(key.length, flags, value.length);
    }

    static long sizeOf(int keyLength, long flags, long valueLength) {
        return HEADER_BYTES + keyLength + 1 + (flags != 0 ? 4 : 0) + valueLength + 2;
    }
}
