package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
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
        requireTool();
        try (var launcher = new LauncherProcess(tmp)) {
            int echo = writeEchoConfig(launcher);
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

    /**
     * The target of socket activation: a launcher restart refuses no connection. systemd keeps the
     * socket while the launcher restarts; here {@code systemd-socket-activate} binds it and a shell
     * holds it, running the launcher twice in turn ({@code LISTEN_PID} set to each launcher's pid, as
     * systemd does). Clients connect in a loop throughout: the first launcher stops (drains) and
     * exits, the second adopts the same socket and serves the connections that waited in its backlog.
     * The fault case: a launcher restart, with clients arriving while no launcher is running.
     */
    @Test
    void aLauncherRestartRefusesNoConnectionClientsArrivingMeanwhileWaitInTheBacklog() throws Exception {
        requireTool();
        try (var launcher = new LauncherProcess(tmp)) {
            int echo = writeEchoConfig(launcher);
            // The holder: one shell, the socket's fd 3 inherited by each launcher it runs. A subshell's exec
            // keeps its pid ($BASHPID), so LISTEN_PID names the launcher's JVM as systemd would.
            List<String> wrapper = new ArrayList<>(List.of(
                    TOOL.toString(),
                    "-l",
                    "127.0.0.1:" + echo,
                    "--fdname=echo.listen",
                    "-E",
                    "DAEMONKIT_OPTS",
                    "/bin/bash",
                    "-c",
                    "for run in 1 2; do (export LISTEN_PID=$BASHPID; exec \"$0\" \"$@\"); done"));
            if (System.getenv("JAVA_HOME") != null) {
                wrapper.addAll(1, List.of("-E", "JAVA_HOME"));
            }
            launcher.startUnder(wrapper, "run");
            awaitListening(echo, launcher);

            ClientLoop clients = new ClientLoop(echo, 3);
            clients.start(); // the first connection makes the tool start the holder
            await().atMost(Duration.ofSeconds(60)).until(() -> launcher.output().contains("Daemonkit started"));
            await().atMost(Duration.ofSeconds(30)).until(() -> clients.answered.get() >= 50);

            var stop = launcher.command("stop");
            assertThat(stop.exitCode()).as(stop.output()).isZero();
            await().atMost(Duration.ofSeconds(60)).until(() -> launcher.output().contains("Daemonkit stopped"));
            clients.gapBegins();
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> launcher.output().split("Daemonkit started", -1).length == 3);
            clients.gapEnds();
            long answeredAtSecondStart = clients.answered.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> clients.answered.get() >= answeredAtSecondStart + 50);
            clients.stop();
            System.out.printf(
                    "restart under socket activation: %d connections answered, %d of them made after the first launcher stopped and before the second announced its start%n",
                    clients.answered.get(), clients.connectedInGap.get());

            assertThat(clients.failures)
                    .as("connections refused or broken across the restart")
                    .isEmpty();
            assertThat(clients.connectedInGap.get())
                    .as(
                            "connections made after the first launcher stopped and before the second started (the socket stayed open: they waited in its backlog)")
                    .isPositive();
            assertThat(launcher.log("daemonkit.log").split("adopted the socket systemd passed as fd 3", -1))
                    .as("each launcher adopted the socket")
                    .hasSize(3);
            assertThat(launcher.command("stop").exitCode()).isZero();
            assertThat(launcher.awaitExit()).as(launcher::output).isZero();
        }
    }

    /** Threads that connect, send one line, read it back and close, until stopped. */
    private static final class ClientLoop {
        final AtomicLong answered = new AtomicLong();
        final AtomicLong connectedInGap = new AtomicLong();
        final List<String> failures = new CopyOnWriteArrayList<>();
        private final int port;
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean running = true;
        private volatile boolean inGap;

        ClientLoop(int port, int threadCount) {
            this.port = port;
            for (int t = 0; t < threadCount; t++) {
                int id = t;
                threads.add(new Thread(() -> run(id), "client-" + t));
            }
        }

        void start() {
            threads.forEach(Thread::start);
        }

        void gapBegins() {
            inGap = true;
        }

        void gapEnds() {
            inGap = false;
        }

        private void run(int id) {
            for (long n = 0; running; n++) {
                String line = id + "-" + n;
                try (Socket client = new Socket()) {
                    client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
                    if (inGap) {
                        connectedInGap.incrementAndGet();
                    }
                    client.setSoTimeout(60_000);
                    client.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
                    String back = new BufferedReader(
                                    new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))
                            .readLine();
                    if (line.equals(back)) {
                        answered.incrementAndGet();
                    } else {
                        failures.add(line + ": answered " + back);
                    }
                } catch (IOException e) {
                    failures.add(line + ": " + e);
                }
            }
        }

        void stop() throws InterruptedException {
            running = false;
            for (Thread t : threads) {
                t.join(70_000);
            }
        }
    }

    /** Admin, echo and daytime on free ports; returns echo's. */
    private static int writeEchoConfig(LauncherProcess launcher) throws IOException {
        int echo = LauncherProcess.freePort();
        launcher.writeConfig("""
                daemonkit.admin.listen = "127.0.0.1:%d"
                daemons {
                  echo.listen = "127.0.0.1:%d"
                  daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                }
                """.formatted(
                        LauncherProcess.freePort(), echo, LauncherProcess.freePort(), LauncherProcess.freePort()));
        return echo;
    }

    private static void requireTool() {
        if (!Files.isExecutable(TOOL)) {
            if ("1".equals(System.getenv("DAEMONKIT_REQUIRE_SYSTEMD"))) {
                throw new AssertionError(TOOL + " is missing (DAEMONKIT_REQUIRE_SYSTEMD=1: install it with"
                        + " apt-get install systemd)");
            }
            assumeTrue(false, TOOL + " is missing: apt-get install systemd to run this test");
        }
        assumeTrue(Epoll.isAvailable(), "socket activation needs the epoll transport (Linux)");
    }

    /** Until the tool has bound the address (it prints "Listening on ..."). */
    private static void awaitListening(int port, LauncherProcess launcher) {
        await().atMost(Duration.ofSeconds(30))
                .until(() -> launcher.output().contains("Listening on 127.0.0.1:" + port));
    }
}
