package dev.daemonkit.logging;

import static dev.daemonkit.logging.TestLogs.global;
import static dev.daemonkit.logging.TestLogs.inDaemon;
import static dev.daemonkit.logging.TestLogs.lines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class RuntimeLevelChangeTest {

    private static final Logger LOG = LoggerFactory.getLogger("com.example.cache.Store");

    @TempDir
    Path logs;

    @Test
    void oneDaemonGoesToTraceWhileTheOthersStayAtInfoAndTheChangeIsLogged() {
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
            logging.addDaemon("cache", null);
            logging.addDaemon("echo", null);
            inDaemon("cache", () -> LOG.trace("trace before the change"));

            logging.setLevel("cache", null, "TRACE");
            inDaemon("cache", () -> LOG.trace("trace after the change"));
            inDaemon("echo", () -> LOG.debug("debug in echo"));

            logging.setLevel("cache", null, "inherit");
            inDaemon("cache", () -> LOG.debug("debug after inherit"));
        }

        assertThat(String.join("\n", lines(logs.resolve("cache.log"))))
                .contains("trace after the change")
                .doesNotContain("trace before the change", "debug after inherit");
        assertThat(lines(logs.resolve("echo.log"))).isEmpty();
        assertThat(String.join("\n", lines(logs.resolve("daemonkit.log"))))
                .contains("log level changed: daemon 'cache' level inherit -> TRACE")
                .contains("log level changed: daemon 'cache' level TRACE -> inherit");
    }

    @Test
    void globalAndPerLoggerChangesTakeEffect() {
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
            logging.addDaemon("cache", null);
            assertThat(LOG.isDebugEnabled()).isFalse();
            logging.setLevel(null, "com.example", "DEBUG");
            assertThat(LOG.isDebugEnabled()).isTrue();
            logging.setLevel(null, null, "ERROR");
            assertThat(LoggerFactory.getLogger("other").isWarnEnabled()).isFalse();

            logging.setLevel("cache", "com.example.cache", "OFF");
            inDaemon("cache", () -> assertThat(LOG.isErrorEnabled()).isFalse());
            assertThat(LOG.isErrorEnabled()).as("outside the daemon").isTrue();
        }
    }

    @Test
    void aBadLevelOrAnUnknownDaemonIsRefusedWithAMessageSayingWhatToDo() {
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
            logging.addDaemon("cache", null);
            assertThatThrownBy(() -> logging.setLevel("cache", "com.example", "LOUD"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("\"LOUD\" is not a log level (setting the daemon 'cache' logger 'com.example')."
                            + " Use TRACE, DEBUG, INFO, WARN, ERROR or OFF, or inherit to remove the override.");
            assertThatThrownBy(() -> logging.setLevel("cahce", null, "DEBUG"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("no daemon 'cahce' is known to logging (known: [cache]). Levels of a daemon can be"
                            + " set once it is added.");
            assertThatThrownBy(() -> logging.setLevel(null, null, "inherit"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("the global level cannot inherit");
        }
    }
}
