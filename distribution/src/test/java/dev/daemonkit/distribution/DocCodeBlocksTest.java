package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every code block of README.md and docs/plugin-guide.md is compiled, parsed, run by a named test, or marked with
 * the reason why not. The markers are HTML comments right above a block's opening fence:
 *
 * <ul>
 *   <li>a {@code java} block with no marker is a whole source file, compiled against the distribution's {@code lib/}
 *       (what a plugin compiles against); {@code <!-- compile: ... -->} gives a fragment its wrapper: the comment's
 *       text is a source file with {@code {{block}}} where the block goes (imports, a class around it, stubs);
 *   <li>{@code hocon} blocks are parsed with Typesafe Config, {@code xml} blocks with an XML parser (a fragment of
 *       several elements inside a wrapper element);
 *   <li>{@code <!-- walkthrough:NAME -->} and {@code <!-- five-commands -->}: the block is run by the test that reads
 *       that marker (ReadmeThroughRootScriptIT, ReadmeWalkthroughIT, FiveCommandsIT), checked here to name it;
 *       {@code <!-- archetype:pom -->}: FiveCommandsIT compares it with the pom the archetype generates;
 *   <li>{@code <!-- same as: PATH -->}: the block is that file of the repository, byte for byte;
 *   <li>{@code <!-- not run: REASON -->}, {@code <!-- not compiled: REASON -->}, {@code <!-- not code: REASON -->}.
 * </ul>
 *
 * A {@code sh} block or one without a language needs a marker: nothing is left unchecked by accident.
 */
class DocCodeBlocksTest {
    private static final Path ROOT = Path.of(System.getProperty("daemonkit.readme", "../README.md"))
            .toAbsolutePath()
            .getParent();
    private static final Path TESTS = ROOT.resolve("distribution/src/test/java/dev/daemonkit/distribution");

    @TempDir
    Path tmp;

    record Block(Path file, int line, String lang, List<String> markers, String text) {
        String where() {
            return ROOT.relativize(file) + ":" + line;
        }

        /** The text after {@code kind} of the first marker that starts with it, or null. */
        String marker(String kind) {
            for (String m : markers) {
                if (m.startsWith(kind)) {
                    return m.substring(kind.length()).strip();
                }
            }
            return null;
        }
    }

