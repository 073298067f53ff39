package dev.daemonkit.testplugins;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;

/** Tells each client the version of the bundled library testlib.Greeting, as its own class loader sees it. */
public final class LibraryVersionBPlugin implements DaemonPlugin {
    @Override
    public String name() {
        return "lib-b";
    }

    @Override
    public void configure(DaemonContext daemon) {
        daemon.listen("listen", p -> p.addLast(new GreetingHandler(getClass().getClassLoader())));
    }
}
