package dev.daemonkit.logging.internal;

import java.util.regex.Pattern;

/** Names that become file names in the logs directory. */
public final class FileNames {

    // Daemon names become logs/NAME.log: no separators, no "..", nothing a shell would mangle.
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private FileNames() {}

    public static boolean isPlain(String name) {
        return name != null && PLAIN.matcher(name).matches() && !name.contains("..");
    }
}
