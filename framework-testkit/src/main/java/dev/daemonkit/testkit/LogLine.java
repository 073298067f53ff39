package dev.daemonkit.testkit;

/**
 * One log line of the launcher under test, as data to assert on. Lines logged with a daemon's context (on its
 * connections, timers, {@code configure} and hooks, or through {@code daemon.log()}) carry its name, as they would go
 * to {@code logs/NAME.log}; the launcher's own lines have none.
 *
 * @param daemon  the daemon's name, or null for the launcher's own lines
 * @param level   {@code ERROR}, {@code WARN}, {@code INFO}, {@code DEBUG} or {@code TRACE}
 * @param logger  the logger's name ({@code daemon.NAME} for {@code daemon.log()})
 * @param message the message with its arguments filled in
 * @param thrown  the exception logged with it ({@code class: message}), or null
 */
public record LogLine(String daemon, String level, String logger, String message, String thrown) {
    @Override
    public String toString() {
        return level + " [" + (daemon == null ? "-" : daemon) + "] " + logger + " - " + message
                + (thrown == null ? "" : " (" + thrown + ")");
    }
}
