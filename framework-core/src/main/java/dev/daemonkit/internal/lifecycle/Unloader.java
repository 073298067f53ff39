package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.internal.plugins.LoadedSource;
import dev.daemonkit.internal.plugins.PluginScanner;
import dev.daemonkit.internal.transport.Transport;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.InternalThreadLocalMap;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retires a plugin version and checks that it is really gone: once every daemon instance that ran
 * it has ended, its class loader is closed, the framework's own caches are cleared, and a weak
 * reference tells whether the loader was collected. The outcome is logged either way ("unloaded
 * cleanly", or a WARN naming what still holds it), so class loader leaks are seen on the first
 * redeploy instead of after the tenth OutOfMemoryError.
 */
public final class Unloader {
    private static final Logger log = LoggerFactory.getLogger(Unloader.class);
    private static final int GC_ATTEMPTS = 20;

    private final Executor executor;

    /** What happened to one retired loader: {@code collected}, or still reachable with {@code holders}. */
    public record Outcome(String what, boolean collected, List<String> holders) {}

    private final List<CompletableFuture<Outcome>> outcomes = new CopyOnWriteArrayList<>();

    Unloader(Executor executor) {
        this.executor = executor;
    }

    /** How many outcomes are kept: a launcher redeploying for months must not grow this list. */
    private static final int KEPT = 100;

    /** The outcomes of the last {@value #KEPT} unloads, oldest first (for tests and operators). */
    public List<CompletableFuture<Outcome>> outcomes() {
        return List.copyOf(outcomes);
    }

    /**
     * Unloads {@code source} after every instance in {@code instances} has terminated. The caller
     * must already have dropped its own references to the source and its plugins.
     */
    void unloadWhenDone(LoadedSource source, List<DaemonInstance> instances, Transport transport) {
        String what = describe(source);
        WeakReference<ClassLoader> ref = new WeakReference<>(source.loader());
        // Held only until the loader is closed: the check itself must not keep the source reachable.
        AtomicReference<LoadedSource> held = new AtomicReference<>(source);
        List<EventExecutor> loops = new ArrayList<>();
        if (transport != null) {
            transport.workers().forEach(loops::add);
        }
        CompletableFuture<?>[] ends =
                instances.stream().map(DaemonInstance::terminated).toArray(CompletableFuture[]::new);
        // Only the weak reference and the summary survive into the check below.
        CompletableFuture<Outcome> outcome = CompletableFuture.allOf(ends)
                .thenApplyAsync(
                        v -> {
                            PluginScanner.discard(held.getAndSet(null));
                            return check(what, ref, loops);
                        },
                        executor);
        outcomes.add(outcome);
        while (outcomes.size() > KEPT) {
            outcomes.remove(0);
        }
    }

    private static String describe(LoadedSource source) {
        String plugins =
                source.plugins().stream().map(p -> p.name() + " " + p.version()).collect(Collectors.joining(", "));
        return "plugin file " + source.source().getFileName() + " (" + plugins + ")";
    }

    private static Outcome check(String what, WeakReference<ClassLoader> ref, List<EventExecutor> loops) {
        // Netty caches handler type matchers per event loop thread, keyed by class: they would pin
        // a plugin's handler classes (and so its loader) forever. Clear them; they refill lazily.
        List<CompletableFuture<Void>> cleared = new ArrayList<>();
        for (EventExecutor loop : loops) {
            if (!loop.isShuttingDown()) {
                CompletableFuture<Void> done = new CompletableFuture<>();
                loop.execute(() -> {
                    InternalThreadLocalMap m = InternalThreadLocalMap.get();
                    m.typeParameterMatcherGetCache().clear();
                    m.typeParameterMatcherFindCache().clear();
                    done.complete(null);
                });
                cleared.add(done);
            }
        }
        try {
            CompletableFuture.allOf(cleared.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("clearing event loop caches failed", e);
        }
        for (int i = 0; i < GC_ATTEMPTS && ref.get() != null; i++) {
            System.gc();
            try {
                Thread.sleep(50); // give reference processing a moment; bounded by GC_ATTEMPTS
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        ClassLoader loader = ref.get();
        if (loader == null) {
            log.info("{} unloaded cleanly: its class loader was collected", what);
            return new Outcome(what, true, List.of());
        }
        List<String> holders = holders(loader);
        loader = null;
        log.warn(
                "{} did not unload: its class loader is still reachable after {} garbage collections. Holders found: {}."
                        + " Each redeploy will leak its classes until this is fixed in the plugin.",
                what,
                GC_ATTEMPTS,
                holders.isEmpty()
                        ? "no thread; look for static references from shared libraries (a heap dump shows them)"
                        : String.join("; ", holders));
        return new Outcome(what, false, holders);
    }

    /** Threads that pin the loader: started by the plugin, or with it as context class loader. */
    private static List<String> holders(ClassLoader loader) {
        List<String> found = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getClass().getClassLoader() == loader) {
                found.add(
                        "thread '" + t.getName() + "' (a " + t.getClass().getName() + " of the plugin, still running)");
            } else if (t.getContextClassLoader() == loader) {
                found.add("thread '" + t.getName() + "' (its context class loader is the plugin's)");
            } else {
                for (StackTraceElement e : t.getStackTrace()) {
                    if (loader.getName() != null && loader.getName().equals(e.getClassLoaderName())) {
                        found.add("thread '" + t.getName() + "' (running the plugin's code at " + e + ")");
                        break;
                    }
                }
            }
        }
        return found;
    }
}
