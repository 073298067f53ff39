package dev.daemonkit.internal.plugins;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * One plugin's class loader. Parent-first for the plugin API and the libraries the framework shares
 * with plugins (Netty, Guice and its javax/jakarta.inject, Typesafe Config, SLF4J), so a plugin's
 * handlers and the framework agree on those types (a class of those libraries the framework does not
 * ship, such as Netty's DNS resolver, comes from the plugin's own jars); child-first for everything else, so a plugin may
 * bundle its own version of any other library. Framework internals are not delegated at all: a plugin
 * cannot reach {@code dev.daemonkit.internal}. Service files and {@code reference.conf} come from the
 * plugin's own jars only, so {@link java.util.ServiceLoader} finds the plugin's own providers.
 */
public final class PluginClassLoader extends URLClassLoader {
    static {
        ClassLoader.registerAsParallelCapable();
    }

    /** Packages loaded from the framework, never from the plugin. */
    private static final String[] SHARED = {
        "dev.daemonkit.api.",
        "io.netty.",
        "com.google.inject.",
        "javax.inject.",
        "jakarta.inject.",
        "org.aopalliance.",
        "com.typesafe.config.",
        "org.slf4j.",
    };

    private final String pluginId;
    private final ClassLoader framework;
    private final ClassLoader platform = ClassLoader.getPlatformClassLoader();

    public PluginClassLoader(String pluginId, List<URL> jars, ClassLoader framework) {
        super("plugin:" + pluginId, jars.toArray(URL[]::new), null);
        this.pluginId = pluginId;
        this.framework = framework;
    }

    public String pluginId() {
        return pluginId;
    }

    static boolean isShared(String className) {
        for (String prefix : SHARED) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                if (isShared(name)) {
                    try {
                        c = framework.loadClass(name);
                    } catch (ClassNotFoundException notShipped) {
                        if (name.startsWith("dev.daemonkit.")) {
                            throw notShipped; // the API is the framework's alone
                        }
                        // A module of a shared library the framework does not ship (Netty's DNS resolver, which
                        // Lettuce needs): the plugin may bring it, built against the framework's version.
                        c = findOwn(name, notShipped);
                    }
                } else {
                    try {
                        // The JDK's own classes always come from the JDK.
                        c = platform.loadClass(name);
                    } catch (ClassNotFoundException notJdk) {
                        try {
                            c = findClass(name);
                        } catch (ClassNotFoundException notInPlugin) {
                            throw new ClassNotFoundException(name + " is neither in plugin " + pluginId
                                    + " nor shared by the framework (shared: the dev.daemonkit.api package, Netty, Guice,"
                                    + " Typesafe Config, SLF4J). Bundle the library in the plugin jar or its folder.");
                        }
                    }
                }
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }

    private Class<?> findOwn(String name, ClassNotFoundException notShipped) throws ClassNotFoundException {
        try {
            return findClass(name);
        } catch (ClassNotFoundException notInPlugin) {
            throw new ClassNotFoundException(
                    name + " is neither shipped by the framework nor in plugin " + pluginId + ". Bundle the module"
                            + " that holds it (of the framework's version) in the plugin's folder.",
                    notShipped);
        }
    }

    @Override
    public URL getResource(String name) {
        if (isOwnOnly(name)) {
            return findResource(name);
        }
        URL own = findResource(name);
        return own != null ? own : framework.getResource(name);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        if (isOwnOnly(name)) {
            return findResources(name);
        }
        List<URL> all = new ArrayList<>(Collections.list(findResources(name)));
        all.addAll(Collections.list(framework.getResources(name)));
        return Collections.enumeration(all);
    }

    private static boolean isOwnOnly(String resource) {
        return resource.startsWith("META-INF/services/")
                || resource.equals("reference.conf")
                || resource.equals("application.conf");
    }

    @Override
    public String toString() {
        return "PluginClassLoader[" + pluginId + "]";
    }
}
