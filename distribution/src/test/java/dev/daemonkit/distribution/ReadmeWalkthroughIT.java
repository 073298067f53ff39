package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Follows the README's "write your first daemon" walkthrough with the README's own code: compile
 * the plugin against the distribution's lib/, jar it with its service file and reference.conf, drop
 * it in plugins/, configure a second instance, run, and talk to both.
 */
class ReadmeWalkthroughIT {
    @TempDir
    Path tmp;

    private static String block(String readme, String marker) {
        Matcher m = Pattern.compile(
                        "<!-- walkthrough:" + Pattern.quote(marker) + " -->\\s*```\\w*\\n(.*?)```", Pattern.DOTALL)
                .matcher(readme);
        assertThat(m.find())
                .as("README has a code block marked walkthrough:" + marker)
                .isTrue();
        return m.group(1);
    }

    @Test
    void theReadmePluginBuildsRunsAndServesTwoInstances() throws Exception {
        String readme = Files.readString(Path.of(System.getProperty("daemonkit.readme", "../README.md")));
        String source = block(readme, "java");
        String reference = block(readme, "reference.conf");

        try (var launcher = new LauncherProcess(tmp)) {
            Path src = tmp.resolve("hello/src/hello/HelloPlugin.java");
            Path classes = tmp.resolve("hello/classes");
            Files.createDirectories(src.getParent());
            Files.createDirectories(classes);
            Files.writeString(src, source);
            String classpath;
            try (Stream<Path> jars = Files.list(launcher.home.resolve("lib"))) {
                classpath =
                        String.join(File.pathSeparator, jars.map(Path::toString).toList());
            }
            int rc = ToolProvider.getSystemJavaCompiler()
                    .run(
                            null,
                            null,
                            null,
                            "--release",
                            "17",
                            "-cp",
                            classpath,
                            "-d",
                            classes.toString(),
                            src.toString());
            assertThat(rc).as("javac of the README's plugin").isZero();

            try (JarOutputStream jar =
                    new JarOutputStream(Files.newOutputStream(launcher.home.resolve("plugins/hello.jar")))) {
                jar.putNextEntry(new JarEntry("META-INF/services/dev.daemonkit.api.DaemonPlugin"));
                jar.write("hello.HelloPlugin\n".getBytes(StandardCharsets.UTF_8));
                jar.putNextEntry(new JarEntry("reference.conf"));
                jar.write(reference.getBytes(StandardCharsets.UTF_8));
                for (String name : List.of("HelloPlugin.class", "HelloPlugin$1.class")) {
                    jar.putNextEntry(new JarEntry("hello/" + name));
                    jar.write(Files.readAllBytes(classes.resolve("hello").resolve(name)));
                }
            }
            int hello = LauncherProcess.freePort();
            int helloFr = LauncherProcess.freePort();
            launcher.writeConfig("""
                    daemons {
                      echo.listen = "127.0.0.1:%d"
                      daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                      hello.listen = "127.0.0.1:%d"
                      hello.greeting = "Good morning"
                      hello-fr { plugin = hello, listen = "127.0.0.1:%d", greeting = "Bonjour" }
                    }
                    """.formatted(
                            LauncherProcess.freePort(),
                            LauncherProcess.freePort(),
                            LauncherProcess.freePort(),
                            hello,
                            helloFr));
            launcher.start().awaitStarted();
            assertThat(greet(hello, "World")).isEqualTo("Good morning, World!");
            assertThat(greet(helloFr, "Monde")).isEqualTo("Bonjour, Monde!");
            assertThat(launcher.terminate()).isZero();
            assertThat(launcher.output())
                    .contains("daemon 'hello' (plugin hello")
                    .contains("RUNNING");
            assertThat(launcher.log("hello-fr.log")).contains("greeting Monde");
        }
    }

    private static String greet(int port, String name) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((name + "\n").getBytes(StandardCharsets.UTF_8));
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }
}
