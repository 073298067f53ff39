package dev.daemonkit.logging;

import static dev.daemonkit.logging.TestLogs.block;
import static dev.daemonkit.logging.TestLogs.global;
import static dev.daemonkit.logging.TestLogs.inConnection;
import static dev.daemonkit.logging.TestLogs.lines;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class JsonLinesTest {

    private static final Logger LOG = LoggerFactory.getLogger("com.example.echo.EchoHandler");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path logs;

    @Test
    void everyLineIsOneJsonObjectCarryingTheConnectionContext() {
        try (LoggingSystem logging = LoggingSystem.start(global("file.format = json"), logs, false, null)) {
            logging.addDaemon("echo", block("file.format = json"));
            inConnection("echo", "17", "127.0.0.1:50312", () -> {
                LOG.info("echoed \"{}\"", "tab\there\nnewline");
                LOG.error("connection failed", new IllegalStateException("boom"));
            });
        }

        List<JsonNode> daemonLines = parse(logs.resolve("echo.log"));
        assertThat(daemonLines).hasSize(2);
        JsonNode info = daemonLines.get(0);
        assertThat(info.get("timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(info.get("level").asText()).isEqualTo("INFO");
        assertThat(info.get("daemon").asText()).isEqualTo("echo");
        assertThat(info.get("conn").asText()).isEqualTo("17");
        assertThat(info.get("peer").asText()).isEqualTo("127.0.0.1:50312");
        assertThat(info.get("logger").asText()).isEqualTo("com.example.echo.EchoHandler");
        assertThat(info.get("thread").asText()).isEqualTo(Thread.currentThread().getName());
        assertThat(info.get("message").asText()).isEqualTo("echoed \"tab\there\nnewline\"");
        assertThat(info.has("exception")).isFalse();

        JsonNode error = daemonLines.get(1);
        assertThat(error.get("level").asText()).isEqualTo("ERROR");
        assertThat(error.get("exception").asText())
                .startsWith("java.lang.IllegalStateException: boom")
                .contains("at dev.daemonkit.logging.JsonLinesTest");

        // daemonkit.log holds the same two lines plus the framework's own, all valid JSON.
        List<JsonNode> allLines = parse(logs.resolve("daemonkit.log"));
        assertThat(allLines)
                .filteredOn(n -> "echo".equals(n.path("daemon").asText()))
                .hasSize(2);
        assertThat(allLines).filteredOn(n -> !n.has("daemon")).isNotEmpty();
    }

    @Test
    void formatsAreChosenPerOutput() {
        try (LoggingSystem logging = LoggingSystem.start(global("file.format = text"), logs, false, null)) {
            logging.addDaemon("echo", block("file.format = json"));
            inConnection("echo", "3", null, () -> LOG.info("hello"));
        }

        assertThat(parse(logs.resolve("echo.log")))
                .singleElement()
                .satisfies(n -> assertThat(n.get("conn").asText()).isEqualTo("3"))
                .satisfies(n -> assertThat(n.has("peer")).isFalse());
        assertThat(String.join("\n", lines(logs.resolve("daemonkit.log"))))
                .contains("[echo conn=3] com.example.echo.EchoHandler - hello");
    }

    private static List<JsonNode> parse(Path file) {
        return lines(file).stream()
                .map(line -> {
                    try {
                        return JSON.readTree(line);
                    } catch (IOException e) {
                        throw new UncheckedIOException("not one JSON object: " + line, e);
                    }
                })
                .toList();
    }
}
