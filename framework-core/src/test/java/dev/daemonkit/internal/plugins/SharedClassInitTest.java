package dev.daemonkit.internal.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ReferenceCounted;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.JarURLConnection;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Future;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * Every class of the shared Netty jars that keeps an exception or a buffer in a static field, or a static object with
 * an exception or a future in its own fields, is initialized ahead of plugins (SharedClassInit): else the first plugin to touch it would stay loaded for as long as the JVM runs.
 */
class SharedClassInitTest {

    @Test
    void everyNettyClassWithAStaticExceptionIsInitializedBeforePlugins() throws IOException {
        ClassLoader loader = getClass().getClassLoader();
        List<URL> jars = Collections.list(loader.getResources("META-INF/io.netty.versions.properties"));
        assertThat(jars).as("the shared Netty jars on the class path").hasSizeGreaterThan(5);
        TreeSet<String> found = new TreeSet<>();
        for (URL url : jars) {
            try (JarFile jar = ((JarURLConnection) url.openConnection()).getJarFile()) {
                for (var entry : Collections.list(jar.entries())) {
                    String name = entry.getName();
                    if (!name.endsWith(".class")
                            || name.startsWith("META-INF/")
                            || name.endsWith("module-info.class")) {
                        continue;
                    }
                    String className = name.substring(0, name.length() - 6).replace('/', '.');
                    Class<?> type;
                    try {
                        type = Class.forName(className, false, loader);
                        for (Field f : type.getDeclaredFields()) {
                            boolean keepsAStack = Throwable.class.isAssignableFrom(f.getType())
                                            && !f.getType().getName().equals("io.netty.util.Signal")
                                    || ReferenceCounted.class.isAssignableFrom(f.getType());
                            if (Modifier.isStatic(f.getModifiers())
                                    && (keepsAStack || holdsAStackInItsFields(f.getType()))) {
                                found.add(className);
                            }
                        }
                    } catch (ClassNotFoundException | LinkageError optionalDependencyMissing) {
                        // a class of an optional integration (BlockHound, Brotli4j, ...): no plugin gets it either
                    }
                }
            }
        }
        List<String> missing = new ArrayList<>(found);
        missing.removeAll(SharedClassInit.STATIC_STACK_HOLDERS);
        assertThat(found)
                .contains(
                        "io.netty.handler.codec.http.HttpObjectDecoder",
                        "io.netty.handler.codec.http.HttpObjectEncoder");
        assertThat(missing)
                .as("add them to SharedClassInit.STATIC_STACK_HOLDERS")
                .isEmpty();
    }

    /**
     * A static singleton of a shared library that was made with an exception in one of its own fields, or a future
     * that may hold one (ImmediateEventExecutor's and GlobalEventExecutor's failed termination futures): it keeps the
     * stack of whoever first touched its class just as a static exception does (found with two launchers in one JVM,
     * after Lettuce's DefaultClientResources was the first to touch ImmediateEventExecutor).
     */
    private static boolean holdsAStackInItsFields(Class<?> type) {
        if (type.isPrimitive()
                || type.isArray()
                || type.isInterface()
                || !type.getName().startsWith("io.netty.")) {
            return false;
        }
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers())
                        && (Throwable.class.isAssignableFrom(f.getType())
                                        && !f.getType().getName().equals("io.netty.util.Signal")
                                || Future.class.isAssignableFrom(f.getType()))) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void aClassThatIsNotOnTheClassPathIsSkippedAndTheOthersAreStillAsked() {
        List<String> asked = new ArrayList<>();
        ClassLoader missingSome = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                asked.add(name);
                if (name.contains(".spdy.")) {
                    throw new ClassNotFoundException(name + " (not on this class path)");
                }
                return super.loadClass(name, resolve);
            }
        };

        SharedClassInit.run(missingSome);

        assertThat(asked).containsAll(SharedClassInit.STATIC_STACK_HOLDERS);
    }
}
