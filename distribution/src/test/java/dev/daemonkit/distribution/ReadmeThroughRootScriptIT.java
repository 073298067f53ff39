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
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's walkthrough as a user follows it, in a folder shaped like the repository: the plugin's files written
 * under {@code hello/} in the root (steps 1-2), the README's shell block run as written (step 3), {@code ./daemonkit}
 * run (step 4), the README's config block added to {@code distribution/target/daemonkit/conf/daemonkit.conf} and
 * {@code ./daemonkit} run again (step 5), then the {@code greting} typo. The distribution is already built (a stamp
 * newer than the sources), so a {@code mvn} call would be a rebuild the walkthrough must not cause: the {@code mvn}
 * on the PATH fails. Only the ports differ from the README (system properties, which override the file), so that
 * this test cannot collide with a launcher a developer is running.
 */
class ReadmeThroughRootScriptIT {
    @TempDir
    Path repo;

    private static String block(String readme, String marker) {
        Matcher m = Pattern.compile(
                        "<!-- walkthrough:" + Pattern.quote(marker) + " -->\\s*```\\w*\\n(.*?)```", Pattern.DOTALL)
                .matcher(readme);
        assertThat(m.find())
                .as("README has a code block marked walkthrough:" + marker)
                .isTrue();
        return m.group(1);
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private static String greet(int port, String name) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((name + "\n").getBytes(StandardCharsets.UTF_8));
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    /** The launcher's output accumulates over its runs: wait for the {@code n}th start. */
    private static void awaitStarts(LauncherProcess launcher, int n) {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> launcher.output().split("Daemonkit started", -1).length > n || !launcher.isAlive());
        assertThat(launcher.isAlive()).as(launcher.output()).isTrue();
    }

    @Test
    void theWalkthroughAsWrittenThroughTheRootScriptKeepsTheUsersConfig() throws Exception {
        Path root = Path.of(System.getProperty("daemonkit.readme", "../README.md"))
                .toAbsolutePath()
                .getParent();
        String readme = Files.readString(root.resolve("README.md"));
        Files.copy(root.resolve("daemonkit"), repo.resolve("daemonkit"));
        assertThat(repo.resolve("daemonkit").toFile().setExecutable(true)).isTrue();
        write(repo.resolve("pom.xml"), "<project><modules><module>framework-core</module></modules></project>\n");
        write(repo.resolve("framework-core/pom.xml"), "<project/>\n");
        write(repo.resolve("framework-core/src/main/java/A.java"), "class A {}\n");
        write(repo.resolve("fake-bin/mvn"), "#!/bin/sh\necho 'unexpected rebuild: mvn '\"$*\" >&2\nexit 1\n");
        assertThat(repo.resolve("fake-bin/mvn").toFile().setExecutable(true)).isTrue();

        try (var launcher = new LauncherProcess(repo.resolve("distribution/target"), true)) {
            Path stamp = repo.resolve("distribution/target/daemonkit.built");
            Files.writeString(stamp, "");
            Files.setLastModifiedTime(stamp, FileTime.from(Instant.now().plusSeconds(5)));
            Path conf = launcher.home.resolve("conf/daemonkit.conf");
            assertThat(launcher.home).isEqualTo(repo.resolve("distribution/target/daemonkit"));

            // Steps 1-3, as written: the plugin's files, then the README's shell block from the repository root.
            write(repo.resolve("hello/src/hello/HelloPlugin.java"), block(readme, "java"));
            write(repo.resolve("hello/classes/reference.conf"), block(readme, "reference.conf"));
            ProcessBuilder shell = new ProcessBuilder("bash", "-euo", "pipefail", "-c", block(readme, "build"))
                    .directory(repo.toFile())
                    .redirectErrorStream(true);
            shell.environment().put("PATH", System.getProperty("java.home") + "/bin:" + System.getenv("PATH"));
            Process build = shell.start();
            String buildOutput = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(build.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(build.exitValue()).as(buildOutput).isZero();
            assertThat(launcher.home.resolve("plugins/hello.jar")).exists();

            int hello = LauncherProcess.freePort();
            int helloFr = LauncherProcess.freePort();
            for (String option : List.of(
                    "-Ddaemonkit.admin.listen=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.echo.listen=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.daytime.listen=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.daytime.listen-udp=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.cache.listen=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.presence.listen=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.presence.listen-http=127.0.0.1:" + LauncherProcess.freePort(),
                    "-Ddaemons.hello.listen=127.0.0.1:" + hello)) {
                launcher.jvmOption(option);
            }
            List<String> throughRootScript = List.of(
                    "env",
                    "PATH=" + repo.resolve("fake-bin") + ":" + System.getProperty("java.home") + "/bin:"
                            + System.getenv("PATH"),
                    "bash",
                    "-c",
                    "exec '" + repo.resolve("daemonkit") + "' \"$@\"");

            // Step 4: ./daemonkit, and hello greets with its reference.conf default.
            launcher.startUnder(throughRootScript);
            awaitStarts(launcher, 1);
            assertThat(greet(hello, "World")).isEqualTo("Hello, World!");
            assertThat(launcher.terminate()).isZero();

            // Step 5: the README's config block in the distribution's conf, then ./daemonkit again.
            Files.writeString(conf, "\n" + block(readme, "config"), StandardOpenOption.APPEND);
            launcher.jvmOption("-Ddaemons.hello-fr.listen=127.0.0.1:" + helloFr);
            launcher.startUnder(throughRootScript);
            awaitStarts(launcher, 2);
            assertThat(greet(hello, "World")).isEqualTo("Good morning, World!");
            assertThat(greet(helloFr, "Monde")).isEqualTo("Bonjour, Monde!");
            assertThat(launcher.terminate()).isZero();
            assertThat(launcher.output()).doesNotContain("unexpected rebuild");
            assertThat(launcher.log("hello-fr.log")).contains("greeting Monde");

            // The typo: exit 2, naming the file, the line and the key.
            Files.writeString(conf, "daemons.hello.greting = \"Hi\"\n", StandardOpenOption.APPEND);
            launcher.startUnder(throughRootScript);
            assertThat(launcher.awaitExit()).isEqualTo(2);
            assertThat(launcher.output())
                    .contains("unknown key daemons.hello.greting")
                    .contains(conf + ":");
        }
    }
}
