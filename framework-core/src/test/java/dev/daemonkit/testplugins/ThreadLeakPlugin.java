package dev.daemonkit.testplugins;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import java.util.concurrent.CountDownLatch;

/** Starts a thread it never stops: its class loader cannot be collected after unload. */
public final class ThreadLeakPlugin implements DaemonPlugin {
    static final CountDownLatch NEVER = new CountDownLatch(1);

    @Override
    public String name() {
        return "leaky";
    }

    @Override
    public void configure(DaemonContext daemon) {
        Thread t = new Thread(
                () -> {
                    try {
                        NEVER.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                "leaky-worker");
        t.setDaemon(true);
        t.start();
    }
}
