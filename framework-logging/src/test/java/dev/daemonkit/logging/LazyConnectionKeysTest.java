package dev.daemonkit.logging;

import static dev.daemonkit.logging.TestLogs.block;
import static dev.daemonkit.logging.TestLogs.global;
import static dev.daemonkit.logging.TestLogs.inDaemon;
import static dev.daemonkit.logging.TestLogs.lines;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The connection's keys as the core gives them (lazy keys): Daemonkit's own outputs take them with
 * each line and never put them in the MDC; the files show the same lines as when they were in the MDC.
 */
class LazyConnectionKeysTest {

    private static final Logger LOG = LoggerFactory.getLogger("com.example.echo.EchoHandler");

    @TempDir
    Path logs;

    /** The connection in force on the test's thread, as the core's scope would say. */
    private volatile String conn;

    private volatile int fills;

    @BeforeEach
    void connectionKeysAreLazy() {
        LogContext.fillLazily(new LogContext.LazyKeys() {
            @Override
            public void fill() {
                fills++;
                MDC.put(LogContext.CONNECTION, conn);
            }

            @Override
            public String value(String key) {
                return key.equals(LogContext.CONNECTION)
                        ? conn
                        : conn == null ? null : "127.0.0.1:" + (50000 + conn.length());
            }
        });
    }

    @AfterEach
    void noLazyKeys() {
        LogContext.fillLazily(null);
    }

    @Test
    void linesCarryTheConnectionInTextAndJsonWithoutAnyMdcWrite() {
        try (LoggingSystem logging = LoggingSystem.start(global("file.format = json"), logs, false, null)) {
            logging.addDaemon("echo", block(""));
            inDaemon("echo", () -> {
                conn = "17";
                LOG.info("client said {}", "hello");
                assertThat(MDC.get(LogContext.CONNECTION))
                        .as("not put in the MDC")
                        .isNull();
                conn = null;
                LOG.info("a line of the daemon itself, {} connection", "no");
            });
        }

        assertThat(fills).isZero();
        assertThat(lines(logs.resolve("echo.log")))
                .hasSize(2)
                .satisfies(l -> assertThat(l.get(0))
                        .matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[[^]]+\\] \\[echo conn=17"
                                + " peer=127.0.0.1:50002\\] com\\.example\\.echo\\.EchoHandler - client said hello"))
                .satisfies(l ->
                        assertThat(l.get(1)).contains(" [echo] com.example.echo.EchoHandler - a line of the daemon"));
        List<String> json = lines(logs.resolve("daemonkit.log"));
        assertThat(json)
                .anySatisfy(l -> assertThat(l)
                        .contains("\"daemon\":\"echo\",\"conn\":\"17\",\"peer\":\"127.0.0.1:50002\"")
                        .contains("\"message\":\"client said hello\""));
    }

    @Test
    void faultAnArgumentWhoseToStringThrowsCostsOnlyItsOwnTextAndNoOtherLine() {
        Object hostile = new Object() {
            @Override
            public String toString() {
                throw new IllegalStateException("toString failed");
            }
        };
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, null)) {
            logging.addDaemon("echo", block(""));
            inDaemon("echo", () -> {
                conn = "5";
                for (int i = 0; i < 100; i++) {
                    LOG.info("line {} of {}", i, i == 50 ? hostile : "100");
                }
            });
        }

        List<String> echo = lines(logs.resolve("echo.log"));
        assertThat(echo).hasSize(100);
        assertThat(echo.get(50)).endsWith("line 50 of [FAILED toString()]");
        assertThat(echo.get(99))
                .endsWith("[echo conn=5 peer=127.0.0.1:50001] com.example.echo.EchoHandler - line 99 of 100");
    }

    @Test
    void underAUsersLogbackXmlTheKeysArePutInTheMdcForItsPatterns() throws Exception {
        Path config = logs.resolve("conf");
        java.nio.file.Files.createDirectories(config);
        java.nio.file.Files.writeString(
                config.resolve("logback.xml"),
                "<configuration><appender name=\"F\" class=\"ch.qos.logback.core.FileAppender\"><file>"
                        + logs.resolve("mine.log")
                        + "</file><encoder><pattern>%X{daemon} %X{conn} %X{peer} %msg%n</pattern></encoder></appender>"
                        + "<root level=\"INFO\"><appender-ref ref=\"F\"/></root></configuration>");
        try (LoggingSystem logging = LoggingSystem.start(global(""), logs, false, config)) {
            inDaemon("echo", () -> {
                conn = "9";
                LOG.info("through the user's file");
                MDC.remove(LogContext.CONNECTION);
            });
        }

        assertThat(fills).isPositive();
        assertThat(lines(logs.resolve("mine.log"))).contains("echo 9  through the user's file");
    }
}
