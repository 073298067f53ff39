package dev.daemonkit.samples.cache;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;

/**
 * A memcached-compatible cache: the text and meta protocols of memcached 1.6.18, so memcached's own
 * clients and tools work against it unchanged. One {@link ItemStore} per daemon instance, shared by
 * all its connections and event loops.
 */
public final class CachePlugin implements DaemonPlugin {

    @Override
    public String name() {
        return "cache"; // config block daemons.cache, log logs/cache.log
    }

    @Override
    public void configure(DaemonContext daemon) {
        CacheSettings settings = CacheSettings.from(daemon.config());
        CacheStats stats = new CacheStats();
        ItemStore store = new ItemStore(
                settings.memoryLimitBytes(),
                settings.itemSizeMaxBytes(),
                () -> System.currentTimeMillis() / 1000,
                stats);
        int threads = daemon.limits().eventLoopCount();
        long maxConnections = daemon.limits().maxConnections();

        ClassicCommands classic = new ClassicCommands(store, stats, threads, maxConnections, daemon.requests());
        MetaCommands meta = new MetaCommands(store, stats);
        // A fresh handler per connection: it keeps the connection's parse state; the commands are shared.
        daemon.listen(
                "listen",
                pipeline -> pipeline.addLast(new TextProtocolHandler(classic, meta, settings.maxLineBytes())));

        daemon.onStopped(() -> daemon.log()
                .info(
                        "cache stopped: {} items, {} bytes, {} evictions",
                        store.count(),
                        store.bytes(),
                        stats.evictions.sum()));
    }
}
