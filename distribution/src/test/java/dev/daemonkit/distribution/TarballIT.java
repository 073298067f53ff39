package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The release tarball holds what the build declares (component.xml and the shipped conf), never what a developer
 * added to target/daemonkit/ (a walkthrough plugin, logs, an edited conf).
 */
class TarballIT {
    private static final Path DIST = Path.of(System.getProperty("daemonkit.dist", "target/daemonkit"));

    private static List<String> tar(String... args) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.lines().toList();
    }

    private static Path tarball() throws IOException {
        try (var files = Files.list(DIST.getParent())) {
            return files.filter(f -> f.getFileName().toString().matches("daemonkit-.*\\.tar\\.gz"))
                    .findFirst()
                    .orElseThrow();
        }
    }

    @Test
    void theTarballHoldsOnlyTheDeclaredFilesAndTheShippedConf() throws Exception {
        Path tarball = tarball();
        String base = tarball.getFileName().toString().replace(".tar.gz", "") + "/";
        List<String> entries = tar("tar", "tzf", tarball.toString()).stream()
                .map(e -> e.substring(base.length()))
                .filter(e -> !e.isEmpty() && !e.endsWith("/"))
                .toList();
        assertThat(entries)
                .allMatch(
                        e -> e.matches("(bin|lib|bench|plugins|conf|systemd)/[^/]+|plugins/presence/[^/]+\\.jar"
                                + "|LICENSE|CHANGELOG.md"),
                        "top folders");
        assertThat(entries).contains("LICENSE", "CHANGELOG.md");
        assertThat(entries.stream().filter(e -> e.startsWith("plugins/") && !e.startsWith("plugins/presence/")))
                .containsExactlyInAnyOrder("plugins/echo.jar", "plugins/cache.jar");
        // presence brings its Redis broker's libraries in its own folder; the launcher's lib/ holds none of them,
        // nor any Netty module the framework shares (those come from lib/ only).
        List<String> presence = entries.stream()
                .filter(e -> e.startsWith("plugins/presence/"))
                .map(e -> e.substring("plugins/presence/".length()))
                .toList();
        assertThat(presence)
                .contains("presence.jar", "lettuce-core-7.7.0.RELEASE.jar", "netty-resolver-dns-4.2.18.Final.jar")
                .noneMatch(j -> j.matches("netty-(common|buffer|transport|handler|codec|codec-base|resolver)-[0-9].*"));
        assertThat(entries)
                .noneMatch(e -> e.startsWith("lib/") && e.matches("lib/(lettuce|reactor|netty-resolver-dns).*"));
        // Both native transports the launcher may run on (daemonkit.transport.native), with their native files.
        assertThat(entries)
                .contains(
                        "lib/netty-transport-native-epoll-4.2.18.Final-linux-x86_64.jar",
                        "lib/netty-transport-native-io_uring-4.2.18.Final-linux-x86_64.jar",
                        "lib/netty-transport-classes-io_uring-4.2.18.Final.jar");
        assertThat(presence).noneMatch(j -> j.contains("io_uring") || j.contains("epoll"));
        assertThat(entries.stream().filter(e -> e.startsWith("conf/"))).containsExactly("conf/daemonkit.conf");
        assertThat(entries.stream().filter(e -> e.startsWith("systemd/")))
                .containsExactlyInAnyOrder("systemd/daemonkit.service", "systemd/daemonkit.socket");

        String conf = String.join("\n", tar("tar", "xzOf", tarball.toString(), base + "conf/daemonkit.conf"));
        String shipped = Files.readString(
                Path.of(System.getProperty("daemonkit.shipped.conf", "src/main/dist/conf/daemonkit.conf")));
        assertThat(conf.strip()).isEqualTo(shipped.strip());
    }

    @Test
    void theTarballIsNotPackedFromTheRunnableFolder() throws IOException {
        for (String descriptor : List.of("tar.xml", "component.xml")) {
            assertThat(Files.readString(Path.of("src/assembly", descriptor)))
                    .as(descriptor + " must not read target/daemonkit/, where users add plugins and edit conf")
                    .doesNotContain("${project.build.directory}/daemonkit");
        }
    }
}
