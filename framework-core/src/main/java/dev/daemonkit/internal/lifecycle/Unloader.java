package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.internal.plugins.LoadedSource;
import dev.daemonkit.internal.plugins.PluginScanner;
import dev.daemonkit.internal.transport.Transport;
import dev.daemonkit.timers.EventLoopTimerWheels;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.InternalThreadLocalMap;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
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

    /** The shared loops' timer wheels, or null before the launcher has made them. */
    private final Supplier<EventLoopTimerWheels> wheels;

    Unloader(Executor executor, Supplier<EventLoopTimerWheels> wheels) {
        this.executor = executor;
        this.wheels = wheels;
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
            transport.acceptors().forEach(loops::add);
            transport.daemonLoops().forEach(g -> g.forEach(loops::add));
        }
        CompletableFuture<?>[] ends =
                instances.stream().map(DaemonInstance::terminated).toArray(CompletableFuture[]::new);
        EventLoopTimerWheels timerWheels = wheels.get();
        // Only the weak reference and the summary survive into the check below.
        CompletableFuture<Outcome> outcome = CompletableFuture.allOf(ends)
                .thenApplyAsync(
                        v -> {
                            PluginScanner.discard(held.getAndSet(null));
                            if (timerWheels != null) {
                                // The retired instances' timers, closed with them, must not keep their tasks.
                                try {
                                    timerWheels.sweepClosed().get(5, TimeUnit.SECONDS);
                                } catch (Exception e) {
                                    log.debug("sweeping the timer wheels failed", e);
                                }
                            }
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
        // The plugin's fast thread locals on those threads go too (see removeThoseOf).
        List<CompletableFuture<Void>> cleared = new ArrayList<>();
        for (EventExecutor loop : loops) {
            if (!loop.isShuttingDown()) {
                CompletableFuture<Void> done = new CompletableFuture<>();
                loop.execute(() -> {
                    InternalThreadLocalMap m = InternalThreadLocalMap.get();
                    m.typeParameterMatcherGetCache().clear();
                    m.typeParameterMatcherFindCache().clear();
                    ClassLoader loader = ref.get();
                    if (loader != null) {
                        int removed = removeThoseOf(loader, m);
                        if (removed > 0) {
                            log.debug("{}: removed {} of its fast thread locals from {}", what, removed, loop);
                        }
                    }
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
                        ? "no thread by its class, context class loader or stack. Look for a static reference from a"
                                + " shared library, or a library's thread started lazily while the plugin's code was on"
                                + " the stack: JDK 17 keeps the plugin's protection domain in that thread's inherited"
                                + " access control context (have the library start its threads inside doPrivileged, or"
                                + " before any plugin runs). A heap dump (jcmd PID GC.heap_dump) shows the path"
                        : String.join("; ", holders));
        return new Outcome(what, false, holders);
    }

    /**
     * Removes, on the calling event loop thread, the Netty fast thread locals that belong to a retired plugin: its own
     * (a subclass it defined), those holding one of its objects, and those whose value is one. A plugin's code, or a
     * library it bundles, running on the shared loops leaves them behind, and the loops outlive the plugin version:
     * Lettuce's pooled objects are the common case (its {@code Recycler}s are subclasses defined by Lettuce, and each
     * one's per-thread pool stays in every loop that ran a command). Netty frees a thread's locals only when the thread
     * ends. Looks one field deep: a value reachable only further down is not seen (the WARN then names no holder).
     */
    static int removeThoseOf(ClassLoader loader, InternalThreadLocalMap map) {
        if (!(map.indexedVariable(InternalThreadLocalMap.VARIABLES_TO_REMOVE_INDEX) instanceof Set<?> all)) {
            return 0;
        }
        int removed = 0;
        for (Object o : new ArrayList<>(all)) {
            if (o instanceof FastThreadLocal<?> local && belongsTo(local, loader)) {
                local.remove(map);
                removed++;
            }
        }
        return removed;
    }

    private static boolean belongsTo(FastThreadLocal<?> local, ClassLoader loader) {
        if (definedBy(local, loader) || definedBy(local.getIfExists(), loader)) {
            return true;
        }
        for (Class<?> c = local.getClass(); c != null && c != FastThreadLocal.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    if (definedBy(f.get(local), loader)) {
                        return true; // e.g. Recycler's thread local, whose outer instance is the plugin's subclass
                    }
                } catch (RuntimeException | IllegalAccessException e) {
                    // a field of a class that does not open itself: not the plugin's
                }
            }
        }
        return false;
    }

    private static boolean definedBy(Object o, ClassLoader loader) {
        if (o == null) {
            return false;
        }
        Class<?> c = o instanceof Class<?> k ? k : o.getClass();
        return c.getClassLoader() == loader;
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
