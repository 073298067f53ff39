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

    // The usual call, a handler logging in its own daemon's scope, goes to Logback's location-aware entry once:
    // AbstractLogger's versions would ask isXxxEnabled() first and Logback would then run the same turbo filters
    // (the daemon's levels, the repeat limiter) a second time for every line.

    /** Logs through the delegate once when in scope; false when the caller must take the scoped path. */
    private boolean direct(Level level, String format, Object[] args, Throwable t) {
        if (delegate instanceof LocationAwareLogger l && inScope()) {
            l.log(null, FQCN, level.toInt(), format, args, t);
            return true;
        }
        return false;
    }

    @Override
    public void trace(String msg) {
        if (!direct(Level.TRACE, msg, null, null)) {
            super.trace(msg);
        }
    }

    @Override
    public void trace(String format, Object arg) {
        if (!direct(Level.TRACE, format, new Object[] {arg}, null)) {
            super.trace(format, arg);
        }
    }

    @Override
    public void trace(String format, Object arg1, Object arg2) {
        if (!direct(Level.TRACE, format, new Object[] {arg1, arg2}, null)) {
            super.trace(format, arg1, arg2);
        }
    }

    @Override
    public void trace(String format, Object... arguments) {
        if (!direct(Level.TRACE, format, arguments, null)) {
            super.trace(format, arguments);
        }
    }

    @Override
    public void trace(String msg, Throwable t) {
        if (!direct(Level.TRACE, msg, null, t)) {
            super.trace(msg, t);
        }
    }

    @Override
    public void debug(String msg) {
        if (!direct(Level.DEBUG, msg, null, null)) {
            super.debug(msg);
        }
    }

    @Override
    public void debug(String format, Object arg) {
        if (!direct(Level.DEBUG, format, new Object[] {arg}, null)) {
            super.debug(format, arg);
        }
    }

    @Override
    public void debug(String format, Object arg1, Object arg2) {
        if (!direct(Level.DEBUG, format, new Object[] {arg1, arg2}, null)) {
            super.debug(format, arg1, arg2);
        }
    }

    @Override
    public void debug(String format, Object... arguments) {
        if (!direct(Level.DEBUG, format, arguments, null)) {
            super.debug(format, arguments);
        }
    }

    @Override
    public void debug(String msg, Throwable t) {
        if (!direct(Level.DEBUG, msg, null, t)) {
            super.debug(msg, t);
        }
    }

    @Override
    public void info(String msg) {
        if (!direct(Level.INFO, msg, null, null)) {
            super.info(msg);
        }
    }

    @Override
    public void info(String format, Object arg) {
        if (!direct(Level.INFO, format, new Object[] {arg}, null)) {
            super.info(format, arg);
        }
    }

    @Override
    public void info(String format, Object arg1, Object arg2) {
        if (!direct(Level.INFO, format, new Object[] {arg1, arg2}, null)) {
            super.info(format, arg1, arg2);
        }
    }

    @Override
    public void info(String format, Object... arguments) {
        if (!direct(Level.INFO, format, arguments, null)) {
            super.info(format, arguments);
        }
    }

    @Override
    public void info(String msg, Throwable t) {
        if (!direct(Level.INFO, msg, null, t)) {
            super.info(msg, t);
        }
    }

    @Override
    public void warn(String msg) {
        if (!direct(Level.WARN, msg, null, null)) {
            super.warn(msg);
        }
    }

    @Override
    public void warn(String format, Object arg) {
        if (!direct(Level.WARN, format, new Object[] {arg}, null)) {
            super.warn(format, arg);
        }
    }

    @Override
    public void warn(String format, Object arg1, Object arg2) {
        if (!direct(Level.WARN, format, new Object[] {arg1, arg2}, null)) {
            super.warn(format, arg1, arg2);
        }
    }

    @Override
    public void warn(String format, Object... arguments) {
        if (!direct(Level.WARN, format, arguments, null)) {
            super.warn(format, arguments);
        }
    }

    @Override
    public void warn(String msg, Throwable t) {
        if (!direct(Level.WARN, msg, null, t)) {
            super.warn(msg, t);
        }
    }

    @Override
    public void error(String msg) {
        if (!direct(Level.ERROR, msg, null, null)) {
            super.error(msg);
        }
    }

    @Override
    public void error(String format, Object arg) {
        if (!direct(Level.ERROR, format, new Object[] {arg}, null)) {
            super.error(format, arg);
        }
    }

    @Override
    public void error(String format, Object arg1, Object arg2) {
        if (!direct(Level.ERROR, format, new Object[] {arg1, arg2}, null)) {
            super.error(format, arg1, arg2);
        }
    }

    @Override
    public void error(String format, Object... arguments) {
        if (!direct(Level.ERROR, format, arguments, null)) {
            super.error(format, arguments);
        }
    }

    @Override
    public void error(String msg, Throwable t) {
        if (!direct(Level.ERROR, msg, null, t)) {
            super.error(msg, t);
        }
    }
}
