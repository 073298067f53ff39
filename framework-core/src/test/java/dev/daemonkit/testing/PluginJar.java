package dev.daemonkit.testing;

import dev.daemonkit.api.DaemonPlugin;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Builds plugin jars inside a test (in the spirit of pf4j's PluginJar.Builder): classes copied from
 * the test's own compiled classes (with their nested classes), services files, resources, and
 * classes compiled from source at test time (for two versions of one library).
 */
public final class PluginJar {
    private final Path file;
    private final Map<String, byte[]> entries = new LinkedHashMap<>();
    private final List<String> providers = new ArrayList<>();

    private PluginJar(Path file) {
        this.file = file;
    }

    public static PluginJar at(Path file) {
        return new PluginJar(file);
    }

    /** Adds the class files of {@code type} and its nested classes from the test class path. */
    public PluginJar withClass(Class<?> type) throws IOException {
        Path root;
        try {
            root = Path.of(
                    type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        String base = type.getName().replace('.', '/');
        Path dir = root.resolve(base).getParent();
        String simple = base.substring(base.lastIndexOf('/') + 1);
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String n = p.getFileName().toString();
                if (n.equals(simple + ".class") || n.startsWith(simple + "$")) {
                    entries.put(base.substring(0, base.lastIndexOf('/') + 1) + n, Files.readAllBytes(p));
                }
            }
        }
        return this;
    }

    /** Adds {@code type} (and nested classes) and lists it as a DaemonPlugin provider. */
    public PluginJar withPlugin(Class<? extends DaemonPlugin> type) throws IOException {
        withClass(type);
        providers.add(type.getName());
        return this;
    }

    /** Lists a provider by name only (e.g. a class that is deliberately missing). */
    public PluginJar withProviderName(String className) {
        providers.add(className);
        return this;
    }

    public PluginJar withResource(String name, String text) {
        entries.put(name, text.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /** Compiles one self-contained class from source and adds it. */
    public PluginJar withCompiled(String className, String source) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Map<String, ByteArrayClass> out = new LinkedHashMap<>();
        StandardJavaFileManager std = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8);
        var fm = new ForwardingJavaFileManager<StandardJavaFileManager>(std) {
            @Override
            public JavaFileObject getJavaFileForOutput(
                    Location location, String name, JavaFileObject.Kind kind, FileObject sibling) {
                ByteArrayClass c = new ByteArrayClass(name);
                out.put(name, c);
                return c;
            }
        };
        var src =
                new SimpleJavaFileObject(
                        URI.create("string:///" + className.replace('.', '/') + ".java"), JavaFileObject.Kind.SOURCE) {
                    @Override
                    public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                        return source;
                    }
                };
        boolean ok = javac.getTask(null, fm, null, List.of("--release", "17"), null, List.of(src))
                .call();
        if (!ok) {
            throw new IllegalStateException("test source of " + className + " does not compile");
        }
        out.forEach((name, c) -> entries.put(name.replace('.', '/') + ".class", c.bytes.toByteArray()));
        return this;
    }

    private static final class ByteArrayClass extends SimpleJavaFileObject {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        ByteArrayClass(String name) {
            super(URI.create("bytes:///" + name.replace('.', '/') + ".class"), Kind.CLASS);
        }

        @Override
        public OutputStream openOutputStream() {
            return bytes;
        }

        @Override
        public InputStream openInputStream() {
            return new ByteArrayInputStream(bytes.toByteArray());
        }
    }

    public Path build() throws IOException {
        Files.createDirectories(file.getParent());
        Manifest mf = new Manifest();
        mf.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(file), mf)) {
            if (!providers.isEmpty()) {
                jar.putNextEntry(new JarEntry("META-INF/services/" + DaemonPlugin.class.getName()));
                jar.write((String.join("\n", providers) + "\n").getBytes(StandardCharsets.UTF_8));
                jar.closeEntry();
            }
            for (var e : entries.entrySet()) {
                jar.putNextEntry(new JarEntry(e.getKey()));
                jar.write(e.getValue());
                jar.closeEntry();
            }
        }
        return file;
    }
}
