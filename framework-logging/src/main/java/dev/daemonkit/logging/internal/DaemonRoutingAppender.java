package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import dev.daemonkit.logging.LogContext;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sends each line to the output of the daemon named by its MDC key {@code daemon}: one map lookup per
 * line however many daemons run, where one filtered appender per daemon would cost one check per
 * daemon. Lines without a daemon, or of a daemon without a file, go nowhere here.
 *
 * <p>Does not own the outputs: {@link dev.daemonkit.logging.LoggingSystem} adds, removes and stops them.
 */
public final class DaemonRoutingAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {

    private final ConcurrentHashMap<String, BoundedAsyncAppender> routes = new ConcurrentHashMap<>();

    public DaemonRoutingAppender() {
        setName("daemon-files");
    }

    public void route(String daemon, BoundedAsyncAppender output) {
        routes.put(daemon, output);
    }

    /** The daemon's own output, or null. */
    public BoundedAsyncAppender route(String daemon) {
        return routes.get(daemon);
    }

    public BoundedAsyncAppender unroute(String daemon) {
        return routes.remove(daemon);
    }

    @Override
    protected void append(ILoggingEvent event) {
        String daemon = event.getMDCPropertyMap().get(LogContext.DAEMON);
        if (daemon != null) {
            BoundedAsyncAppender output = routes.get(daemon);
            if (output != null && output.isStarted()) {
                output.doAppend(event);
            }
        }
    }
}
