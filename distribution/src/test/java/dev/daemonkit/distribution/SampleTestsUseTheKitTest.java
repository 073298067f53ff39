package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The samples' tests are written the way a plugin author's must be: through the public test kit
 * ({@code dev.daemonkit.testkit}) and the API, never the framework's internals, which a plugin project does not
 * see as an API and which change without notice. {@link SampleLayeringTest} checks the samples' main code; the
 * test classes are not on this module's class path, so their sources are read.
 */
class SampleTestsUseTheKitTest {
    private static final Pattern FRAMEWORK_INTERNALS =
            Pattern.compile("\\bdev\\.daemonkit\\.(internal|cli|launcher|testing)\\b");

    @Test
    void noSampleTestNamesAFrameworkInternalPackage() throws IOException {
        Path samples = Path.of(System.getProperty("daemonkit.samples", "../sample-daemons"));
        List<Path> sources;
        try (Stream<Path> files = Files.walk(samples)) {
            sources = files.filter(p -> p.toString().replace('\\', '/').contains("/src/test/"))
                    .filter(p -> p.toString().endsWith(".java"))
                    .sorted()
                    .toList();
        }
        assertThat(sources)
                .as("sample test sources under " + samples.toAbsolutePath())
                .hasSizeGreaterThan(5);
        List<String> found = new ArrayList<>();
        for (Path source : sources) {
            List<String> lines = Files.readAllLines(source);
            for (int i = 0; i < lines.size(); i++) {
                if (FRAMEWORK_INTERNALS.matcher(lines.get(i)).find()) {
                    found.add(samples.relativize(source) + ":" + (i + 1) + ": "
                            + lines.get(i).strip());
                }
            }
        }
        assertThat(found)
                .as("sample tests that name framework internals; use dev.daemonkit.testkit (docs/plugin-guide.md)")
                .isEmpty();
    }
}
