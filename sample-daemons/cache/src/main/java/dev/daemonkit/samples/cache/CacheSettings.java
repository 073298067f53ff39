package dev.daemonkit.samples.cache;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;

/** The cache daemon's settings, read once from its config block. */
record CacheSettings(long memoryLimitBytes, int itemSizeMaxBytes) {

    /** memcached refuses an -I below 1 KB and above 1 GB; so do we. */
    static final long MIN_ITEM_SIZE = 1024;
    static final long MAX_ITEM_SIZE = 1024L * 1024 * 1024;

    static CacheSettings from(Config c) {
        long memory = c.getBytes("memory-limit");
        long item = c.getBytes("item-size-max");
        if (item < MIN_ITEM_SIZE || item > MAX_ITEM_SIZE) {
            throw new ConfigException.BadValue(c.origin(), "item-size-max",
                    "must be between 1 KiB and 1 GiB, got " + item + " bytes");
        }
        if (memory < item) {
            throw new ConfigException.BadValue(c.origin(), "memory-limit",
                    "must be at least item-size-max (" + item + " bytes), got " + memory
                            + " bytes: no item of the largest allowed size could be stored");
        }
        return new CacheSettings(memory, (int) item);
    }
}
