package dev.daemonkit.samples.cache;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * The items of one cache daemon: a hash table and one LRU list, bounded by memory as memcached
 * counts it, shared by all of the daemon's event loops.
 *
 * <p>One lock guards everything. Each operation under it is a hash lookup and a few pointer moves,
 * never a copy of a value or any I/O (replies are written from the immutable {@link Item} after the
 * lock is released), so the lock is held for well under a microsecond; at two or four event loops
 * that costs less than the bookkeeping striped LRUs would add.
 *
 * <p>Times are epoch seconds from {@code clock}, as memcached's are whole seconds.
 */
final class ItemStore {
    /** memcached's REALTIME_MAXDELTA: expiry times up to 30 days are relative, beyond are absolute. */
    static final long MAX_RELATIVE_EXPTIME = 60L * 60 * 24 * 30;

    enum StoreMode {
        SET,
        ADD,
        REPLACE,
        APPEND,
        PREPEND,
        CAS
    }

    enum StoreResult {
        STORED,
        NOT_STORED,
        EXISTS,
        NOT_FOUND,
        TOO_LARGE,
        NO_MEMORY
    }

    private final long memoryLimit;
    /** Bytes reserved for values being received ({@link #reservePending}): they count against memory-limit. */
    private long pendingBytes;

    private final int itemSizeMax;
    private final LongSupplier clock;
    private final CacheStats stats;
    private final long started;

    private Item[] table = new Item[1 << 12];
    private int count;
    private long bytes;
    private Item newest;
    private Item oldest;
    private long lastCas;
    /** flush_all: items stored at or before this second are gone once it has passed (0: none). */
    private long oldestLive;
    /** flush_all: items with a CAS below this are gone (an immediate flush within the same second). */
    private long oldestCas;

    ItemStore(long memoryLimit, int itemSizeMax, LongSupplier clock, CacheStats stats) {
        this.memoryLimit = memoryLimit;
        this.itemSizeMax = itemSizeMax;
        this.clock = clock;
        this.stats = stats;
        this.started = clock.getAsLong();
    }

    long now() {
        return clock.getAsLong();
    }

    long limit() {
        return memoryLimit;
    }

    /**
     * Reserves room for a value whose data block is on its way: its array is made when the command
     * line arrives, before any of it, so the values being received count against {@code memory-limit}
     * as memcached's items do (it allocates the item first, from the same memory). Without this, 700
     * connections each starting a 1 MB set and sending nothing more would hold 700 MB of heap outside the
     * limit. Items and values being received share the limit: the least recently used items are evicted to
     * make room, as for a new item (before, each had a limit of its own, and a cache full of small items
     * plus values being received held 2.6 times {@code memory-limit} of heap: a launcher with {@code -Xmx} at
     * 2.5 times the limit died of it). False if the values being received alone would pass the limit.
     */
    synchronized boolean reservePending(long bytes) {
        if (pendingBytes + bytes > memoryLimit) {
            return false;
        }
        pendingBytes += bytes;
        makeRoom(0, null);
        return true;
    }

    /** Gives back what {@link #reservePending} took, once the value is stored or abandoned. */
    synchronized void releasePending(long bytes) {
        pendingBytes -= bytes;
    }

    /** Bytes reserved for values being received now. */
    synchronized long pendingBytes() {
        return pendingBytes;
    }

    /**
     * memcached's realtime(): 0 is never; a negative time means already expired; up to 30 days is
     * relative to now; beyond that an absolute unix time, where one before our start is expired.
     */
    long absoluteExptime(long exptime, long now) {
        if (exptime == 0) {
            return 0;
        }
        if (exptime < 0) {
            return 1;
        }
        if (exptime > MAX_RELATIVE_EXPTIME) {
            return exptime <= started ? 1 : exptime;
        }
        return now + exptime;
    }

    /**
     * The table's hash of a key: keyed with a secret drawn at start, so that no client can compute keys that
     * fall into one chain ({@link SipHash}: an unkeyed FNV-1a let 20,000 precomputed keys make lookups 200
     * times slower for everyone on the store's loops).
     */
    private final SipHash keyHash = SipHash.withRandomKey();

    /** The most items in one chain of the table now (tests: what colliding keys achieve). */
    synchronized int longestChain() {
        int longest = 0;
        for (Item head : table) {
            int n = 0;
            for (Item it = head; it != null; it = it.hashNext) {
                n++;
            }
            longest = Math.max(longest, n);
        }
        return longest;
    }

    int hash(byte[] b, int off, int len) {
        long h = keyHash.hash(b, off, len);
        return (int) (h ^ (h >>> 32));
    }

    // ---- lookups -------------------------------------------------------------------------------

