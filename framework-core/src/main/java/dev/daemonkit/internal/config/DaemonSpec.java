package dev.daemonkit.internal.config;

import com.typesafe.config.Config;

/**
 * One daemon instance as configured: its settings and its resolved block (the user's block, then the
 * plugin's reference.conf block, then {@code daemonkit.daemon-defaults}).
 */
public record DaemonSpec(DaemonSettings settings, Config block) {
    public String name() {
        return settings.name();
    }

    public String plugin() {
        return settings.plugin();
    }
}
