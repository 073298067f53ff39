package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every code fence in README.md and docs/ is closed. A line such as {@code ``` The config is} opens a block (text
 * after the backticks is an info string) but never closes one, so everything after it renders as code.
 */
class DocFencesTest {

    static List<String> unclosedFences(Path file) throws IOException {
        List<String> problems = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        int openedAt = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (!line.startsWith("```")) {
                continue;
            }
            if (openedAt == 0) {
                openedAt = i + 1;
            } else if (line.matches("`{3,}")) {
                openedAt = 0;
            } else {
                problems.add(file + ":" + (i + 1) + ": '" + line + "' inside the block opened at line " + openedAt
                        + " does not close it (text after ```)");
            }
        }
        if (openedAt != 0) {
            problems.add(file + ":" + openedAt + ": code block never closed");
        }
        return problems;
    }

    @Test
    void everyCodeBlockInTheReadmeAndTheDocsIsClosed() throws IOException {
        Path root = Path.of(System.getProperty("daemonkit.readme", "../README.md"))
                .toAbsolutePath()
                .getParent();
        List<Path> files = new ArrayList<>(List.of(root.resolve("README.md")));
        try (Stream<Path> docs = Files.walk(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        assertThat(files).hasSizeGreaterThan(5);
        List<String> problems = new ArrayList<>();
        for (Path file : files) {
            problems.addAll(unclosedFences(file));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void aFenceWithTextAfterItDoesNotClose(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        Path md = tmp.resolve("x.md");
        Files.writeString(md, "```sh\nls\n``` The config is\nmore\n");
        assertThat(unclosedFences(md)).hasSize(2);
    }
}
