package dev.daemonkit.samples.echo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The test that docs/plugin-guide.md shows under "Testing a plugin" is {@link EchoPluginTest}, word for word: so
 * the guide's code compiles and passes in every build.
 */
class PluginGuideTestBlockTest {

    @Test
    void theGuidesTestIsEchoPluginTestAsItIs() throws IOException {
        String guide = Files.readString(Path.of(System.getProperty("daemonkit.guide", "../../docs/plugin-guide.md")));
        int section = guide.indexOf("\n## Testing a plugin\n");
        assertThat(section).as("the guide's testing section").isPositive();
        String marker = "```java\n";
        int start = guide.indexOf(marker, section) + marker.length();
        int end = guide.indexOf("```\n", start);
        String block = guide.substring(start, end);

        String test = Files.readString(Path.of("src/test/java/dev/daemonkit/samples/echo/EchoPluginTest.java"));
        assertThat(block).isEqualTo(test);
    }
}
