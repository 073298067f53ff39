package dev.daemonkit.internal.lifecycle;

import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/** How a daemon's failure is told in its one log line: the root cause, and where it was thrown. */
final class Failures {
    private Failures() {}

    /** {@code IllegalStateException: no backend} of the innermost cause. */
    static String rootMessage(Throwable e) {
        Throwable root = root(e);
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    /** {@code " (at EchoPlugin.java:42)"} of the innermost cause, or nothing when unknown. */
    static String where(Throwable e) {
        StackTraceElement[] st = root(e).getStackTrace();
        return st.length == 0 || st[0].getFileName() == null
                ? ""
                : " (at " + st[0].getFileName() + ":" + st[0].getLineNumber() + ")";
    }

    /** The cause a {@link CompletionException} wraps, or {@code e}. */
    static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    /** Why a start that finishes later ({@code readyWhen}) did not: it failed, or passed its start-timeout. */
    static String notReady(String daemon, Duration startTimeout, Throwable cause) {
        return cause instanceof TimeoutException
                ? "its plugin was not ready within daemons." + daemon + ".start-timeout (" + startTimeout.toMillis()
                        + " ms). Raise it if the plugin's backend is this slow, or find why it does not answer"
                : "its start failed: " + rootMessage(cause) + where(cause);
    }

    private static Throwable root(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }
}
