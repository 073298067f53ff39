package dev.daemonkit.testkit.faulty;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import java.util.concurrent.CountDownLatch;

/** Starts a thread of its own and never stops it: its class loader cannot be collected after the stop. */
public final class ThreadLeakPlugin implements DaemonPlugin {
    public static final String THREAD = "thread-leak-worker";

    @Override
    public String name() {
        return "thread-leak";
    }

    @Override
    public void configure(DaemonContext daemon) {
        Thread worker = new Worker();
        worker.setDaemon(true);
        worker.start();
    }

    static final class Worker extends Thread {
        Worker() {
            super(THREAD);
        }

        @Override
        public void run() {
            try {
                new CountDownLatch(1).await(); // until the test interrupts it
            } catch (InterruptedException e) {
                // the test cleans up after proving the leak
            }
        }
    }
}
