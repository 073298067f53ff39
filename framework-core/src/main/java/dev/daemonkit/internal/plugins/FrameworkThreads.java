package dev.daemonkit.internal.plugins;

import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.FastThreadLocal;
import java.security.AccessController;
import java.security.PrivilegedAction;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Makes the framework's long-lived threads (event loops, the lifecycle pool, the control thread) so that none of them
 * keeps a plugin's class loader, whichever thread happens to start them. Netty and the JDK's pools start their threads
 * lazily, on the first task, and that task is often handed over by a plugin's code (its {@code onStarted} hook, a
 * Lettuce connect): a thread made there would inherit
 * <ul>
 *   <li>the plugin's loader as its context class loader: set to {@link SharedClasses} instead;
 *   <li>an access control context holding the protection domain of every class on the creating stack, the plugin's
 *       included, and each domain holds its class loader (JDK 17 captures it even without a security manager): the
 *       thread is made inside {@link AccessController#doPrivileged}, so only the frames from here up (the framework's,
 *       Netty's and the JDK's) are captured, and not the creating thread's own inherited context.
 * </ul>
 * Such a thread outlives a hot-deployed plugin version, which then could never be unloaded.
 */
public final class FrameworkThreads {
    private FrameworkThreads() {}

    /** Netty's {@link DefaultThreadFactory} ({@code prefix-POOL-N} names, fast thread locals), made clean. */
    public static ThreadFactory factory(String prefix, boolean daemon) {
        return clean(new DefaultThreadFactory(prefix, daemon));
    }

    /**
     * Like {@link java.util.concurrent.Executors#newCachedThreadPool}, with clean daemon threads that also keep no
     * Netty fast thread locals from one task to the next (see {@link #removeFastThreadLocals}).
     */
    public static ExecutorService cachedPool(String prefix) {
        return new ThreadPoolExecutor(
                0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), factory(prefix, true)) {
            @Override
            protected void afterExecute(Runnable r, Throwable t) {
                removeFastThreadLocals();
            }
        };
    }

    /** Like {@link java.util.concurrent.Executors#newSingleThreadScheduledExecutor}, the same way. */
    public static ScheduledExecutorService singleScheduled(String prefix) {
        return new ScheduledThreadPoolExecutor(1, factory(prefix, true)) {
            @Override
            protected void afterExecute(Runnable r, Throwable t) {
                removeFastThreadLocals();
            }
        };
    }

    /**
     * A plugin's code, or a library it bundles, run by a task on one of these threads (a hook, a stop that sends a
     * last Redis command) may leave Netty fast thread locals of its own there: Lettuce's {@code Recycler} keeps a pool
     * of its objects per thread, and the recycler behind it is a class of Lettuce. Netty frees them when the thread
     * ends; a pool thread may live on after the plugin version is retired, so they are freed after every task
     * instead. These threads run no hot path: refilling a cache costs nothing that matters here.
     */
    private static void removeFastThreadLocals() {
        FastThreadLocal.removeAll();
    }

    /** {@code made}'s threads, made clean (see the class comment). */
    public static ThreadFactory clean(ThreadFactory made) {
        return r -> newThread(made, r);
    }

    @SuppressWarnings("removal") // the access control context goes away with JDK 24; until then it pins loaders
    private static Thread newThread(ThreadFactory made, Runnable r) {
        PrivilegedAction<Thread> make = () -> {
            Thread t = made.newThread(r);
            t.setContextClassLoader(SharedClasses.loader());
            return t;
        };
        return AccessController.doPrivileged(make);
    }
}
