package dev.daemonkit.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Operator-facing messages of a bad config, pinned: they must name the key, the file and line, and a fix. */
class ConfigErrorsTest {

    @TempDir
    Path logs;

    @Test
    void aBadGlobalLevelNamesTheKeyAndTheFileAndLine() {
        Config config = parse("daemonkit.conf", "daemonkit.logging {\n  level = LOUD\n}")
                .getConfig("daemonkit.logging");

        assertThatThrownBy(() -> LoggingSystem.start(config, logs, false, null))
                .isInstanceOf(ConfigException.BadValue.class)
                .hasMessage(
                        "daemonkit.conf: 2: Invalid value at 'daemonkit.logging.level': \"LOUD\" is not a log level."
                                + " Use TRACE, DEBUG, INFO, WARN, ERROR or OFF.");
    }

    @Test
    void aBadDaemonLoggerLevelNamesTheDaemonsKey() {
        Config daemons =
                parse("daemonkit.conf", "daemons.echo.logging {\n  loggers {\n    \"io.netty\" = chatty\n  }\n}");
        try (LoggingSystem logging = LoggingSystem.start(TestLogs.global(""), logs, false, null)) {
            assertThatThrownBy(() -> logging.addDaemon("echo", daemons.getConfig("daemons.echo.logging")))
                    .isInstanceOf(ConfigException.BadValue.class)
                    .hasMessage("daemonkit.conf: 3: Invalid value at 'daemons.echo.logging.loggers.\"io.netty\"':"
                            + " \"chatty\" is not a log level. Use TRACE, DEBUG, INFO, WARN, ERROR or OFF"
                            + " (quote logger names that contain dots: \"io.netty\" = WARN).");
        }
    }

    @Test
    void aSizeCapBelowTheFileSizeIsRefusedNamingBothKeys() {
        Config daemons = parse(
                "daemonkit.conf",
                "daemons.echo.logging.rolling {\n  max-file-size = 10 MiB\n  total-size-cap = 1 MiB\n}");
        try (LoggingSystem logging = LoggingSystem.start(TestLogs.global(""), logs, false, null)) {
            assertThatThrownBy(() -> logging.addDaemon("echo", daemons.getConfig("daemons.echo.logging")))
                    .isInstanceOf(ConfigException.BadValue.class)
                    .hasMessage("daemonkit.conf: 3: Invalid value at 'daemons.echo.logging.rolling.total-size-cap':"
                            + " is smaller than daemons.echo.logging.rolling.max-file-size, so no rolled file could"
                            + " be kept. Raise it, e.g. to 50 times max-file-size.");
        }
    }

    @Test
    void anUnknownCompressionIsRefusedNamingTheKeyAndTheChoices() {
        Config daemons = parse("daemonkit.conf", "daemons.echo.logging.rolling {\n  compression = lz77\n}");
        try (LoggingSystem logging = LoggingSystem.start(TestLogs.global(""), logs, false, null)) {
            assertThatThrownBy(() -> logging.addDaemon("echo", daemons.getConfig("daemons.echo.logging")))
                    .isInstanceOf(ConfigException.BadValue.class)
                    .hasMessage("daemonkit.conf: 2: Invalid value at 'daemons.echo.logging.rolling.compression':"
                            + " \"lz77\" is not a compression. Use zstd, gzip or none.");
        }
    }

    @Test
    void theReferenceHoldsExactlyTheTwoDocumentedBlocksAndItsDefaultsAreValid() {
        Config reference = ConfigFactory.defaultReference();
        assertThat(reference.getConfig("daemonkit").root().keySet())
                .containsExactlyInAnyOrder("logging", "daemon-defaults");
        // Starting from the reference alone must work: every default is valid.
        try (LoggingSystem logging = LoggingSystem.start(
                reference
                        .getConfig("daemonkit.logging")
                        .withValue(
                                "console.enabled",
                                ConfigFactory.parseString("x = false").getValue("x")),
                logs,
                false,
                null)) {
            logging.addDaemon("echo", reference.getConfig("daemonkit.daemon-defaults.logging"));
        }
    }

    private static Config parse(String origin, String text) {
        return ConfigFactory.parseString(text, ConfigParseOptions.defaults().setOriginDescription(origin));
    }
}
