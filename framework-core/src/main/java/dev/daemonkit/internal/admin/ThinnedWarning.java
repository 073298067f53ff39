package dev.daemonkit.internal.admin;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * One kind of refusal's WARN line on the admin endpoint, which anyone who can connect may cause as often as
 * they like: the first at once, then at most one per 10 s saying how many more there were. Racy by design
 * (two loops may both log once): it only thins lines.
 */
final class ThinnedWarning {
    private static final long EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Logger log;
    private final AtomicLong lastLog = new AtomicLong();
    private final LongAdder since = new LongAdder();

    ThinnedWarning(Logger log) {
        this.log = log;
    }

    void warn(Supplier<String> line) {
        long now = System.nanoTime();
        long last = lastLog.get();
        if (last != 0 && now - last < EVERY_NANOS || !lastLog.compareAndSet(last, now == 0 ? 1 : now)) {
            since.increment();
            return;
        }
        long more = since.sumThenReset();
        log.warn(line.get() + (more == 0 ? "" : " (" + more + " more refused so in the last 10 s)"));
    }
}
