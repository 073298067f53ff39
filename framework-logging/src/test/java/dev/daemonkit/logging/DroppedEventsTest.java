package dev.daemonkit.logging;

import static dev.daemonkit.logging.TestLogs.global;
import static dev.daemonkit.logging.TestLogs.lines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** End to end: a console that stops reading, as a terminal paused with Ctrl-S or a full pipe does. */
class DroppedEventsTest {

    private static final Logger LOG = LoggerFactory.getLogger("com.example.Flood");

    @TempDir
    Path logs;

    @Test
    void aStalledConsoleDropsAndCountsInfoButLosesNoWarnOrError() throws Exception {
        StalledStream console = new StalledStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
        int infos = 2_000;
        int problems = 100;
        long dropped;
        LoggingSystem logging = LoggingSystem.start(global("""
                console { enabled = true, format = text }
                async.queue-size = 64
                repeats.limit = 0
                """), logs, false, null);
        try {
            Thread producer = new Thread(
                    () -> {
                        for (int i = 0; i < infos; i++) {
                            LOG.info("info {}", i);
                        }
                        for (int i = 0; i < problems; i++) {
                            LOG.warn("problem {}", i);
                        }
                    },
                    "producer");
            producer.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> logging.droppedEvents() > 0);
            console.release.countDown();
            producer.join(10_000);
            assertThat(producer.isAlive()).isFalse();
            logging.close();
            dropped = logging.droppedEvents();
        } finally {
            logging.close();
            System.setOut(original);
        }

        List<String> consoleLines = Arrays.asList(console.text().split("\n"));
        List<String> fileLines = lines(logs.resolve("daemonkit.log"));
        long consoleInfos =
                consoleLines.stream().filter(l -> l.contains(" - info ")).count();
        long fileInfos = fileLines.stream().filter(l -> l.contains(" - info ")).count();
        assertThat(consoleInfos).isLessThan(infos);
        assertThat((infos - consoleInfos) + (infos - fileInfos))
                .as("every missing INFO line is counted")
                .isEqualTo(dropped);
        assertThat(consoleLines).filteredOn(l -> l.contains(" - problem ")).hasSize(problems);
        assertThat(fileLines).filteredOn(l -> l.contains(" - problem ")).hasSize(problems);
        assertThat(consoleLines).anyMatch(l -> l.contains("logging fell behind: dropped"));
    }

    @Test
    void whenEveryOutputIsSaturatedInfoIsRefusedBeforeItIsBuiltAndStillCounted() throws Exception {
        StalledStream console = new StalledStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
        int infos = 5_000;
        long dropped;
        LoggingSystem logging = LoggingSystem.start(global("""
                console { enabled = true, format = text }
                file.enabled = false
                async.queue-size = 64
                repeats.limit = 0
                """), logs, false, null);
        // Sees every event Logback builds: refused lines never get here.
        var built = new ListAppender<ILoggingEvent>();
        var root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        built.setContext(root.getLoggerContext());
        built.start();
        root.addAppender(built);
        try {
            Thread producer = new Thread(
                    () -> {
                        for (int i = 0; i < infos; i++) {
                            LOG.info("info {}", i);
                        }
                        LOG.warn("the last word");
                    },
                    "producer");
            producer.start();
            producer.join(10_000); // never blocked: INFO is refused, the WARN fits in the reserve
            assertThat(producer.isAlive()).isFalse();
            console.release.countDown();
            logging.close();
            dropped = logging.droppedEvents();
        } finally {
            logging.close();
            System.setOut(original);
        }
        List<String> consoleLines = Arrays.asList(console.text().split("\n"));
        long consoleInfos =
                consoleLines.stream().filter(l -> l.contains(" - info ")).count();
        assertThat(infos - consoleInfos)
                .as("every missing INFO line is counted")
                .isEqualTo(dropped);
        assertThat(dropped).isGreaterThan(infos / 2);
        assertThat(built.list.stream()
                        .filter(e -> e.getMessage().equals("info {}"))
                        .count())
                .as("INFO events built")
                .isLessThan(infos - dropped / 2);
        assertThat(consoleLines).anyMatch(l -> l.contains(" - the last word"));
    }

    /** Blocks every write until released, then collects the bytes. */
    @Test
    void userEveryLineLoggedBeforeAwaitWrittenIsInTheFileWhenItReturns() throws Exception {
        LoggingSystem logging = LoggingSystem.start(global("""
                async.queue-size = 16384
                repeats.limit = 0
                """), logs, false, null);
        try {
            for (int i = 0; i < 2_000; i++) {
                LOG.info("line {}", i);
            }
            assertThat(logging.awaitWritten(Duration.ofSeconds(10))).isTrue();
            // Read at once, no polling: the lines are written and flushed when awaitWritten returns.
            List<String> written = lines(logs.resolve("daemonkit.log")).stream()
                    .filter(l -> l.contains(" - line "))
                    .toList();
            assertThat(written).hasSize(2_000);
            assertThat(written.get(written.size() - 1)).endsWith(" - line 1999");
            assertThat(logging.droppedEvents()).isZero();
        } finally {
            logging.close();
        }
    }

    @Test
    void faultAStalledConsoleMakesAwaitWrittenGiveUpAtItsTimeoutThenSucceedOnceItMoves() throws Exception {
        StalledStream console = new StalledStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
        LoggingSystem logging = LoggingSystem.start(global("""
                console { enabled = true, format = text }
                repeats.limit = 0
                """), logs, false, null);
        try {
            LOG.warn("held by the console");
            // The console's writer hangs on that line: the marker behind it is not reached in time.
            assertThat(logging.awaitWritten(Duration.ofMillis(200))).isFalse();
            console.release.countDown();
            assertThat(logging.awaitWritten(Duration.ofSeconds(10))).isTrue();
            assertThat(console.text()).contains(" - held by the console");
        } finally {
            console.release.countDown();
            logging.close();
            System.setOut(original);
        }
    }

    private static final class StalledStream extends OutputStream {
        final CountDownLatch release = new CountDownLatch(1);
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (bytes) {
                bytes.write(b, off, len);
            }
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