    /** What a lookup saw before it bumped the item: mg's h, l and t flags report these. */
    static final class Seen {
        boolean fetched;
        long lastAccess;
    }

    /**
     * The live item under the key or null. {@code bump} moves it to the LRU front and marks it
     * fetched; {@code newExptime} (if not {@code null}-like {@link Long#MIN_VALUE}) touches it.
     */
    Item get(byte[] key, int off, int len, boolean bump, long newExptime, Seen seen) {
        int h = hash(key, off, len);
        synchronized (this) {
            long now = now();
            Item it = findLive(key, off, len, h, now, true);
            if (it == null) {
                return null;
            }
            if (seen != null) {
                seen.fetched = it.fetched;
                seen.lastAccess = it.time;
            }
            if (newExptime != Long.MIN_VALUE) {
                it.exptime = newExptime;
            }
            if (bump) {
                it.fetched = true;
                it.time = now;
                moveToFront(it);
            }
            return it;
        }
    }

    // ---- storage commands ----------------------------------------------------------------------

    /** Whether memcached would accept an item of this size at all (item_size_ok). */
    boolean sizeOk(int keyLength, long flags, long valueLength) {
        return Item.sizeOf(keyLength, flags, valueLength) <= itemSizeMax;
    }

    /**
     * Stores a value under one of memcached's modes. {@code casOut[0]} receives the stored item's
     * CAS; {@code sizeOut[0]} its final value length (after append/prepend).
     */
    StoreResult store(
            StoreMode mode,
            byte[] key,
            boolean binaryKey,
            byte[] value,
            long flags,
            long exptime,
            long reqCas,
            boolean setStale,
            boolean vivify,
            long[] casOut,
            int[] sizeOut) {
        int h = hash(key, 0, key.length);
        synchronized (this) {
            long now = now();
            Item old = findLive(key, 0, key.length, h, now, false);
            byte[] newValue = value;
            long newFlags = flags;
            long newExptime = exptime;
            boolean keepStale = false;
            switch (mode) {
                case ADD:
                    if (old != null) {
                        // memcached bumps the existing item on a failed add: it is in use.
                        old.time = now;
                        moveToFront(old);
                        return StoreResult.NOT_STORED;
                    }
                    break;
                case REPLACE:
                    if (old == null) {
                        return StoreResult.NOT_STORED;
                    }
                    break;
                case CAS:
                    if (old == null) {
                        stats.casMisses.increment();
                        return StoreResult.NOT_FOUND;
                    }
                    if (old.cas != reqCas) {
                        if (!setStale || Long.compareUnsigned(reqCas, old.cas) >= 0) {
                            stats.casBadval.increment();
                            return StoreResult.EXISTS;
                        }
                        // ms with I and an older CAS: the value is replaced, but the item keeps its
                        // TTL and is (still) stale, as in memcached's do_store_item.
                        newExptime = old.exptime;
                        keepStale = true;
                    }
                    stats.casHits.increment();
                    break;
                case APPEND:
                case PREPEND:
                    if (old == null) {
                        if (vivify) {
                            break; // ms MA/MP with N: a missing item is created with this value
                        }
                        return StoreResult.NOT_STORED;
                    }
                    if (reqCas != 0 && reqCas != old.cas) {
                        return StoreResult.EXISTS;
                    }
                    if (!sizeOk(key.length, old.flags, (long) old.value.length + value.length)) {
                        return StoreResult.NOT_STORED;
                    }
                    newValue = new byte[old.value.length + value.length];
                    if (mode == StoreMode.APPEND) {
                        System.arraycopy(old.value, 0, newValue, 0, old.value.length);
                        System.arraycopy(value, 0, newValue, old.value.length, value.length);
                    } else {
                        System.arraycopy(value, 0, newValue, 0, value.length);
                        System.arraycopy(old.value, 0, newValue, value.length, old.value.length);
                    }
                    newFlags = old.flags;
                    newExptime = old.exptime;
                    break;
                default:
                    break;
            }
            Item item = new Item(key, h, binaryKey, newValue, newFlags, ++lastCas, newExptime, now);
            if (keepStale) {
                item.stale = true;
                item.tokenSent = old.tokenSent;
            }
            if (!makeRoom(item.size(), old)) {
                stats.storeNoMemory.increment();
                return StoreResult.NO_MEMORY;
            }
            if (old != null) {
                unlink(old);
            }
            link(item);
            if (casOut != null) {
                casOut[0] = item.cas;
            }
            if (sizeOut != null) {
                sizeOut[0] = newValue.length;
            }
            return StoreResult.STORED;
        }
    }

