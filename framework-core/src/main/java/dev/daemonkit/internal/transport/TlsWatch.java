package dev.daemonkit.internal.transport;

import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.plugins.FrameworkThreads;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS contexts of the process's bound listeners: looks at their files every
 * {@code watch-interval} (on one thread of its own, never an event loop: making a context reads files
 * and costs milliseconds), re-reads them all at a config reload, and tells the metrics each
 * listener's certificate expiry. Contexts register when their listener is bound and leave when it
 * closes; during a hand-over two instances of a daemon may both be registered, the newer last.
 */
public final class TlsWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TlsWatch.class);

    private final List<TlsContext> active = new CopyOnWriteArrayList<>();
    private ScheduledExecutorService thread;
    private boolean closed;

    /** Watches {@code c}'s files from now on. */
    public synchronized void register(TlsContext c) {
        if (closed) {
            return;
        }
        active.add(c);
        long every = c.settings().watchInterval().toMillis();
        if (every > 0) {
            if (thread == null) {
                // Made on whichever thread binds the first TLS listener: never inherit a plugin's class
                // loader from it, or this thread would keep that plugin from being unloaded.
                thread = Executors.newSingleThreadScheduledExecutor(
                        FrameworkThreads.factory("daemonkit-tls-watch", true));
            }
            c.watching(thread.scheduleWithFixedDelay(() -> check(c), every, every, TimeUnit.MILLISECONDS));
        }
    }

    private static void check(TlsContext c) {
        try {
            c.check();
        } catch (RuntimeException e) {
            log.error(
                    "daemon '{}': looking at the files of {} failed",
                    c.daemon(),
                    c.settings().where(),
                    e);
        }
    }

    /** Stops watching {@code c} (its listener closed). Idempotent. */
    public synchronized void unregister(TlsContext c) {
        active.remove(c);
        c.watching(null);
    }

    /** The registered contexts, oldest first. */
    public List<TlsContext> active() {
        return List.copyOf(active);
    }

    /**
     * When the certificate of {@code daemon}'s listener {@code key} expires, in seconds since the epoch
     * (the newest registered context's), or NaN when it has none.
     */
    public double expirySeconds(String daemon, String key) {
        double found = Double.NaN;
        for (TlsContext c : active) {
            if (c.daemon().equals(daemon) && c.key().equals(key)) {
                found = c.notAfter().getEpochSecond();
            }
        }
        return found;
    }

    /**
     * A config reload: makes every registered listener's context anew from its files, but those of the
     * {@code replaced} daemons (new instances, which read theirs when configured). Returns the swap,
     * to run once the reload is accepted; throws the {@link ConfigError} (every problem) that rejects it,
     * with nothing swapped.
     */
    public Runnable prepareReload(java.util.Set<String> replaced) {
        List<Runnable> swaps = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (TlsContext c : active) {
            if (replaced.contains(c.daemon())) {
                continue; // its new instance has read its files already
            }
            try {
                swaps.add(c.prepare());
            } catch (ConfigError e) {
                problems.add("daemon '" + c.daemon() + "': " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigError(
                    problems.size() == 1
                            ? problems.get(0)
                            : problems.size() + " problems:\n  - " + String.join("\n  - ", problems));
        }
        return () -> swaps.forEach(Runnable::run);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (thread != null) {
            thread.shutdownNow();
        }
        active.clear();
    }
}
