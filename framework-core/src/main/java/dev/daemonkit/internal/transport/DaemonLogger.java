package dev.daemonkit.internal.transport;

import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.AbstractLogger;
import org.slf4j.spi.LocationAwareLogger;

/**
 * A daemon's own logger ({@code DaemonContext.log()}, named {@code daemon.NAME}): its lines always carry its daemon's
 * context, and so reach {@code logs/NAME.log} and show the daemon's name, whichever thread logs. The logging system
 * routes a line by the daemon in the thread's MDC ({@link LogScope}), which the framework sets only while it runs the
 * daemon's code (a connection's events, its timers, its hooks); a line from a plugin's own thread, a library's callback
 * (Lettuce's, on an event loop) or a Netty future listener had no daemon there, and went to the launcher's log alone,
 * or, on a thread in another daemon's scope, to that daemon's file.
 *
 * <p>In the daemon's own scope (the usual case: a handler logging) a call goes straight through, connection keys
 * kept. Anywhere else it enters the daemon's scope for the one call and restores what was in force after it.
 */
public final class DaemonLogger extends AbstractLogger {
    private static final long serialVersionUID = 1L;
    private static final String FQCN = DaemonLogger.class.getName();

    private final transient Logger delegate;
    private final transient LogScope scope;

    /** {@code scope}: the daemon's own scope (one per daemon instance; compared by identity when entered). */
    public DaemonLogger(Logger delegate, LogScope scope) {
        this.delegate = delegate;
        this.scope = scope;
        this.name = delegate.getName();
    }

    /** Whether the thread is in this daemon's scope now (its own or one of its connections'). */
    private boolean inScope() {
        return scope.daemon().equals(LoopActivity.current().daemon);
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return FQCN;
    }

    @Override
    protected void handleNormalizedLoggingCall(
            Level level, Marker marker, String messagePattern, Object[] arguments, Throwable throwable) {
        if (inScope()) {
            log(level, marker, messagePattern, arguments, throwable);
            return;
        }
        Object previous = scope.enter();
        try {
            log(level, marker, messagePattern, arguments, throwable);
        } finally {
            scope.exit(previous);
        }
    }

    private void log(Level level, Marker marker, String messagePattern, Object[] arguments, Throwable throwable) {
        if (delegate instanceof LocationAwareLogger l) {
            l.log(marker, FQCN, level.toInt(), messagePattern, arguments, throwable);
        } else {
            delegate.makeLoggingEventBuilder(level)
                    .addMarker(marker)
                    .setCause(throwable)
                    .log(messagePattern, arguments == null ? new Object[0] : arguments);
        }
    }

    /** Asked in the daemon's scope too: its own levels ({@code daemons.NAME.log.levels}) are looked up by it. */
    private boolean enabled(Level level, Marker marker) {
        if (inScope()) {
            return delegate.isEnabledForLevel(level) && (marker == null || markerEnabled(level, marker));
        }
        Object previous = scope.enter();
        try {
            return delegate.isEnabledForLevel(level) && (marker == null || markerEnabled(level, marker));
        } finally {
            scope.exit(previous);
        }
    }

    private boolean markerEnabled(Level level, Marker marker) {
        return switch (level) {
            case TRACE -> delegate.isTraceEnabled(marker);
            case DEBUG -> delegate.isDebugEnabled(marker);
            case INFO -> delegate.isInfoEnabled(marker);
            case WARN -> delegate.isWarnEnabled(marker);
            case ERROR -> delegate.isErrorEnabled(marker);
        };
    }

    @Override
    public boolean isTraceEnabled() {
        return enabled(Level.TRACE, null);
    }

    @Override
    public boolean isTraceEnabled(Marker marker) {
        return enabled(Level.TRACE, marker);
    }

    @Override
    public boolean isDebugEnabled() {
        return enabled(Level.DEBUG, null);
    }

    @Override
    public boolean isDebugEnabled(Marker marker) {
        return enabled(Level.DEBUG, marker);
    }

    @Override
    public boolean isInfoEnabled() {
        return enabled(Level.INFO, null);
    }

    @Override
    public boolean isInfoEnabled(Marker marker) {
        return enabled(Level.INFO, marker);
    }

    @Override
    public boolean isWarnEnabled() {
        return enabled(Level.WARN, null);
    }

    @Override
    public boolean isWarnEnabled(Marker marker) {
        return enabled(Level.WARN, marker);
    }

    @Override
    public boolean isErrorEnabled() {
        return enabled(Level.ERROR, null);
    }

    @Override
    public boolean isErrorEnabled(Marker marker) {
        return enabled(Level.ERROR, marker);
    }
}
