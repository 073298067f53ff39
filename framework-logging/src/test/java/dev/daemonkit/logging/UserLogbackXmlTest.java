package dev.daemonkit.logging;

import static dev.daemonkit.logging.TestLogs.global;
import static dev.daemonkit.logging.TestLogs.inDaemon;
import static dev.daemonkit.logging.TestLogs.lines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class UserLogbackXmlTest {

    private static final Logger LOG = LoggerFactory.getLogger("com.example.Service");

    @TempDir
    Path configDir;

    @TempDir
    Path logs;

    @Test
    void aLogbackXmlInTheConfigDirWinsAndDaemonLevelsStillApply() throws IOException {
        Path custom = logs.resolve("custom.log");
        Files.writeString(configDir.resolve("logback.xml"), """
                <configuration>
                  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
                    <file>%s</file>
                    <encoder><pattern>CUSTOM %%level %%X{daemon} %%msg%%n</pattern></encoder>
                  </appender>
                  <root level="WARN"><appender-ref ref="FILE"/></root>
                </configuration>
                """.formatted(custom));

        try (LoggingSystem logging = LoggingSystem.start(global("level = TRACE"), logs, true, configDir)) {
            logging.addDaemon("echo", TestLogs.block("level = DEBUG"));
            LOG.info("info outside: the user's WARN root wins over level = TRACE");
            LOG.warn("warn outside");
            inDaemon("echo", () -> LOG.debug("debug in echo"));
            logging.setLevel(null, "com.example", "INFO");
            LOG.info("info after setLevel");
        }

        assertThat(lines(custom))
                .containsExactly(
                        "CUSTOM WARN  warn outside",
                        "CUSTOM DEBUG echo debug in echo",
                        "CUSTOM INFO  info after setLevel");
        assertThat(logs.resolve("daemonkit.log")).doesNotExist();
        assertThat(logs.resolve("echo.log")).doesNotExist();
    }

    @Test
    void aBrokenLogbackXmlStopsStartWithAMessageNamingTheFile() throws IOException {
        Path file = configDir.resolve("logback.xml");
        Files.writeString(file, "<configuration><appender name=\"X\" class=\"no.such.Appender\"/>");

        assertThatThrownBy(() -> LoggingSystem.start(global(""), logs, false, configDir))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith(file.toString())
                .hasMessageContaining("remove it to configure logging from daemonkit.logging");
        // The failed start left nothing running: a new start works.
        LoggingSystem.start(global(""), logs, false, null).close();
    }
}
