package dev.daemonkit.logging;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.MDC;

/** Small helpers shared by the tests: HOCON from a string, MDC scopes, reading a log file. */
final class TestLogs {

    private TestLogs() {}

    /** A {@code daemonkit.logging} block; the console is off unless the test turns it on. */
    static Config global(String hocon) {
        return ConfigFactory.parseString("console.enabled = false\n" + hocon);
    }

    static Config block(String hocon) {
        return ConfigFactory.parseString(hocon);
    }

    static void inDaemon(String daemon, Runnable body) {
        inConnection(daemon, null, null, body);
    }

    static void inConnection(String daemon, String conn, String peer, Runnable body) {
        put(LogContext.DAEMON, daemon);
        put(LogContext.CONNECTION, conn);
        put(LogContext.PEER, peer);
        try {
            body.run();
        } finally {
            MDC.remove(LogContext.DAEMON);
            MDC.remove(LogContext.CONNECTION);
            MDC.remove(LogContext.PEER);
        }
    }

    private static void put(String key, String value) {
        if (value != null) {
            MDC.put(key, value);
        }
    }

    static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
