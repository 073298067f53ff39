package dev.daemonkit.testplugins;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;

public final class ThrowsInConstructorPlugin implements DaemonPlugin {
    public ThrowsInConstructorPlugin() {
        throw new IllegalStateException("constructor refuses to run");
    }

    @Override
    public String name() {
        return "throws-in-constructor";
    }

    @Override
    public void configure(DaemonContext daemon) {}
}
