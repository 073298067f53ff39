package dev.daemonkit.internal.plugins;

import java.nio.file.Path;
import java.util.List;

/**
 * One plugin source (a jar, or a folder of jars) as loaded: its fingerprint at load time, the
 * private copy its class loader reads, the plugins it provides and what failed. {@code loader} is null
 * when nothing could be loaded.
 */
public record LoadedSource(
        Path source,
        String fingerprint,
        PluginClassLoader loader,
        Path copy,
        List<InstalledPlugin> plugins,
        List<PluginFailure> failures) {}
