package dev.daemonkit.internal.lifecycle;

/** How a daemon's failure is told in its one log line: the root cause, and where it was thrown. */
final class Failures {
    private Failures() {
    }

    /** {@code IllegalStateException: no backend} of the innermost cause. */
    static String rootMessage(Throwable e) {
        Throwable root = root(e);
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    /** {@code " (at EchoPlugin.java:42)"} of the innermost cause, or nothing when unknown. */
    static String where(Throwable e) {
        StackTraceElement[] st = root(e).getStackTrace();
        return st.length == 0 || st[0].getFileName() == null ? ""
                : " (at " + st[0].getFileName() + ":" + st[0].getLineNumber() + ")";
    }

    private static Throwable root(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }
}
