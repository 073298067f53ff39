package dev.daemonkit.logging.internal;

import java.util.Locale;

/**
 * How rolled log files are compressed ({@code rolling.compression}).
 *
 * <p>zstd is the default: at a line per request a 100 MB file rolls every few seconds, and
 * compressing it was the largest single cost of logging on a busy core. zstd level 1 took 2.3x less
 * CPU than gzip level 1 on our log lines, for slightly smaller archives (docs/benchmarks.md,
 * "Logging"). gzip stays for tools that only read {@code .gz}; none keeps rolled files as they are.
 */
public enum Compression {
    ZSTD(".zst"),
    GZIP(".gz"),
    NONE("");

    private final String suffix;

    Compression(String suffix) {
        this.suffix = suffix;
    }

    /** Added to a rolled file's name once compressed, e.g. {@code .zst}; empty for {@link #NONE}. */
    public String suffix() {
        return suffix;
    }

    /** The name in configuration: {@code zstd}, {@code gzip} or {@code none}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @return null when {@code name} names none */
    static Compression parse(String name) {
        for (Compression c : values()) {
            if (c.configName().equals(name)) {
                return c;
            }
        }
        return null;
    }
}
