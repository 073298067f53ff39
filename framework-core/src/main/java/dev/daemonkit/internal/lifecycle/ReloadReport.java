package dev.daemonkit.internal.lifecycle;

import java.util.List;

/**
 * What a reload did, for the operator: the daemons started, restarted, updated in place and
 * stopped, and notes (what waits for the next start, a new config that failed). {@link #toString} is
 * the text {@code bin/daemonkit reload} prints and the log line.
 */
public record ReloadReport(
        List<String> started, List<String> restarted, List<String> updated, List<String> stopped, List<String> notes) {
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("reloaded:");
        if (started.isEmpty() && restarted.isEmpty() && updated.isEmpty() && stopped.isEmpty()) {
            sb.append(" nothing changed");
        }
        append(sb, "started", started);
        append(sb, "restarted", restarted);
        append(sb, "updated in place", updated);
        append(sb, "stopped", stopped);
        for (String n : notes) {
            sb.append("\n  note: ").append(n);
        }
        return sb.toString();
    }

    private static void append(StringBuilder sb, String what, List<String> names) {
        if (!names.isEmpty()) {
            sb.append("\n  ").append(what).append(": ").append(String.join(", ", names));
        }
    }
}
