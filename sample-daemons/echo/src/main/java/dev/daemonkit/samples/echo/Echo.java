package dev.daemonkit.samples.echo;

import dev.daemonkit.api.RequestCounter;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/**
 * What all of one echo daemon's connections share: the line limit and its key (named in the error line),
 * the counters, and the logger of {@code log-lines}. One per daemon instance; each connection's
 * {@link EchoLines} holds only a reference to it.
 */
final class Echo {
    private final int maxLineBytes;
    private final String maxLineBytesKey;
    private final LongAdder echoed;
    private final RequestCounter requests;
    private final Logger lineLog; // null: log-lines = false

    /**
     * @param maxLineBytesKey the instance's own key of the limit, named in the error line
     * @param requests        the daemon's request counter (daemonkit_requests_total)
     * @param lineLog         with {@code log-lines = true}, the daemon's logger: every line's length at INFO (a
     *                        debugging aid, and the load of {@code benchmarks/echo-logging.sh}); else null
     */
    Echo(int maxLineBytes, String maxLineBytesKey, LongAdder echoed, RequestCounter requests, Logger lineLog) {
        this.maxLineBytes = maxLineBytes;
        this.maxLineBytesKey = maxLineBytesKey;
        this.echoed = echoed;
        this.requests = requests;
        this.lineLog = lineLog;
    }

    int maxLineBytes() {
        return maxLineBytes;
    }

    String maxLineBytesKey() {
        return maxLineBytesKey;
    }

    /** Counts one line of {@code bytes} (its delimiter included) about to be written back. */
    void echoed(int bytes) {
        if (lineLog != null) {
            lineLog.info("echo {} bytes", bytes);
        }
        echoed.increment();
        requests.increment();
    }
}
