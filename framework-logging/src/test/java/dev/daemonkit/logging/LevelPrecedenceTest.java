package dev.daemonkit.logging;

import static dev.daemonkit.logging.TestLogs.block;
import static dev.daemonkit.logging.TestLogs.global;
import static dev.daemonkit.logging.TestLogs.inDaemon;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Precedence: per-logger in daemon > daemon level > global per-logger > global level. Checked through
 * isXEnabled(), which goes through the same decision as the logging calls.
 */
class LevelPrecedenceTest {

    private static final Logger PLAIN = LoggerFactory.getLogger("com.example.Plain");
    private static final Logger NETTY = LoggerFactory.getLogger("io.netty.channel.Pipeline");
    private static final Logger CHATTY = LoggerFactory.getLogger("com.example.chatty.Handler");

    @TempDir
    Path logs;

    private LoggingSystem logging;

    @BeforeEach
    void start() {
        logging = LoggingSystem.start(global("""
                level = INFO
                loggers { "io.netty" = WARN, "com.example.chatty" = DEBUG }
                """), logs, false, null);
        logging.addDaemon("inherits", null);
        logging.addDaemon("verbose", block("level = DEBUG"));
        logging.addDaemon("mixed", block("""
                level = ERROR
                loggers { "com.example.chatty" = TRACE, io.netty.channel = INFO }
                """));
    }

    @AfterEach
    void close() {
        logging.close();
    }

    @Test
    void outsideAnyDaemonTheGlobalLevelsApply() {
        assertThat(PLAIN.isInfoEnabled()).isTrue();
        assertThat(PLAIN.isDebugEnabled()).isFalse();
        assertThat(NETTY.isInfoEnabled())
                .as("global per-logger beats global level")
                .isFalse();
        assertThat(CHATTY.isDebugEnabled()).isTrue();
    }

    @Test
    void aDaemonWithoutLevelsInheritsTheGlobalLevels() {
        assertThat(in("inherits", PLAIN, Logger::isInfoEnabled)).isTrue();
        assertThat(in("inherits", PLAIN, Logger::isDebugEnabled)).isFalse();
        assertThat(in("inherits", NETTY, Logger::isInfoEnabled)).isFalse();
        assertThat(in("inherits", CHATTY, Logger::isDebugEnabled)).isTrue();
    }

    @Test
    void aDaemonLevelBeatsTheGlobalLevelAndTheGlobalPerLoggerLevels() {
        assertThat(in("verbose", PLAIN, Logger::isDebugEnabled)).isTrue();
        assertThat(in("verbose", NETTY, Logger::isDebugEnabled)).isTrue();
        assertThat(in("verbose", PLAIN, Logger::isTraceEnabled)).isFalse();
    }

    @Test
    void aPerLoggerLevelInADaemonBeatsTheDaemonLevel() {
        assertThat(in("mixed", PLAIN, Logger::isWarnEnabled))
                .as("daemon level ERROR")
                .isFalse();
        assertThat(in("mixed", PLAIN, Logger::isErrorEnabled)).isTrue();
        assertThat(in("mixed", CHATTY, Logger::isTraceEnabled))
                .as("daemon per-logger TRACE")
                .isTrue();
        assertThat(in("mixed", NETTY, Logger::isInfoEnabled))
                .as("io.netty.channel written as a path")
                .isTrue();
        assertThat(in("mixed", NETTY, Logger::isDebugEnabled)).isFalse();
    }

    @Test
    void levelsOfOneDaemonDoNotLeakIntoAnotherWithTheSameLoggerNames() {
        assertThat(in("verbose", PLAIN, Logger::isDebugEnabled)).isTrue();
        assertThat(in("inherits", PLAIN, Logger::isDebugEnabled)).isFalse();
        assertThat(in("an-unknown-daemon", PLAIN, Logger::isDebugEnabled)).isFalse();
    }

    @Test
    void linesFollowTheSameDecisionAsTheChecks() {
        inDaemon("verbose", () -> PLAIN.debug("debug in verbose"));
        inDaemon("inherits", () -> PLAIN.debug("debug in inherits"));
        logging.close();

        String all = String.join("\n", TestLogs.lines(logs.resolve("daemonkit.log")));
        assertThat(all).contains("debug in verbose").doesNotContain("debug in inherits");
    }

    private static boolean in(String daemon, Logger logger, Predicate<Logger> check) {
        AtomicReference<Boolean> result = new AtomicReference<>();
        inDaemon(daemon, () -> result.set(check.test(logger)));
        return result.get();
    }
}
