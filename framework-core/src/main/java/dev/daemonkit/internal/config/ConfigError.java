package dev.daemonkit.internal.config;

/**
 * A configuration problem the operator must fix. The message is complete and user-facing: what is
 * wrong, where (file, line, key), and what to do. The launcher prints it and exits with code 2.
 */
public final class ConfigError extends RuntimeException {
    public ConfigError(String message) {
        super(message, null, false, false);
    }

    public ConfigError(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
