package dev.daemonkit.samples.cache;

import com.sun.management.OperatingSystemMXBean;
import io.netty.buffer.ByteBuf;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters behind "stats", named as memcached names them. LongAdders: every event loop counts
 * without contention, and only "stats" pays for the sum.
 */
final class CacheStats {
    final LongAdder currConnections = new LongAdder();
    final LongAdder totalConnections = new LongAdder();
    final LongAdder cmdSet = new LongAdder();
    final LongAdder cmdFlush = new LongAdder();
    final LongAdder cmdMeta = new LongAdder();
    final LongAdder getHits = new LongAdder();
    final LongAdder getMisses = new LongAdder();
    final LongAdder getExpired = new LongAdder();
    final LongAdder getFlushed = new LongAdder();
    final LongAdder deleteMisses = new LongAdder();
    final LongAdder deleteHits = new LongAdder();
    final LongAdder incrMisses = new LongAdder();
    final LongAdder incrHits = new LongAdder();
    final LongAdder decrMisses = new LongAdder();
    final LongAdder decrHits = new LongAdder();
    final LongAdder casMisses = new LongAdder();
    final LongAdder casHits = new LongAdder();
    final LongAdder casBadval = new LongAdder();
    final LongAdder touchHits = new LongAdder();
    final LongAdder touchMisses = new LongAdder();
    final LongAdder storeTooLarge = new LongAdder();
    final LongAdder storeNoMemory = new LongAdder();
    final LongAdder bytesRead = new LongAdder();
    final LongAdder bytesWritten = new LongAdder();
    final LongAdder totalItems = new LongAdder();
    final LongAdder expiredUnfetched = new LongAdder();
    final LongAdder evictedUnfetched = new LongAdder();
    final LongAdder evictions = new LongAdder();
    final LongAdder reclaimed = new LongAdder();

    private final long startedMillis = System.currentTimeMillis();

    /** "stats reset": the counters memcached resets (not the connection and item gauges). */
    void reset() {
        for (LongAdder a : new LongAdder[] {
            totalConnections,
            cmdSet,
            cmdFlush,
            cmdMeta,
            getHits,
            getMisses,
            getExpired,
            getFlushed,
            deleteMisses,
            deleteHits,
            incrMisses,
            incrHits,
            decrMisses,
            decrHits,
            casMisses,
            casHits,
            casBadval,
            touchHits,
            touchMisses,
            storeTooLarge,
            storeNoMemory,
            bytesRead,
            bytesWritten,
            totalItems,
            expiredUnfetched,
            evictedUnfetched,
            evictions,
            reclaimed
        }) {
            a.reset();
        }
    }

    /** Writes the reply to "stats": one "STAT name value" line each, then END. */
    void write(ByteBuf out, ItemStore store, int threads, long maxConnections) {
        long nowMillis = System.currentTimeMillis();
        long cpuNanos = processCpuNanos();
        stat(out, "pid", ProcessHandle.current().pid());
        stat(out, "uptime", (nowMillis - startedMillis) / 1000);
        stat(out, "time", nowMillis / 1000);
        stat(out, "version", TextProtocolHandler.VERSION);
        stat(out, "pointer_size", 64);
        // The JVM reports user + system together; we report it all as user time.
        stat(out, "rusage_user", String.format("%d.%06d", cpuNanos / 1_000_000_000, cpuNanos % 1_000_000_000 / 1000));
        stat(out, "rusage_system", "0.000000");
        stat(out, "max_connections", maxConnections);
        stat(out, "curr_connections", currConnections.sum());
        stat(out, "total_connections", totalConnections.sum());
        // Every get is a hit or a miss, every touch too: memcached's cmd_get and cmd_touch are the sums,
        // one counter less per request (issue 17).
        long getHitsNow = getHits.sum();
        long getMissesNow = getMisses.sum();
        long touchHitsNow = touchHits.sum();
        long touchMissesNow = touchMisses.sum();
        stat(out, "cmd_get", getHitsNow + getMissesNow);
        stat(out, "cmd_set", cmdSet.sum());
        stat(out, "cmd_flush", cmdFlush.sum());
        stat(out, "cmd_touch", touchHitsNow + touchMissesNow);
        stat(out, "cmd_meta", cmdMeta.sum());
        stat(out, "get_hits", getHitsNow);
        stat(out, "get_misses", getMissesNow);
        stat(out, "get_expired", getExpired.sum());
        stat(out, "get_flushed", getFlushed.sum());
        stat(out, "delete_misses", deleteMisses.sum());
        stat(out, "delete_hits", deleteHits.sum());
        stat(out, "incr_misses", incrMisses.sum());
        stat(out, "incr_hits", incrHits.sum());
        stat(out, "decr_misses", decrMisses.sum());
        stat(out, "decr_hits", decrHits.sum());
        stat(out, "cas_misses", casMisses.sum());
        stat(out, "cas_hits", casHits.sum());
        stat(out, "cas_badval", casBadval.sum());
        stat(out, "touch_hits", touchHitsNow);
        stat(out, "touch_misses", touchMissesNow);
        stat(out, "store_too_large", storeTooLarge.sum());
        stat(out, "store_no_memory", storeNoMemory.sum());
        stat(out, "bytes_read", bytesRead.sum());
        stat(out, "bytes_written", bytesWritten.sum());
        stat(out, "limit_maxbytes", store.limit());
        stat(out, "threads", threads);
        stat(out, "bytes", store.bytes());
        stat(out, "curr_items", store.count());
        stat(out, "total_items", totalItems.sum());
        stat(out, "expired_unfetched", expiredUnfetched.sum());
        stat(out, "evicted_unfetched", evictedUnfetched.sum());
        stat(out, "evictions", evictions.sum());
        stat(out, "reclaimed", reclaimed.sum());
        out.writeBytes(END);
    }

    private static final byte[] END = "END\r\n".getBytes(StandardCharsets.US_ASCII);

    private static void stat(ByteBuf out, String name, Object value) {
        out.writeCharSequence("STAT " + name + " " + value + "\r\n", StandardCharsets.US_ASCII);
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os) {
            return Math.max(0, os.getProcessCpuTime());
        }
        return 0;
    }
}
