package dev.daemonkit.internal.plugins;

/**
 * The context class loader of the framework's own threads (event loops, the lifecycle and control threads): it sees
 * exactly what every plugin's loader takes from the framework (the {@code dev.daemonkit.api} package, Netty, Guice,
 * Typesafe Config, SLF4J) and the JDK, nothing else.
 *
 * <p>Why not the framework's loader: a library that a plugin bundles and that looks its own classes up through the
 * context loader (Lettuce finds its JFR event classes with {@code Thread.getContextClassLoader()}) would find a second
 * copy wherever the framework's class path also holds that library (a test's class path does), and fail with an
 * "argument type mismatch" or a {@link ClassCastException}; here it finds none and falls back or goes without, the same
 * way in tests as in the distribution. Why not a plugin's loader: a thread made while one plugin version ran would keep
 * that version's classes after a hot deploy (see {@link FrameworkThreads}).
 */
public final class SharedClasses extends ClassLoader {
    static {
        ClassLoader.registerAsParallelCapable();
    }

    private static final SharedClasses INSTANCE = new SharedClasses(SharedClasses.class.getClassLoader());

    private final ClassLoader framework;

    private SharedClasses(ClassLoader framework) {
        super("daemonkit-shared", ClassLoader.getPlatformClassLoader());
        this.framework = framework;
    }

    /** The one view; it holds no plugin's class, so it never keeps a plugin loaded. */
    public static ClassLoader loader() {
        return INSTANCE;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (PluginClassLoader.isShared(name)) {
            return framework.loadClass(name);
        }
        return super.loadClass(name, resolve); // the JDK's, or ClassNotFoundException
    }

    @Override
    public String toString() {
        return "SharedClasses[dev.daemonkit.api, Netty, Guice, Typesafe Config, SLF4J]";
    }
}
