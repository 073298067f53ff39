package dev.daemonkit.testkit.joined;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a thread of its own class and ends it in onStopped: a clean plugin, whose loader a stop must unload. Its
 * thread, once ended, is still an object of the plugin's class: whoever keeps it keeps the plugin's class loader.
 */
public final class JoinedThreadPlugin implements DaemonPlugin {
    public static final String THREAD = "joined-worker";

    @Override
    public String name() {
        return "joined";
    }

    @Override
    public void configure(DaemonContext daemon) {
        CountDownLatch stop = new CountDownLatch(1);
        Thread worker = new Worker(stop);
        worker.setDaemon(true);
        worker.start();
        daemon.onStopped(() -> {
            stop.countDown();
            try {
                worker.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    static final class Worker extends Thread {
        private final CountDownLatch stop;

        Worker(CountDownLatch stop) {
            super(THREAD);
            this.stop = stop;
        }

        @Override
        public void run() {
            try {
                stop.await();
            } catch (InterruptedException e) {
                // ends either way
            }
        }
    }
}
