package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's five commands, as written, in a folder shaped like a checkout ({@code daemonkit/}, beside which the
 * new project {@code greeter/} is generated): a plugin project generated from the archetype, built, tested and
 * hot-deployed into a launcher started by {@code ./daemonkit} and still running, which then serves the new daemon.
 *
 * <p>What differs from a user's machine, and why: the first command, {@code mvn install}, is not run (the whole build
 * inside the build); its result is {@code target/it-repo}, where invoker:install put the framework, the test kit and
 * the archetype. A {@code .mvn/maven.config} above both folders points the commands' {@code mvn} at that repository,
 * with every other artifact read from the main build's own repository (no network). The distribution is already
 * built (a stamp newer than the sources), so {@code ./daemonkit} must not rebuild: the {@code mvn} on its PATH fails.
 * The ports differ (system properties, and {@code -Dport} added to the generate command) so that this test cannot
 * collide with a launcher a developer runs.
 */
class FiveCommandsIT {
    private static final Duration COMMAND_LIMIT = Duration.ofMinutes(5);

    @TempDir
    Path tmp;

    /** The README block marked five-commands, one command per entry, backslash continuations joined. */
    static List<String> commands(String readme) {
        Matcher m = Pattern.compile("<!-- five-commands -->\\s*```sh\\n(.*?)```", Pattern.DOTALL)
                .matcher(readme);
        assertThat(m.find()).as("README has a sh block marked five-commands").isTrue();
        List<String> commands = new ArrayList<>();
        for (String line : m.group(1).replace("\\\n", " ").split("\n")) {
            if (!line.isBlank()) {
                commands.add(line.strip());
            }
        }
        return commands;
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** Runs {@code command} with bash in {@code dir}, bounded; returns its output, asserting exit code 0. */
    private static String run(String command, Path dir, Path log) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-euo", "pipefail", "-c", command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        boolean finished = p.waitFor(COMMAND_LIMIT.toSeconds(), TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly().waitFor();
        }
        String output = Files.readString(log);
        assertThat(finished)
                .as("'%s' finished within %s:%n%s", command, COMMAND_LIMIT, output)
                .isTrue();
        assertThat(p.exitValue()).as("exit code of '%s':%n%s", command, output).isZero();
        return output;
    }

    private static String greet(int port, String name) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((name + "\n").getBytes(StandardCharsets.UTF_8));
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    @Test
    void aPluginFromTheArchetypeIsBuiltTestedAndHotDeployedIntoARunningLauncherInFiveCommands() throws Exception {
        Path root = Path.of(System.getProperty("daemonkit.readme", "../README.md"))
                .toAbsolutePath()
                .getParent();
        List<String> commands = commands(Files.readString(root.resolve("README.md")));
        assertThat(commands).as("the README's commands").hasSize(5);
        assertThat(commands.get(0)).as("replaced by target/it-repo").startsWith("mvn -B -DskipTests install ");
        assertThat(commands.get(1)).startsWith("./daemonkit ");

        // The checkout: the root script, a root pom, a built distribution (below) with a stamp newer than sources.
        Path repo = tmp.resolve("daemonkit");
        Files.createDirectories(repo);
        Files.copy(root.resolve("daemonkit"), repo.resolve("daemonkit"));
        assertThat(repo.resolve("daemonkit").toFile().setExecutable(true)).isTrue();
        String rootPom = "<project><modules><module>framework-core</module></modules></project>\n";
        write(repo.resolve("pom.xml"), rootPom);
        write(repo.resolve("framework-core/pom.xml"), "<project/>\n");
        write(repo.resolve("framework-core/src/main/java/A.java"), "class A {}\n");
        write(tmp.resolve("fake-bin/mvn"), "#!/bin/sh\necho 'unexpected rebuild: mvn '\"$*\" >&2\nexit 1\n");
        assertThat(tmp.resolve("fake-bin/mvn").toFile().setExecutable(true)).isTrue();

        // Instead of mvn install: the seeded repository, and the main build's repository as a file mirror.
        Path itRepo = Path.of(System.getProperty("daemonkit.it.repo", "target/it-repo"));
        assertThat(itRepo.resolve("dev/daemonkit/daemonkit-plugin-archetype"))
                .as("invoker:install ran (pre-integration-test)")
                .isDirectory();
        String settings = Files.readString(Path.of(System.getProperty("daemonkit.it.settings", "src/it/settings.xml")))
                .replace(
                        "@localRepositoryUrl@",
                        Path.of(System.getProperty(
                                        "daemonkit.it.mirror", System.getProperty("user.home") + "/.m2/repository"))
                                .toUri()
                                .toString());
        write(tmp.resolve("settings.xml"), settings);
        write(
                tmp.resolve(".mvn/maven.config"),
                "-Dmaven.repo.local=" + itRepo.toAbsolutePath() + " -s " + tmp.resolve("settings.xml") + "\n");

        try (var launcher = new LauncherProcess(repo.resolve("distribution/target"), true)) {
            Path stamp = repo.resolve("distribution/target/daemonkit.built");
            Files.writeString(stamp, "");
            Files.setLastModifiedTime(stamp, FileTime.from(Instant.now().plusSeconds(5)));
            for (String option : List.of(
                    "-Ddaemonkit.admin.listen=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.echo.listen=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.daytime.listen=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.daytime.listen-udp=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.cache.listen=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.presence.listen=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.presence.listen-http=127.0.0.1:" + LauncherProcess.freePort())) {
                launcher.jvmOption(option);
            }

            // 2. ./daemonkit, left running.
            launcher.startUnder(List.of(
                    "env",
                    "PATH=" + tmp.resolve("fake-bin") + ":" + System.getProperty("java.home") + "/bin:"
                            + System.getenv("PATH"),
                    "bash",
                    "-c",
                    "cd '" + repo + "' && exec " + commands.get(1)));
            launcher.awaitStarted();

            // 3. The project, generated beside the checkout (on a free port instead of 7300).
            int port = LauncherProcess.freePort();
            String generate = commands.get(2);
            assertThat(generate).contains("-DartifactId=greeter)");
            run(
                    generate.replace("-DartifactId=greeter)", "-DartifactId=greeter -Dport=" + port + ")"),
                    repo,
                    tmp.resolve("generate.log"));
            assertThat(repo.resolve("pom.xml"))
                    .as("not made a module of the checkout")
                    .hasContent(rootPom.strip());

            // 4. Built and tested: its tests ran against the packaged folder.
            String build = run(commands.get(3), repo, tmp.resolve("build.log"));
            assertThat(build)
                    .contains("Tests run: 3, Failures: 0, Errors: 0, Skipped: 0")
                    .contains("BUILD SUCCESS");
            assertThat(tmp.resolve("greeter/target/plugin/greeter/greeter.jar")).isRegularFile();
            assertThat(tmp.resolve("greeter/pom.xml"))
                    .as("the plugin guide shows this pom")
                    .hasContent(DocCodeBlocksTest.guideBlock("archetype:pom"));

            // 5. Hot deploy into the running launcher: it serves the new daemon, with the project's version.
            run(commands.get(4), repo, tmp.resolve("deploy.log"));
            await().atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .until(() -> "Hello, World!".equals(greet(port, "World")));
            assertThat(launcher.output())
                    .contains(
                            "daemon 'greeter' (plugin greeter 1.0.0-SNAPSHOT) RUNNING on [tcp 127.0.0.1:" + port + "]")
                    .doesNotContain("unexpected rebuild");
            assertThat(launcher.isAlive()).isTrue();
            assertThat(launcher.terminate()).isZero();
        }
    }
}