    /** The fenced blocks of a markdown file, each with the HTML comments right above its fence. */
    static List<Block> blocks(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("```")) {
                continue;
            }
            String lang = lines.get(i).substring(3).strip();
            List<String> markers = new ArrayList<>();
            int j = i - 1;
            while (j >= 0 && lines.get(j).strip().endsWith("-->")) {
                int start = j;
                while (start >= 0 && !lines.get(start).contains("<!--")) {
                    start--;
                }
                String comment = String.join("\n", lines.subList(start, j + 1)).strip();
                markers.add(0, comment.substring(4, comment.length() - 3).strip());
                j = start - 1;
            }
            int end = i + 1;
            while (!lines.get(end).startsWith("```")) {
                end++;
            }
            String text = String.join("\n", lines.subList(i + 1, end)) + "\n";
            blocks.add(new Block(file, i + 1, lang, markers, text));
            i = end;
        }
        return blocks;
    }

    /** The block of docs/plugin-guide.md marked {@code marker}. */
    static String guideBlock(String marker) throws IOException {
        for (Block b : blocks(ROOT.resolve("docs/plugin-guide.md"))) {
            if (b.markers().contains(marker)) {
                return b.text();
            }
        }
        throw new AssertionError("docs/plugin-guide.md has no block marked <!-- " + marker + " -->");
    }

    private static List<Block> allBlocks() throws IOException {
        List<Block> all = new ArrayList<>(blocks(ROOT.resolve("README.md")));
        all.addAll(blocks(ROOT.resolve("docs/plugin-guide.md")));
        return all;
    }

    @Test
    void everyBlockIsCheckedOrMarkedWithAReason() throws IOException {
        List<Block> all = allBlocks();
        assertThat(all).hasSizeGreaterThan(15);
        List<String> problems = new ArrayList<>();
        for (Block b : all) {
            String walkthrough = b.marker("walkthrough:");
            String sameAs = b.marker("same as:");
            String reason = b.marker("not run:") != null
                    ? b.marker("not run:")
                    : b.marker("not compiled:") != null ? b.marker("not compiled:") : b.marker("not code:");
            if (reason != null && reason.length() < 10) {
                problems.add(b.where() + ": a 'not ...' marker needs its reason");
            }
            if (walkthrough != null && !runByAWalkthroughTest(walkthrough)) {
                problems.add(b.where() + ": no test reads the block walkthrough:" + walkthrough);
            }
            if (b.markers().contains("five-commands") && !testReads("FiveCommandsIT", "five-commands")) {
                problems.add(b.where() + ": FiveCommandsIT does not read five-commands");
            }
            if (b.markers().contains("archetype:pom") && !testReads("FiveCommandsIT", "archetype:pom")) {
                problems.add(b.where() + ": FiveCommandsIT does not compare archetype:pom");
            }
            if (sameAs != null) {
                Path file = ROOT.resolve(sameAs);
                if (!Files.isRegularFile(file) || !Files.readString(file).equals(b.text())) {
                    problems.add(b.where() + ": the block is not " + sameAs + " as it is");
                }
            }
            boolean checkedByLanguage = b.lang().equals("java")
                    || b.lang().equals("hocon")
                    || b.lang().equals("xml");
            boolean covered = checkedByLanguage
                    || walkthrough != null
                    || sameAs != null
                    || reason != null
                    || b.markers().contains("five-commands");
            if (!covered) {
                problems.add(b.where() + ": a '" + b.lang() + "' block that nothing runs; run it in a test and mark"
                        + " it, or mark it <!-- not run: REASON -->");
            }
        }
        assertThat(problems).isEmpty();
    }

    private static boolean runByAWalkthroughTest(String name) throws IOException {
        String call = "block(readme, \"" + name + "\")";
        return testReads("ReadmeThroughRootScriptIT", call) || testReads("ReadmeWalkthroughIT", call);
    }

    private static boolean testReads(String test, String text) throws IOException {
        return Files.readString(TESTS.resolve(test + ".java")).contains(text);
    }

    @Test
    void everyJavaBlockCompilesAgainstTheDistributionsLib() throws IOException {
        List<Path> lib;
        try (Stream<Path> jars = Files.list(Path.of(System.getProperty("daemonkit.dist", "target/daemonkit"))
                .resolve("lib"))) {
            lib = jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        String classpath =
                String.join(File.pathSeparator, lib.stream().map(Path::toString).toList());
        List<String> problems = new ArrayList<>();
        int compiled = 0;
        for (Block b : allBlocks()) {
            if (!b.lang().equals("java") || b.marker("same as:") != null || b.marker("not compiled:") != null) {
                continue;
            }
            String template = b.marker("compile:");
            String source = template == null ? b.text() : template.replace("{{block}}", b.text());
            if (template != null && !template.contains("{{block}}")) {
                problems.add(b.where() + ": the compile: wrapper has no {{block}}");
                continue;
            }
            Matcher publicType = Pattern.compile(
                            "public\\s+(?:final\\s+|abstract\\s+)*(?:class|interface|record|enum)\\s+(\\w+)")
                    .matcher(source);
            String name = publicType.find() ? publicType.group(1) : "Snippet";
            Path dir = Files.createDirectories(tmp.resolve("block-" + b.line() + "-" + compiled));
            Path file = dir.resolve(name + ".java");
            Files.writeString(file, source);
            StringWriter errors = new StringWriter();
            int rc = ToolProvider.getSystemJavaCompiler()
                            .getTask(
                                    errors,
                                    null,
                                    null,
                                    List.of(
                                            "--release",
                                            "17",
                                            "-proc:none",
                                            "-cp",
                                            classpath,
                                            "-d",
                                            dir.resolve("classes").toString()),
                                    null,
                                    ToolProvider.getSystemJavaCompiler()
                                            .getStandardFileManager(null, null, StandardCharsets.UTF_8)
                                            .getJavaFileObjects(file))
                            .call()
                    ? 0
                    : 1;
            compiled++;
            if (rc != 0) {
                problems.add(b.where() + " does not compile:\n" + source + "\n" + errors);
            }
        }
        assertThat(problems).isEmpty();
        assertThat(compiled).as("java blocks compiled").isGreaterThanOrEqualTo(6);
    }

    @Test
    void everyHoconBlockParses() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Block b : allBlocks()) {
            if (b.lang().equals("hocon")) {
                try {
                    ConfigFactory.parseString(b.text()).resolve();
                } catch (ConfigException e) {
                    problems.add(b.where() + ": " + e.getMessage());
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void everyXmlBlockParses() throws Exception {
        List<String> problems = new ArrayList<>();
        var factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        for (Block b : allBlocks()) {
            if (!b.lang().equals("xml")) {
                continue;
            }
            String text = b.text().startsWith("<?xml") ? b.text() : "<snippet>\n" + b.text() + "</snippet>\n";
            try {
                factory.newDocumentBuilder().parse(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
            } catch (org.xml.sax.SAXException e) {
                problems.add(b.where() + ": " + e.getMessage());
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void theGuidesFullPomIsAProjectOnJava17WithTheFrameworkProvided() throws Exception {
        var factory = DocumentBuilderFactory.newInstance();
        var pom = factory.newDocumentBuilder()
                .parse(new ByteArrayInputStream(guideBlock("archetype:pom").getBytes(StandardCharsets.UTF_8)));
        var xpath = javax.xml.xpath.XPathFactory.newInstance().newXPath();
        assertThat(xpath.evaluate("/project/properties/*[local-name()='maven.compiler.release']", pom))
                .isEqualTo("17");
        assertThat(xpath.evaluate("/project/dependencies/dependency[artifactId='framework-core']/scope", pom))
                .isEqualTo("provided");
        assertThat(xpath.evaluate("/project/dependencies/dependency[artifactId='framework-testkit']/scope", pom))
                .isEqualTo("test");
        assertThat(xpath.evaluate("/project/properties/*[local-name()='daemonkit.version']", pom))
                .as("the framework version the guide shows is this build's")
                .isEqualTo(System.getProperty("daemonkit.version", "0.1.0-SNAPSHOT"));
    }
}
