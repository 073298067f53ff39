package dev.daemonkit.samples.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The store alone: memory accounting as memcached's, LRU eviction, counters. */
class ItemStoreTest {
    private final AtomicLong clock = new AtomicLong(1_700_000_000L);
    private final CacheStats stats = new CacheStats();

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private ItemStore.StoreResult set(ItemStore store, String key, int valueBytes) {
        return store.store(
                ItemStore.StoreMode.SET, b(key), false, new byte[valueBytes], 0, 0, 0, false, false, null, null);
    }

    private boolean has(ItemStore store, String key) {
        byte[] k = b(key);
        return store.get(k, 0, k.length, true, Long.MIN_VALUE, null) != null;
    }

    /** The table's hash before it was keyed: FNV-1a, as an attacker can compute it. */
    private static int unkeyedFnv(byte[] b) {
        int h = 0x811c9dc5;
        for (byte x : b) {
            h = (h ^ x) * 0x01000193;
        }
        return h ^ (h >>> 16);
    }

    @Test
    void attackerKeysComputedToShareOneChainOfAnUnkeyedHashSpreadOverTheTable() {
        // A hostile review computed 20,000 keys whose FNV-1a hashes shared their low 15 bits: one chain, gets of
        // them 200 times slower, every client of the store's loops slowed with them. Here 300 keys sharing the
        // low 12 bits (the table's 4,096 slots), found the same way: with the keyed hash they spread.
        java.util.List<byte[]> colliding = new java.util.ArrayList<>();
        java.util.Random random = new java.util.Random(17);
        int target = -1;
        while (colliding.size() < 300) {
            byte[] key = b("k" + Long.toHexString(random.nextLong()));
            int slot = unkeyedFnv(key) & 0xfff;
            if (target < 0) {
                target = slot;
            }
            if (slot == target) {
                colliding.add(key);
            }
        }
        ItemStore store = new ItemStore(1 << 24, 1 << 20, clock::get, stats);
        for (byte[] key : colliding) {
            store.store(ItemStore.StoreMode.SET, key, false, new byte[1], 0, 0, 0, false, false, null, null);
        }
        assertThat(store.longestChain())
                .as("the longest chain of 300 keys in 4,096 slots")
                .isLessThan(8);
        byte[] last = colliding.get(colliding.size() - 1);
        assertThat(store.get(last, 0, last.length, true, Long.MIN_VALUE, null)).isNotNull();
    }

    @Test
    void itemsAreCountedAsMemcachedCountsThem() {
        ItemStore store = new ItemStore(1 << 20, 1 << 20, clock::get, stats);
        set(store, "abc", 100);
        // 48 header + 8 CAS + key 3 + NUL + value 100 + CRLF
        assertThat(store.bytes()).isEqualTo(48 + 8 + 4 + 102);
        store.store(ItemStore.StoreMode.SET, b("f"), false, new byte[1], 7, 0, 0, false, false, null, null);
        assertThat(store.bytes()).as("non-zero flags take 4 more bytes").isEqualTo(162 + 48 + 8 + 2 + 4 + 3);
    }

    @Test
    void whenMemoryIsFullTheLeastRecentlyUsedItemsAreEvictedAndCounted() {
        long itemSize = Item.sizeOf(3, 0, 1000);
        ItemStore store = new ItemStore(itemSize * 10, 1 << 20, clock::get, stats);
        for (int i = 0; i < 10; i++) {
            set(store, "k0" + i, 1000);
        }
        assertThat(store.count()).isEqualTo(10);
        assertThat(has(store, "k00")).as("k00 used: now the most recent").isTrue();
        set(store, "k10", 1000);
        set(store, "k11", 1000);
        assertThat(has(store, "k00")).isTrue();
        assertThat(has(store, "k01")).as("least recently used: evicted").isFalse();
        assertThat(has(store, "k02")).isFalse();
        assertThat(has(store, "k03")).isTrue();
        assertThat(stats.evictions.sum()).isEqualTo(2);
        assertThat(store.bytes()).isLessThanOrEqualTo(itemSize * 10);
    }

    @Test
    void memoryStaysBoundedUnderManyWrites() {
        ItemStore store = new ItemStore(64 * 1024, 1 << 20, clock::get, stats);
        for (int i = 0; i < 100_000; i++) {
            set(store, "key" + i, i % 700);
            assertThat(store.bytes()).isLessThanOrEqualTo(64 * 1024);
        }
        assertThat(stats.evictions.sum()).isGreaterThan(90_000);
    }

    @Test
    void anItemLargerThanMemoryIsNoMemory() {
        ItemStore store = new ItemStore(4096, 1 << 20, clock::get, stats);
        assertThat(set(store, "k", 5000)).isEqualTo(ItemStore.StoreResult.NO_MEMORY);
    }

    @Test
    void expiredItemsAreReclaimedNotEvicted() {
        long itemSize = Item.sizeOf(2, 0, 100);
        ItemStore store = new ItemStore(itemSize * 2, 1 << 20, clock::get, stats);
        store.store(
                ItemStore.StoreMode.SET,
                b("k1"),
                false,
                new byte[100],
                0,
                clock.get() + 1,
                0,
                false,
                false,
                null,
                null);
        set(store, "k2", 100);
        clock.addAndGet(1);
        set(store, "k3", 100);
        assertThat(stats.evictions.sum()).isZero();
        assertThat(stats.reclaimed.sum()).isEqualTo(1);
    }

    @Test
    void incrementWrapsAt64BitsAndDecrementStopsAtZero() {
        ItemStore store = new ItemStore(1 << 20, 1 << 20, clock::get, stats);
        store.store(
                ItemStore.StoreMode.SET, b("n"), false, b("18446744073709551614"), 0, 0, 0, false, false, null, null);
        long[] result = new long[1];
        Item[] item = new Item[1];
        assertThat(store.delta(b("n"), 0, 1, true, 3, 0, result, item)).isEqualTo(ItemStore.DeltaResult.OK);
        assertThat(result[0]).isEqualTo(1);
        assertThat(new String(item[0].value, StandardCharsets.US_ASCII)).isEqualTo("1" + " ".repeat(19));
        assertThat(store.delta(b("n"), 0, 1, false, 5, 0, result, item)).isEqualTo(ItemStore.DeltaResult.OK);
        assertThat(result[0]).isZero();
    }
}
