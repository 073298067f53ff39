package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The root {@code ./daemonkit} script rebuilds only when something the distribution packages changed. It runs in a
 * copy of the repository's shape with a stand-in {@code mvn} on the PATH that records each call and assembles a
 * distribution whose {@code bin/daemonkit} only prints its arguments.
 */
class RootScriptIT {
    @TempDir
    Path repo;

    private Path builds;

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private static void executable(Path file, String text) throws IOException {
        write(file, text);
        assertThat(file.toFile().setExecutable(true)).isTrue();
    }

    @BeforeEach
    void aRepository() throws IOException {
        Path root = Path.of(System.getProperty("daemonkit.readme", "../README.md"))
                .toAbsolutePath()
                .getParent();
        Files.copy(root.resolve("daemonkit"), repo.resolve("daemonkit"));
        assertThat(repo.resolve("daemonkit").toFile().setExecutable(true)).isTrue();
        write(
                repo.resolve("pom.xml"),
                "<project><modules><module>framework-core</module><module>sample-daemons</module>"
                        + "<module>benchmarks</module><module>distribution</module></modules></project>\n");
        write(repo.resolve("sample-daemons/pom.xml"), "<project><modules><module>echo</module></modules></project>\n");
        for (String module : List.of("framework-core", "sample-daemons/echo", "benchmarks", "distribution")) {
            write(repo.resolve(module + "/pom.xml"), "<project/>\n");
        }
        write(repo.resolve("framework-core/src/main/java/A.java"), "class A {}\n");
        write(repo.resolve("framework-core/src/test/java/ATest.java"), "class ATest {}\n");
        write(repo.resolve("sample-daemons/echo/src/main/java/E.java"), "class E {}\n");
        write(repo.resolve("benchmarks/src/main/java/B.java"), "class B {}\n");
        write(repo.resolve("distribution/src/main/dist/conf/daemonkit.conf"), "daemonkit {}\n");
        builds = repo.resolve("builds.log");
        executable(
                repo.resolve("fake-bin/mvn"),
                "#!/usr/bin/env bash\n"
                        + "echo \"mvn $*\" >> '" + builds + "'\n"
                        + "mkdir -p distribution/target/daemonkit/bin distribution/target/daemonkit/conf\n"
                        + "printf '#!/usr/bin/env bash\\necho \"launcher $*\"\\n' > distribution/target/daemonkit/bin/daemonkit\n"
                        + "chmod +x distribution/target/daemonkit/bin/daemonkit\n");
    }

    private String run(String... args) throws Exception {
        List<String> cmd =
                new java.util.ArrayList<>(List.of(repo.resolve("daemonkit").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
        pb.environment().put("PATH", repo.resolve("fake-bin") + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private long buildCount() throws IOException {
        return Files.exists(builds) ? Files.readAllLines(builds).size() : 0;
    }

    /** Saved later than the last build: set explicitly, so the file system's time granularity cannot hide it. */
    private void touchLater(String path) throws IOException {
        Path file = repo.resolve(path);
        if (!Files.exists(file)) {
            write(file, "x\n");
        }
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(60)));
    }

    @Test
    void buildsOnceThenRunsWithoutRebuildingUntilAPackagedSourceChanges() throws Exception {
        assertThat(run("status")).contains("launcher status");
        assertThat(buildCount()).isEqualTo(1);
        assertThat(Files.readString(builds)).contains("-pl distribution -am package");

        assertThat(run()).contains("launcher");
        assertThat(buildCount()).as("nothing changed").isEqualTo(1);

        for (String notPackaged : Set.of(
                "hello/src/hello/HelloPlugin.java",
                "framework-core/src/test/java/ATest.java",
                "benchmarks/src/main/java/B.java",
                "distribution/target/daemonkit/conf/daemonkit.conf")) {
            touchLater(notPackaged);
            run();
            assertThat(buildCount()).as(notPackaged + " is not packaged").isEqualTo(1);
        }

        touchLater("sample-daemons/echo/src/main/java/E.java");
        run();
        assertThat(buildCount()).as("a sample's source changed").isEqualTo(2);
    }

    @Test
    void aChangedPomRebuilds() throws Exception {
        run();
        touchLater("framework-core/pom.xml");
        run();
        assertThat(buildCount()).isEqualTo(2);
    }
}
