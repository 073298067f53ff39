package dev.daemonkit.logging;

import static dev.daemonkit.logging.TestLogs.block;
import static dev.daemonkit.logging.TestLogs.global;
import static dev.daemonkit.logging.TestLogs.inDaemon;
import static dev.daemonkit.logging.TestLogs.lines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a HUP reload does to a daemon's file, and rolling by size. */
class RollingAndReloadTest {

    private static final Logger LOG = LoggerFactory.getLogger("com.example.Presence");

    @TempDir
    Path logs;

    @Test
    void aDaemonRemovedAndAddedAgainOrWithANewFormatKeepsWritingToItsFile() {
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
            logging.addDaemon("presence", null);
            inDaemon("presence", () -> LOG.info("first"));
            logging.removeDaemon("presence");
            logging.addDaemon("presence", null);
            inDaemon("presence", () -> LOG.info("second"));
            logging.addDaemon("presence", block("file.format = json"));
            inDaemon("presence", () -> LOG.info("third"));
        }

        List<String> lines = lines(logs.resolve("presence.log"));
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).endsWith("- first");
        assertThat(lines.get(1)).endsWith("- second");
        assertThat(lines.get(2)).startsWith("{").contains("\"message\":\"third\"");
    }

    @Test
    void aFileRollsWhenItReachesItsMaximumSize() throws IOException {
        try (LoggingSystem logging = LoggingSystem.start(global("file.enabled = false"), logs, false, null)) {
            logging.addDaemon("presence", block("rolling.max-file-size = 10 KiB"));
            String padding = "x".repeat(200);
            inDaemon("presence", () -> {
                for (int i = 0; i < 500; i++) {
                    LOG.info("line {} {}", i, padding);
                }
            });
        }

        try (Stream<Path> files = Files.list(logs)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .contains("presence.log")
                    .anyMatch(name ->
                            name.matches("presence\\.\\d{4}-\\d\\d-\\d\\d\\.\\d+\\.log\\.zst")); // zstd by default
        }
    }

    @Test
    void aDaemonWhoseFileCannotBeOpenedIsRefusedSayingWhichFileAndWhy() throws IOException {
        Files.createDirectories(logs.resolve("blocked.log")); // a directory where the file should be
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
            assertThatThrownBy(() -> logging.addDaemon("blocked", null))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("cannot open log output " + logs.resolve("blocked.log"))
                    .hasMessageContaining("Check that the logs directory exists and is writable");
            // The others log on.
            logging.addDaemon("presence", null);
            inDaemon("presence", () -> LOG.info("still here"));
        }
        assertThat(lines(logs.resolve("presence.log")))
                .singleElement()
                .asString()
                .endsWith("- still here");
    }

    @Test
    void whenTheFileOfAllLinesCannotBeOpenedStartFailsSayingWhyAndLeavesNoThreadBehind() throws IOException {
        Files.createDirectories(logs.resolve("daemonkit.log")); // a directory where the file should be
        Set<Thread> before = Thread.getAllStackTraces().keySet();

        assertThatThrownBy(() -> LoggingSystem.start(global("console.enabled = true"), logs, true, null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("cannot open log output " + logs.resolve("daemonkit.log"));

        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(
                        t -> !before.contains(t) && t.isAlive() && t.getName().startsWith("daemonkit-log-"));
        // and the next start works
        try (LoggingSystem logging = LoggingSystem.start(global("file.enabled = false"), logs, false, null)) {
            logging.addDaemon("presence", null);
        }
    }

    @Test
    void aDaemonCannotTakeTheFileOfAllLines() {
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
            assertThatThrownBy(() -> logging.addDaemon("daemonkit", null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("daemon 'daemonkit' would write logs/daemonkit.log, the file that holds every line."
                            + " Rename the daemon, or set daemonkit.logging.file.name to another name.");
            assertThatThrownBy(() -> logging.addDaemon("../etc", null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("cannot name a log file");
        }
    }
}
