package dev.daemonkit.testplugins;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;

public final class ThrowsInConfigurePlugin implements DaemonPlugin {
    @Override
    public String name() {
        return "throws-in-configure";
    }

    @Override
    public void configure(DaemonContext daemon) {
        daemon.listen("listen", p -> {});
        throw new IllegalStateException("configure refuses to run");
    }
}
