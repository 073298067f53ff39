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

class PerDaemonRoutingTest {

    // Both daemons log through the same logger name, as two instances of one plugin do.
    private static final Logger LOG = LoggerFactory.getLogger("com.example.echo.EchoHandler");

    @TempDir
    Path logs;

    @Test
    void eachDaemonsLinesGoToItsOwnFileAndAllLinesToDaemonkitLog() {
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
            logging.addDaemon("echo-a", null);
            logging.addDaemon("echo-b", null);
            inDaemon("echo-a", () -> LOG.info("line from a"));
            inDaemon("echo-b", () -> LOG.info("line from b"));
            LOG.info("line from the framework");
        }

        assertThat(lines(logs.resolve("echo-a.log"))).singleElement().asString().contains("line from a");
        assertThat(lines(logs.resolve("echo-b.log"))).singleElement().asString().contains("line from b");
        assertThat(String.join("\n", lines(logs.resolve("daemonkit.log"))))
                .contains("[echo-a] com.example.echo.EchoHandler - line from a")
                .contains("[echo-b] com.example.echo.EchoHandler - line from b")
                .contains("line from the framework");
    }

    @Test
    void addingADaemonTwiceKeepsOneFileAndRemovingItClosesTheFile() {
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
            logging.addDaemon("cache", null);
            logging.addDaemon("cache", null);
            inDaemon("cache", () -> LOG.info("before removal"));
            logging.removeDaemon("cache");
            // removeDaemon has written and closed the file: its content is final now, before close().
            assertThat(lines(logs.resolve("cache.log")))
                    .singleElement()
                    .asString()
                    .contains("before removal");
            inDaemon("cache", () -> LOG.info("after removal"));
        }

        assertThat(lines(logs.resolve("cache.log"))).singleElement().asString().contains("before removal");
        assertThat(String.join("\n", lines(logs.resolve("daemonkit.log")))).contains("after removal");
    }

    @Test
    void aDaemonWithItsFileDisabledStillLogsToDaemonkitLog() {
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
            logging.addDaemon("quiet", TestLogs.block("file.enabled = false"));
            inDaemon("quiet", () -> LOG.info("only in the main file"));
        }

        assertThat(logs.resolve("quiet.log")).doesNotExist();
        assertThat(String.join("\n", lines(logs.resolve("daemonkit.log")))).contains("only in the main file");
    }
}
