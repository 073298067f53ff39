package dev.daemonkit.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Golden files: an operator-facing text compared exactly with {@code src/test/resources/golden/NAME}.
 * When a message changes on purpose, regenerate the files and review the diff before committing:
 * {@code mvn -B -o -pl framework-core -am verify -Dtest='*GoldenTest' -Dsurefire.failIfNoSpecifiedTests=false -Dgolden.update=true}
 * (see {@code src/test/resources/golden/README.md}).
 */
public final class Golden {
    private static final Path DIR = Path.of("src/test/resources/golden");

    private Golden() {}

    /** Asserts that {@code actual} is the text of golden file {@code name} (written instead with -Dgolden.update=true). */
    public static void assertMatches(String name, String actual) {
        Path file = DIR.resolve(name);
        String text = actual.endsWith("\n") ? actual : actual + "\n";
        try {
            if (Boolean.getBoolean("golden.update")) {
                Files.createDirectories(DIR);
                Files.writeString(file, text, StandardCharsets.UTF_8);
                return;
            }
            assertThat(Files.exists(file))
                    .as("golden file " + file.toAbsolutePath()
                            + " is missing: run the test with -Dgolden.update=true to write it, then review it")
                    .isTrue();
            assertThat(text)
                    .as("the text of golden file " + file + " (regenerate with -Dgolden.update=true if the change"
                            + " is meant)")
                    .isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
