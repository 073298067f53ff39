package dev.daemonkit.internal.config;

import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValue;

/** Formats where a config value came from, for error messages. */
public final class Origins {
    private Origins() {}

    /** {@code conf/daemonkit.conf:14}, {@code plugin echo reference.conf:3}, or {@code system property}. */
    public static String of(ConfigValue value) {
        return value == null ? "default" : of(value.origin());
    }

    public static String of(ConfigOrigin origin) {
        if (origin == null) {
            return "unknown origin";
        }
        String where;
        if (origin.filename() != null) {
            where = origin.filename();
        } else if (origin.url() != null) {
            where = origin.url().toString().replaceFirst("^jar:file:.*/([^/]+!/)", "$1");
        } else {
            return origin.description(); // already carries the line number
        }
        return origin.lineNumber() > 0 ? where + ":" + origin.lineNumber() : where;
    }
}
