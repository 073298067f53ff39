package dev.daemonkit.internal.plugins;

import java.nio.file.Path;

/** A plugin file or provider that could not be loaded, and why (a complete, user-facing sentence). */
public record PluginFailure(Path source, String reason) {}
