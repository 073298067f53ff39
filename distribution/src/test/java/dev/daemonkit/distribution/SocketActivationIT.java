package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher run under Debian's {@code systemd-socket-activate}, which binds the echo daemon's address
 * itself, waits for the first connection and execs {@code bin/daemonkit} with the socket as fd 3
 * ({@code LISTEN_FDS=1}): the launcher adopts it instead of binding, and that first connection, queued
 * before the launcher even started, is answered. Skipped where the tool is missing, unless
 * {@code DAEMONKIT_REQUIRE_SYSTEMD=1} (CI installs Debian's systemd package).
 */
class SocketActivationIT {
    private static final Path TOOL = Path.of("/usr/bin/systemd-socket-activate");

    @TempDir
    Path tmp;

    @Test
    void theEchoDaemonServesOnTheSocketSystemdPassedAndAnswersTheConnectionThatStartedIt() throws Exception {
        if (!Files.isExecutable(TOOL)) {
            if ("1".equals(System.getenv("DAEMONKIT_REQUIRE_SYSTEMD"))) {
                throw new AssertionError(TOOL + " is missing (DAEMONKIT_REQUIRE_SYSTEMD=1: install it with"
                        + " apt-get install systemd)");
            }
            assumeTrue(false, TOOL + " is missing: apt-get install systemd to run this test");
        }
        assumeTrue(Epoll.isAvailable(), "socket activation needs the epoll transport (Linux)");
        try (var launcher = new LauncherProcess(tmp)) {
            int echo = LauncherProcess.freePort();
            launcher.writeConfig("""
                    daemonkit.admin.listen = "127.0.0.1:%d"
                    daemons {
                      echo.listen = "127.0.0.1:%d"
                      daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                    }
                    """.formatted(
                            LauncherProcess.freePort(), echo, LauncherProcess.freePort(), LauncherProcess.freePort()));
            // The tool passes its child only LISTEN_*, TERM, PATH and HOME, and what -E names.
            List<String> wrapper = new ArrayList<>(List.of(
                    TOOL.toString(), "-l", "127.0.0.1:" + echo, "--fdname=echo.listen", "-E", "DAEMONKIT_OPTS"));
            if (System.getenv("JAVA_HOME") != null) {
                wrapper.addAll(List.of("-E", "JAVA_HOME"));
            }
            launcher.startUnder(wrapper, "run");
            awaitListening(echo, launcher);

            // This connection makes the tool exec the launcher; it waits in the socket's backlog meanwhile.
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), echo)) {
                client.setSoTimeout(60_000);
                OutputStream out = client.getOutputStream();
                out.write("first\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).as(launcher::output).isEqualTo("first");
            }
            launcher.awaitStarted();
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), echo)) {
                client.setSoTimeout(10_000);
                client.getOutputStream().write("second\n".getBytes(StandardCharsets.UTF_8));
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).isEqualTo("second");
            }
            assertThat(launcher.log("daemonkit.log") + launcher.output())
                    .contains("daemon 'echo': adopted the socket systemd passed as fd 3 (127.0.0.1:" + echo
                            + ", named 'echo.listen') instead of binding");
            assertThat(launcher.terminate()).as(launcher::output).isZero();
        }
    }

    /** Until the tool has bound the address (it prints "Listening on ..."). */
    private static void awaitListening(int port, LauncherProcess launcher) {
        await().atMost(Duration.ofSeconds(30))
                .until(() -> launcher.output().contains("Listening on 127.0.0.1:" + port));
    }
}
