package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operations that must fail safe, against launchers in their own processes over real sockets: a reload
 * onto a busy port, a second launcher on the same config, a launcher started under nohup, and the
 * plugin copies a killed launcher leaves behind.
 */
class FailSafeOperationsIT {
    @TempDir
    Path tmp;

    private static String config(int admin, int echo, int daytime) {
        return """
                daemonkit.admin.listen = "127.0.0.1:%d"
                daemonkit.shutdown.grace = 2 s
                daemonkit.plugins.watch = false
                daemons {
                  echo.listen = "127.0.0.1:%d"
                  daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                }
                """.formatted(admin, echo, daytime, daytime);
    }

    @Test
    void reloadOntoAPortHeldByAnotherProcessIsRejectedAndTheOldListenerStillAnswers() throws Exception {
        int admin = LauncherProcess.freePort();
        int echo = LauncherProcess.freePort();
        int daytime = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp);
                ServerSocket held =
                        new ServerSocket(LauncherProcess.freePort(), 50, InetAddress.getLoopbackAddress())) {
            launcher.writeConfig(config(admin, echo, daytime));
            launcher.start().awaitStarted();
            assertThat(LauncherProcess.echoLine(echo, "before")).isEqualTo("before");

            launcher.writeConfig(config(admin, held.getLocalPort(), daytime));
            var reload = launcher.command("reload");
            assertThat(reload.exitCode()).isEqualTo(1);
            assertThat(reload.output())
                    .contains("rejected, the running config stays")
                    .contains("daemon 'echo' cannot move to tcp 127.0.0.1:" + held.getLocalPort())
                    .contains("daemons.echo.listen")
                    .contains("in use by another process");
            assertThat(launcher.output()).contains("reload rejected, the running config stays");
            assertThat(LauncherProcess.echoLine(echo, "still")).isEqualTo("still");
            assertThat(launcher.command("status").output())
                    .containsPattern("echo +echo +\\S+ +RUNNING +tcp 127.0.0.1:" + echo);

            // The port of another daemon of the same launcher: rejected too.
            launcher.writeConfig(config(admin, daytime, daytime));
            var onto = launcher.command("reload");
            assertThat(onto.exitCode()).isEqualTo(1);
            assertThat(onto.output())
                    .contains("daemon 'echo' cannot move to tcp 127.0.0.1:" + daytime)
                    .contains("daemon 'daytime' of this launcher listens there");
            assertThat(LauncherProcess.echoLine(echo, "again")).isEqualTo("again");

            // A free port: the move goes through, the new port answers and the old one is closed.
            int moved = LauncherProcess.freePort();
            launcher.writeConfig(config(admin, moved, daytime));
            var ok = launcher.command("reload");
            assertThat(ok.exitCode()).isZero();
            assertThat(ok.output()).contains("restarted: echo");
            assertThat(LauncherProcess.echoLine(moved, "moved")).isEqualTo("moved");
            await().atMost(Duration.ofSeconds(10)).until(() -> LauncherProcess.canBind(echo));
            assertThat(launcher.terminate()).isZero();
        }
    }

    @Test
    void faultDescriptorFloodKeepsEveryDaemonRunningAndItsConnections() throws Exception {
        // The scenario for real: a launcher with few file descriptors, clients opening
        // connections until it has none left, so that listing plugins/ fails with EMFILE.
        int echo = LauncherProcess.freePort();
        int daytime = LauncherProcess.freePort();
        List<Socket> clients = new ArrayList<>();
        try (var launcher = new LauncherProcess(tmp)) {
            // The connection budget refuses a flood before the process runs out of descriptors (HostileLoadIT
            // shows that). Here the budget is opened up on purpose (no reserve, echo's share near the whole
            // limit), so that the process does run out and the plugin folder's listing really fails.
            launcher.writeConfig(config(LauncherProcess.freePort(), echo, daytime) + """
                    daemonkit.plugins { watch = true, scan-interval = 100 ms }
                    daemonkit.connections.reserve = 0
                    daemons.echo.max-connections = 280
                    """);
            launcher.startUnder(List.of("bash", "-c", "ulimit -n 320 && exec \"$0\" \"$@\""))
                    .awaitStarted();
            try (Socket kept = new Socket(InetAddress.getLoopbackAddress(), echo)) {
                kept.setSoTimeout(10_000);
                var keptIn = new BufferedReader(new InputStreamReader(kept.getInputStream(), StandardCharsets.UTF_8));
                kept.getOutputStream().write("first\n".getBytes(StandardCharsets.UTF_8));
                assertThat(keptIn.readLine()).isEqualTo("first");
                for (int i = 0; i < 400; i++) {
                    clients.add(new Socket(InetAddress.getLoopbackAddress(), echo));
                }
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> launcher.output().contains("cannot be listed"));
                await().pollDelay(Duration.ofSeconds(1)).until(() -> true); // ten more looks
                for (Socket c : clients) {
                    c.close();
                }
                clients.clear();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> launcher.output().contains("can be read again"));
                assertThat(launcher.output())
                        .contains("Too many open files")
                        .doesNotContain("was removed")
                        .doesNotContain("STOPPING");
                // The connection opened before the flood is still served by the same daemon.
                kept.getOutputStream().write("still\n".getBytes(StandardCharsets.UTF_8));
                assertThat(keptIn.readLine()).isEqualTo("still");
            }
            assertThat(LauncherProcess.echoLine(echo, "after")).isEqualTo("after");
            assertThat(launcher.output().split("cannot be listed", -1))
                    .as("reported once")
                    .hasSize(2);
            assertThat(launcher.terminate()).isZero();
        } finally {
            for (Socket c : clients) {
                c.close();
            }
        }
    }

    @Test
    void aSecondLauncherOnTheSameConfigExitsWithCode3AndSaysAnotherLauncherIsProbablyRunning() throws Exception {
        int echo = LauncherProcess.freePort();
        int daytime = LauncherProcess.freePort();
        String config = config(LauncherProcess.freePort(), echo, daytime);
        try (var first = new LauncherProcess(tmp.resolve("first"));
                var second = new LauncherProcess(tmp.resolve("second"))) {
            first.writeConfig(config);
            first.start().awaitStarted();
            second.writeConfig(config);
            second.start();
            assertThat(second.awaitExit()).isEqualTo(3);
            assertThat(second.output())
                    .contains("no daemon could bind its address")
                    .contains("daemon 'echo': 127.0.0.1:" + echo + " (daemons.echo.listen")
                    .contains("daemon 'daytime': 127.0.0.1:" + daytime)
                    .contains("Another launcher is probably running");
            assertThat(LauncherProcess.echoLine(echo, "first still serves")).isEqualTo("first still serves");
            assertThat(first.terminate()).isZero();
        }
    }

    @Test
    void aLauncherStartedUnderNohupWarnsThatSighupIsIgnoredAndReloadWorksThroughTheCommand() throws Exception {
        int echo = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.writeConfig(config(LauncherProcess.freePort(), echo, LauncherProcess.freePort()));
            launcher.startUnder(List.of("nohup")).awaitStarted();
            assertThat(launcher.output())
                    .contains("SIGHUP is ignored in this process")
                    .contains("bin/daemonkit reload");
            new ProcessBuilder("kill", "-HUP", Long.toString(launcher.pid()))
                    .start()
                    .waitFor();
            await().pollDelay(Duration.ofMillis(500)).until(() -> true);
            assertThat(launcher.isAlive()).isTrue();
            assertThat(launcher.output()).doesNotContain("received SIGHUP");
            assertThat(launcher.command("reload").output()).contains("reloaded: nothing changed");
            assertThat(LauncherProcess.echoLine(echo, "hi")).isEqualTo("hi");
            assertThat(launcher.terminate()).isZero();
        }
    }

    @Test
    void aLauncherWithSighupHandledDoesNotWarn() throws Exception {
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.writeConfig(
                    config(LauncherProcess.freePort(), LauncherProcess.freePort(), LauncherProcess.freePort()));
            launcher.start().awaitStarted();
            assertThat(launcher.output()).doesNotContain("SIGHUP is ignored");
            assertThat(launcher.terminate()).isZero();
        }
    }

    private static List<Path> copies(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("daemonkit-plugins-"))
                    .toList();
        }
    }

    @Test
    void pluginCopiesOfAKilledLauncherAreRemovedAtTheNextStartAndALiveLaunchersAreKept() throws Exception {
        Path shared = Files.createDirectories(tmp.resolve("java-tmp"));
        String config = config(LauncherProcess.freePort(), LauncherProcess.freePort(), LauncherProcess.freePort());
        try (var killed = new LauncherProcess(tmp.resolve("a"));
                var other = new LauncherProcess(tmp.resolve("b"));
                var next = new LauncherProcess(tmp.resolve("c"))) {
            killed.writeConfig(config);
            killed.jvmOption("-Djava.io.tmpdir=" + shared).start().awaitStarted();
            List<Path> left = copies(shared);
            assertThat(left).hasSize(1);
            killed.kill();
            assertThat(left.get(0)).exists();

            other.writeConfig(
                    config(LauncherProcess.freePort(), LauncherProcess.freePort(), LauncherProcess.freePort()));
            other.jvmOption("-Djava.io.tmpdir=" + shared).start().awaitStarted();
            assertThat(left.get(0)).doesNotExist();
            assertThat(other.output())
                    .contains("removed 1 plugin copy folder(s)")
                    .contains(left.get(0).getFileName().toString());
            List<Path> live = copies(shared);
            assertThat(live).hasSize(1);

            next.writeConfig(config);
            next.jvmOption("-Djava.io.tmpdir=" + shared).start().awaitStarted();
            assertThat(live.get(0)).as("the copies of a launcher that runs").exists();
            assertThat(copies(shared)).hasSize(2);
            assertThat(next.output()).doesNotContain("removed 1 plugin copy folder(s)");
            assertThat(other.terminate()).isZero();
            assertThat(next.terminate()).isZero();
            assertThat(copies(shared)).isEmpty();
        }
    }
}
