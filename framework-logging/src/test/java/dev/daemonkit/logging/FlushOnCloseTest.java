package dev.daemonkit.logging;

import static dev.daemonkit.logging.TestLogs.global;
import static dev.daemonkit.logging.TestLogs.inDaemon;
import static dev.daemonkit.logging.TestLogs.lines;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class FlushOnCloseTest {

    private static final Logger LOG = LoggerFactory.getLogger("com.example.Worker");
    private static final int LINES = 20_000;

    @TempDir
    Path logs;

    @Test
    void theLastLinesBeforeCloseAreInTheFiles() {
        // Queue big enough that nothing is dropped: every line must be written by close().
        try (LoggingSystem logging = LoggingSystem.start(global("async.queue-size = 32768"), logs, false, null)) {
            logging.addDaemon("worker", null);
            inDaemon("worker", () -> {
                for (int i = 0; i < LINES; i++) {
                    LOG.info("line {}", i);
                }
                LOG.warn("last line before exit");
            });
            assertThat(logging.droppedEvents()).isZero();
        }

        assertThat(lines(logs.resolve("worker.log")))
                .hasSize(LINES + 1)
                .last()
                .asString()
                .endsWith("last line before exit");
        assertThat(lines(logs.resolve("daemonkit.log"))).last().asString().endsWith("last line before exit");
    }

    @Test
    void startingAgainAfterCloseWorks() {
        for (int round = 0; round < 3; round++) {
            int r = round;
            try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
                logging.addDaemon("worker", null);
                inDaemon("worker", () -> LOG.info("round {}", r));
            }
        }
        assertThat(lines(logs.resolve("worker.log")))
                .hasSize(3)
                .last()
                .asString()
                .endsWith("round 2");
    }
}
