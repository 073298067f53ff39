package dev.daemonkit.samples.presence;

import dev.daemonkit.testkit.TestLauncher;

/** The presence plugin from this module's classes, in a test launcher, both listeners on free ports. */
final class Launchers {
    private Launchers() {}

    static TestLauncher presence() {
        return TestLauncher.withPlugin(PresencePlugin.class)
                .config("daemons.presence { listen = \"127.0.0.1:0\", listen-http = \"127.0.0.1:0\" }");
    }
}
