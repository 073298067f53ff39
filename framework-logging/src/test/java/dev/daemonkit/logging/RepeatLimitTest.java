package dev.daemonkit.logging;

import static dev.daemonkit.logging.TestLogs.global;
import static dev.daemonkit.logging.TestLogs.inConnection;
import static dev.daemonkit.logging.TestLogs.lines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class RepeatLimitTest {

    private static final Logger LOG = LoggerFactory.getLogger("com.example.cache.Protocol");

    @TempDir
    Path logs;

    @Test
    void aFloodOfTheSameWarningFromManyClientsWritesAFewLinesAndACount() {
        try (LoggingSystem logging =
                LoggingSystem.start(global("repeats { limit = 3, period = 1 hour }"), logs, false, null)) {
            logging.addDaemon("cache", null);
            for (int client = 0; client < 1000; client++) {
                inConnection(
                        "cache",
                        "c" + client,
                        "10.0.0." + client % 250 + ":4000",
                        () -> LOG.warn("bad command from client: {}", "GARBAGE"));
            }
            inConnection("cache", "c1", null, () -> LOG.warn("another problem"));
            inConnection("cache", "c1", null, () -> LOG.info("INFO lines are never limited"));
            inConnection("cache", "c1", null, () -> LOG.info("INFO lines are never limited"));
            inConnection("cache", "c1", null, () -> LOG.info("INFO lines are never limited"));
            inConnection("cache", "c1", null, () -> LOG.info("INFO lines are never limited"));
        }

        List<String> lines = lines(logs.resolve("cache.log"));
        assertThat(lines)
                .filteredOn(l -> l.contains("- bad command from client: GARBAGE"))
                .hasSize(3);
        assertThat(lines).filteredOn(l -> l.contains("another problem")).hasSize(1);
        assertThat(lines)
                .filteredOn(l -> l.contains("INFO lines are never limited"))
                .hasSize(4);
        // The count is logged on close at the latest, under the same logger and daemon.
        assertThat(lines)
                .filteredOn(l -> l.contains("suppressed 997 repeats of this WARN in the last")
                        && l.contains("\"bad command from client: {}\"")
                        && l.contains("[cache] com.example.cache.Protocol"))
                .hasSize(1);
    }

    @Test
    void theSamePatternInAnotherDaemonIsCountedSeparately() {
        try (LoggingSystem logging =
                LoggingSystem.start(global("repeats { limit = 1, period = 1 hour }"), logs, false, null)) {
            logging.addDaemon("a", null);
            logging.addDaemon("b", null);
            for (int i = 0; i < 5; i++) {
                TestLogs.inDaemon("a", () -> LOG.error("disk full"));
                TestLogs.inDaemon("b", () -> LOG.error("disk full"));
            }
        }

        assertThat(lines(logs.resolve("a.log")))
                .filteredOn(l -> l.endsWith("- disk full"))
                .hasSize(1);
        assertThat(lines(logs.resolve("b.log")))
                .filteredOn(l -> l.endsWith("- disk full"))
                .hasSize(1);
        assertThat(lines(logs.resolve("b.log")))
                .filteredOn(l -> l.contains("suppressed 4 repeats of this ERROR"))
                .hasSize(1);
    }

    @Test
    void theCountOfAnEndedWindowIsLoggedWithoutWaitingForClose() {
        // A tiny period: the sweeper reports the count soon after the window ends.
        LoggingSystem logging = LoggingSystem.start(global("repeats { limit = 1, period = 50 ms }"), logs, false, null);
        try {
            for (int i = 0; i < 4; i++) {
                LOG.warn("slow disk");
            }
            await().until(() ->
                    lines(logs.resolve("daemonkit.log")).stream().anyMatch(l -> l.contains("suppressed 3 repeats")));
        } finally {
            logging.close();
        }
    }
}
