package dev.daemonkit.logging.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file sink whose disk fails for a while: what is lost is counted as lost, not as dropped. */
class SinkTest {

    @TempDir
    Path temp;

    private final LoggerContext context = new LoggerContext();
    private final AtomicLong clock = new AtomicLong(1_800_000_000_000L);
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final RollingFile.Archiver archiver = new RollingFile.Archiver(errors::add);

    @AfterEach
    void closeArchiver() {
        archiver.close();
    }

    @Test
    void linesAFailingFileLosesAreCountedAsLostWhateverTheirLevelAndRecoveryIsReported() throws IOException {
        Path logs = temp.resolve("logs");
        Files.createDirectories(logs);
        PatternLayout layout = new PatternLayout();
        layout.setContext(context);
        layout.setPattern("%level %msg%n");
        layout.start();
        RollingFile file = new RollingFile(
                logs,
                "echo.log",
                new RollingSettings(40, 30, 1L << 30, Compression.GZIP),
                archiver,
                clock::get,
                ZoneOffset.UTC);
        Sink sink = Sink.file("echo", file, OutputFormat.TEXT, errors::add, Map.of());
        LineFormats formats = new LineFormats(layout, "%level %msg%n", layout);
        sink.start();

        write(sink, formats, Level.INFO, "before the disk failed");
        // The directory goes away: the next write rolls (the file is full), and cannot reopen the file.
        Files.delete(logs.resolve("echo.log"));
        Files.delete(logs);
        write(sink, formats, Level.ERROR, "an error nobody will read");
        write(sink, formats, Level.WARN, "a warning nobody will read");
        assertThat(errors)
                .singleElement()
                .asString()
                .startsWith("cannot write " + logs.resolve("echo.log"))
                .contains("Check the disk");

        Files.createDirectories(logs);
        clock.addAndGet(1_001); // failing files are tried again each second
        write(sink, formats, Level.INFO, "after");

        assertThat(errors)
                .hasSize(2)
                .last()
                .asString()
                .isEqualTo("writing " + logs.resolve("echo.log") + " works again; 2 lines were lost meanwhile");
        assertThat(sink.lost()).isEqualTo(2);
        assertThat(sink.dropped()).isZero(); // "dropped" means TRACE/DEBUG/INFO shed under load
        assertThat(Files.readString(logs.resolve("echo.log"))).isEqualTo("INFO after\n");
        sink.stop();
    }

    private void write(Sink sink, LineFormats formats, Level level, String message) {
        LoggingEvent event =
                new LoggingEvent(getClass().getName(), context.getLogger("test"), level, message, null, null);
        event.setMDCPropertyMap(Map.of());
        sink.write(event, formats);
        sink.flush();
    }
}