    /** A failed set must not leave the old value behind (memcached unlinks it too). */
    synchronized void remove(byte[] key, int off, int len) {
        Item it = findLive(key, off, len, hash(key, off, len), now(), false);
        if (it != null) {
            unlink(it);
        }
    }

    /** delete: true if a live item was removed. {@code reqCas} 0 means any. */
    enum DeleteResult {
        DELETED,
        NOT_FOUND,
        EXISTS
    }

    synchronized DeleteResult delete(byte[] key, int off, int len, long reqCas, boolean markStale, long newExptime) {
        Item it = findLive(key, off, len, hash(key, off, len), now(), false);
        if (it == null) {
            stats.deleteMisses.increment();
            return DeleteResult.NOT_FOUND;
        }
        if (reqCas != 0 && it.cas != reqCas) {
            stats.deleteMisses.increment();
            return DeleteResult.EXISTS;
        }
        if (markStale) {
            // mg's stale-while-revalidate: keep the item, mark it stale, give it a new CAS.
            Item replacement = new Item(
                    it.key,
                    it.hash,
                    it.binaryKey,
                    it.value,
                    it.flags,
                    ++lastCas,
                    newExptime != Long.MIN_VALUE ? newExptime : it.exptime,
                    it.time);
            replacement.fetched = it.fetched;
            replacement.stale = true;
            unlink(it);
            link(replacement);
            return DeleteResult.DELETED;
        }
        stats.deleteHits.increment();
        unlink(it);
        return DeleteResult.DELETED;
    }

    enum DeltaResult {
        OK,
        NON_NUMERIC,
        NOT_FOUND,
        EXISTS,
        NO_MEMORY
    }

    /**
     * incr/decr: 64-bit unsigned, incr wraps, decr stops at 0. A result no longer than the old value
     * is padded with spaces to the old length, as memcached rewrites the value in place; a longer
     * one makes a new item. {@code result[0]} receives the new value, {@code out[0]} the new item, and
     * {@code result[1]} (if there) the length of the old value read, or is left as it was if none was.
     */
    DeltaResult delta(byte[] key, int off, int len, boolean incr, long delta, long reqCas, long[] result, Item[] out) {
        int h = hash(key, off, len);
        synchronized (this) {
            long now = now();
            Item it = findLive(key, off, len, h, now, false);
            if (it == null) {
                return DeltaResult.NOT_FOUND;
            }
            if (it.value.length == 0) {
                return DeltaResult.NON_NUMERIC;
            }
            if (result.length > 1) {
                result[1] = it.value.length; // read, and written again if it is numeric: counted against a turn
            }
            if (reqCas != 0 && it.cas != reqCas) {
                return DeltaResult.EXISTS;
            }
            Ascii number = new Ascii();
            if (!number.parseUnsigned64(it.value, 0, it.value.length)) {
                return DeltaResult.NON_NUMERIC;
            }
            long value = number.value;
            if (incr) {
                value += delta;
                stats.incrHits.increment();
            } else {
                value = Long.compareUnsigned(delta, value) > 0 ? 0 : value - delta;
                stats.decrHits.increment();
            }
            int digits = Ascii.unsignedLength(value);
            byte[] bytes;
            if (digits <= it.value.length) {
                bytes = new byte[it.value.length];
                Arrays.fill(bytes, digits, bytes.length, (byte) ' ');
            } else {
                bytes = new byte[digits];
            }
            Ascii.writeUnsigned(value, bytes, 0, digits);
            Item item = new Item(it.key, it.hash, it.binaryKey, bytes, it.flags, ++lastCas, it.exptime, now);
            if (digits <= it.value.length) {
                // memcached rewrites such a value in place: the item keeps its fetched, stale and
                // win-token marks. A longer value is a new item in memcached too, with none of them.
                item.fetched = it.fetched;
                item.stale = it.stale;
                item.tokenSent = it.tokenSent;
            }
            if (!makeRoom(item.size(), it)) {
                return DeltaResult.NO_MEMORY;
            }
            unlink(it);
            link(item);
            result[0] = value;
            out[0] = item;
            return DeltaResult.OK;
        }
    }

    /** Creates {@code key} with a value, unless it exists (ma's autovivify, mg's N flag). */
    synchronized Item addIfAbsent(byte[] key, boolean binaryKey, byte[] value, long exptime) {
        int h = hash(key, 0, key.length);
        long now = now();
        if (findLive(key, 0, key.length, h, now, false) != null) {
            return null;
        }
        Item item = new Item(key, h, binaryKey, value, 0, ++lastCas, exptime, now);
        if (!makeRoom(item.size(), null)) {
            return null;
        }
        link(item);
        return item;
    }

