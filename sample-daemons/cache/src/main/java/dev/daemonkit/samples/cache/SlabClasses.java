package dev.daemonkit.samples.cache;

import java.util.Arrays;

/**
 * memcached's default slab classes (48-byte chunk + 48-byte header, growth factor 1.25, 8-byte
 * aligned, up to half a 1 MB page). We allocate no slabs; only "me" reports the class an item would
 * have, so that its reply reads like memcached's.
 */
final class SlabClasses {
    private static final int[] SIZES;

    static {
        int[] sizes = new int[64];
        int n = 0;
        int size = 96;
        while (size <= 512 * 1024 / 1.25 && n < sizes.length - 1) {
            sizes[n++] = size;
            size = (int) (size * 1.25);
            if (size % 8 != 0) {
                size += 8 - size % 8;
            }
        }
        sizes[n++] = 512 * 1024;
        SIZES = Arrays.copyOf(sizes, n);
    }

    private SlabClasses() {}

    static int classOf(long itemSize) {
        for (int i = 0; i < SIZES.length; i++) {
            if (itemSize <= SIZES[i]) {
                return i + 1;
            }
        }
        return SIZES.length;
    }
}
