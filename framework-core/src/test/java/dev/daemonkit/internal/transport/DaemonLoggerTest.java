package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import com.typesafe.config.ConfigFactory;
import dev.daemonkit.logging.LogContext;
import dev.daemonkit.logging.LoggingSystem;
import io.netty.channel.DefaultEventLoop;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A daemon's logger ({@code DaemonContext.log()}) writes to {@code logs/NAME.log}, with the daemon's name, from any
 * thread: a plugin's own, a Netty future listener's, another daemon's. Real files, through the logging system.
 */
class DaemonLoggerTest {
    @TempDir
    Path logs;

    private LoggingSystem logging;
    private final LogScope alphaScope = LogScope.of("alpha");
    private final LogScope betaScope = LogScope.of("beta");
    private final LogScope betaConnection = LogScope.of("beta", "7", "127.0.0.7:4007");
    private Logger alpha;
    private Logger beta;

    @BeforeEach
    void start() {
        logging = LoggingSystem.start(ConfigFactory.parseString("console.enabled = false"), logs, false, null);
        logging.addDaemon("alpha", null);
        logging.addDaemon("beta", null);
        alpha = new DaemonLogger(LoggerFactory.getLogger("daemon.alpha"), alphaScope);
        beta = new DaemonLogger(LoggerFactory.getLogger("daemon.beta"), betaScope);
    }

    @AfterEach
    void restoreTheTestsLogging() throws Exception {
        if (logging != null) {
            logging.close();
        }
        LogScope.clear();
        // The logging system owned Logback: give the other tests of this JVM their logback-test.xml back.
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        new ContextInitializer(context).autoConfig();
    }

    private String file(String daemon) throws Exception {
        logging.close(); // flushes every file
        logging = null;
        Path f = logs.resolve(daemon + ".log");
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }

    @Test
    void aLineFromThePluginsOwnThreadAndFromANettyListenerReachesTheDaemonsFileWithItsName() throws Exception {
        Thread own = new Thread(() -> alpha.info("from the plugin's own thread"), "plugin-worker");
        own.start();
        own.join(10_000);
        DefaultEventLoop loop = new DefaultEventLoop();
        try {
            CountDownLatch logged = new CountDownLatch(1);
            loop.submit(() -> {}).addListener(f -> {
                alpha.warn("from a future listener on an event loop");
                logged.countDown();
            });
            assertThat(logged.await(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }

        String lines = file("alpha");
        assertThat(lines).contains("from the plugin's own thread").contains("from a future listener on an event loop");
        assertThat(Files.readString(logs.resolve("daemonkit.log")))
                .contains("[alpha] daemon.alpha - from the plugin's own thread")
                .contains("[alpha] daemon.alpha - from a future listener on an event loop");
    }

    @Test
    void inItsOwnConnectionsScopeALineKeepsTheConnection() throws Exception {
        betaConnection.run(() -> beta.info("in a handler of connection 7"));

        assertThat(file("beta")).contains("conn=7").contains("in a handler of connection 7");
    }

    @Test
    void faultALineFromAThreadInAnotherDaemonsScopeGoesToItsOwnDaemonsFileAndTheScopeIsRestored() throws Exception {
        betaConnection.run(() -> {
            alpha.info("alpha's line while beta's connection is in force");
            // beta's context is back for what beta logs next, connection keys included.
            assertThat(MDC.get(LogContext.DAEMON)).isEqualTo("beta");
            beta.info("beta's own line after it");
        });
        assertThat(MDC.get(LogContext.DAEMON)).isNull();

        assertThat(Files.exists(logs.resolve("beta.log"))).isTrue();
        String alphas = file("alpha");
        String betas = Files.readString(logs.resolve("beta.log"));
        assertThat(alphas).contains("alpha's line while beta's connection is in force");
        assertThat(betas)
                .doesNotContain("alpha's line")
                .contains("beta's own line after it")
                .contains("conn=7");
    }

    @Test
    void faultAPlainLoggerOnAThreadWhereADaemonsLoggerWroteLandsInNoDaemonsFile() throws Exception {
        Logger plain = LoggerFactory.getLogger("com.example.Plugin");
        Thread own = new Thread(() -> {
            alpha.info("alpha's line first");
            plain.info("then a line of no daemon"); // the daemon's context must not linger on the thread
        });
        own.start();
        own.join(10_000);

        assertThat(Files.readString(logs.resolve("beta.log"), StandardCharsets.UTF_8))
                .doesNotContain("no daemon");
        assertThat(file("alpha")).contains("alpha's line first").doesNotContain("no daemon");
        assertThat(Files.readString(logs.resolve("daemonkit.log")))
                .contains("[alpha] daemon.alpha - alpha's line first")
                .contains("com.example.Plugin - then a line of no daemon")
                .doesNotContain("[alpha] com.example.Plugin");
    }

    @Test
    void inItsOwnScopeLevelsArgumentsAndAThrowableAreThoseOfAPlainLogbackLine() throws Exception {
        alphaScope.run(() -> {
            alpha.debug("below the default level: {}", "not written");
            alpha.info("one {} and two {}", "first", 2);
            alpha.warn("three {} {} {}", "a", "b", "c");
            alpha.error("with a cause {}", "x", new IllegalStateException("boom"));
        });

        assertThat(file("alpha"))
                .doesNotContain("not written")
                .contains("one first and two 2")
                .contains("three a b c")
                .contains("with a cause x")
                .contains("java.lang.IllegalStateException: boom");
    }
}