    /** mg's T flag and ma's T flag: a new expiry time on an item already found. */
    synchronized void setExptime(Item it, long exptime) {
        it.exptime = exptime;
    }

    /** mg's win token bookkeeping, under the lock. */
    synchronized boolean claimToken(Item it, boolean win) {
        boolean alreadySent = it.tokenSent;
        if (win) {
            it.tokenSent = true;
        }
        return alreadySent;
    }

    synchronized void flushAll(long delaySeconds) {
        long now = now();
        long newOldest = delaySeconds > 0 ? absoluteExptime(delaySeconds, now) : now;
        oldestLive = newOldest - 1;
        if (oldestLive <= now) {
            oldestCas = lastCas + 1;
        }
    }

    synchronized int count() {
        return count;
    }

    synchronized long bytes() {
        return bytes;
    }

    // ---- internals -----------------------------------------------------------------------------

    private boolean flushed(Item it, long now) {
        if (oldestLive == 0 || oldestLive > now) {
            return false;
        }
        return it.time <= oldestLive || (oldestCas != 0 && it.cas < oldestCas);
    }

    private Item findLive(byte[] key, int off, int len, int h, long now, boolean countGets) {
        Item prev = null;
        for (Item it = table[h & (table.length - 1)]; it != null; prev = it, it = it.hashNext) {
            if (it.hash != h || !sameKey(it.key, key, off, len)) {
                continue;
            }
            if (it.exptime != 0 && it.exptime <= now) {
                if (countGets) {
                    stats.getExpired.increment();
                }
                if (!it.fetched) {
                    stats.expiredUnfetched.increment();
                }
                stats.reclaimed.increment();
                unlink(it);
                return null;
            }
            if (flushed(it, now)) {
                if (countGets) {
                    stats.getFlushed.increment();
                }
                unlink(it);
                return null;
            }
            return it;
        }
        return null;
    }

    private static boolean sameKey(byte[] stored, byte[] key, int off, int len) {
        if (stored.length != len) {
            return false;
        }
        return Arrays.equals(stored, 0, len, key, off, off + len);
    }

    /** Evicts from the LRU tail until {@code size} more bytes fit; {@code replacing} will be unlinked. */
    private boolean makeRoom(long size, Item replacing) {
        if (size > memoryLimit) {
            return false;
        }
        long freed = replacing != null ? replacing.size() : 0;
        while (bytes + pendingBytes - freed + size > memoryLimit && oldest != null) {
            Item victim = oldest == replacing ? replacing.newer : oldest;
            if (victim == null) {
                break;
            }
            if (victim.exptime != 0 && victim.exptime <= now()) {
                stats.reclaimed.increment();
            } else {
                stats.evictions.increment();
                if (!victim.fetched) {
                    stats.evictedUnfetched.increment();
                }
            }
            unlink(victim);
        }
        return bytes + pendingBytes - freed + size <= memoryLimit;
    }

    private void link(Item it) {
        int i = it.hash & (table.length - 1);
        it.hashNext = table[i];
        table[i] = it;
        it.older = newest;
        it.newer = null;
        if (newest != null) {
            newest.newer = it;
        }
        newest = it;
        if (oldest == null) {
            oldest = it;
        }
        count++;
        bytes += it.size();
        stats.totalItems.increment();
        if (count > table.length - (table.length >>> 2)) {
            grow();
        }
    }

    private void unlink(Item it) {
        int i = it.hash & (table.length - 1);
        Item prev = null;
        for (Item e = table[i]; e != null; prev = e, e = e.hashNext) {
            if (e == it) {
                if (prev == null) {
                    table[i] = e.hashNext;
                } else {
                    prev.hashNext = e.hashNext;
                }
                break;
            }
        }
        it.hashNext = null;
        removeFromLru(it);
        count--;
        bytes -= it.size();
    }

    private void removeFromLru(Item it) {
        if (it.newer != null) {
            it.newer.older = it.older;
        } else {
            newest = it.older;
        }
        if (it.older != null) {
            it.older.newer = it.newer;
        } else {
            oldest = it.newer;
        }
        it.newer = null;
        it.older = null;
    }

    private void moveToFront(Item it) {
        if (newest == it) {
            return;
        }
        removeFromLru(it);
        it.older = newest;
        if (newest != null) {
            newest.newer = it;
        }
        newest = it;
        if (oldest == null) {
            oldest = it;
        }
    }

    private void grow() {
        Item[] old = table;
        Item[] grown = new Item[old.length << 1];
        for (Item head : old) {
            for (Item it = head; it != null; ) {
                Item next = it.hashNext;
                int i = it.hash & (grown.length - 1);
                it.hashNext = grown[i];
                grown[i] = it;
                it = next;
            }
        }
        table = grown;
    }
}
