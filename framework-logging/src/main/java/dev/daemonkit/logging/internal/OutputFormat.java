package dev.daemonkit.logging.internal;

/** How an output writes a line. */
public enum OutputFormat {
    /** Human text laid out by {@code daemonkit.logging.text-pattern}. */
    TEXT,
    /** One JSON object per line, see {@link JsonLayout}. */
    JSON
}
