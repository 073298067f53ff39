package dev.daemonkit.samples.cache;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;

/** The cache daemon's settings, read once from its config block. */
record CacheSettings(long memoryLimitBytes, int itemSizeMaxBytes, int maxLineBytes) {

    /** memcached refuses an -I below 1 KB and above 1 GB; so do we. */
    static final long MIN_ITEM_SIZE = 1024;

    static final long MAX_ITEM_SIZE = 1024L * 1024 * 1024;
    /**
     * max-line-bytes stays well above memcached's 2048 bytes, so that its rule for lines other than
     * gets (closed silently past 2048 bytes without a newline) keeps working as in memcached.
     */
    static final long MIN_LINE = 4 * 1024;

    static final long MAX_LINE = 1024L * 1024 * 1024;

    static CacheSettings from(Config c) {
        long memory = c.getBytes("memory-limit");
        long item = c.getBytes("item-size-max");
        long line = c.getBytes("max-line-bytes");
        if (item < MIN_ITEM_SIZE || item > MAX_ITEM_SIZE) {
            throw new ConfigException.BadValue(
                    c.origin(), "item-size-max", "must be between 1 KiB and 1 GiB, got " + item + " bytes");
        }
        if (memory < item) {
            throw new ConfigException.BadValue(
                    c.origin(),
                    "memory-limit",
                    "must be at least item-size-max (" + item + " bytes), got " + memory
                            + " bytes: no item of the largest allowed size could be stored");
        }
        if (line < MIN_LINE || line > MAX_LINE) {
            throw new ConfigException.BadValue(
                    c.origin(),
                    "max-line-bytes",
                    "must be between 4 KiB and 1 GiB, got " + line + " bytes (it bounds the longest "
                            + "multi-get line; the default, 64 KiB, holds 256 keys of the longest size)");
        }
        return new CacheSettings(memory, (int) item, (int) line);
    }
}
