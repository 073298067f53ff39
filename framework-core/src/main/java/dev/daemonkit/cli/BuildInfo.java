package dev.daemonkit.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The version and the commit this build was made from, recorded by Maven in {@code version.properties}. */
record BuildInfo(String version, String commit) {

    /** Reads the recorded values; a jar built without the filtered file (an IDE's own build) says so. */
    static BuildInfo current() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return new BuildInfo(
                    recorded(p.getProperty("version"), "unknown (not built by Maven)"),
                    recorded(p.getProperty("commit"), "unknown (not built by Maven)"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A value Maven did not substitute is still {@code ${...}}: report it as unknown, not as text. */
    private static String recorded(String value, String unknown) {
        return value == null || value.isBlank() || value.startsWith("${") ? unknown : value;
    }

    /** {@code daemonkit 0.1.0 (commit 5d0c1a9e2f3b)}: what {@code daemonkit version} and {@code --version} print. */
    String line() {
        return "daemonkit " + version + " (commit " + commit + ")";
    }
}
