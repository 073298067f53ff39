package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The distribution as a user runs it: bin/daemonkit in a separate process, real sockets, real signals. */
class DistributionIT {
    @TempDir
    Path tmp;

    private static String request(Socket s, BufferedReader in, String line) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        return in.readLine();
    }

    @Test
    void samplesServeSideBySideAndTermStopsCleanlyWithExitZero() throws Exception {
        int echo = LauncherProcess.freePort();
        int echoB = LauncherProcess.freePort();
        int daytime = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.writeConfig("""
                    daemons {
                      echo.listen = "127.0.0.1:%d"
                      echo-b { plugin = echo, listen = "127.0.0.1:%d", max-line-bytes = 16 }
                      daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                    }
                    """.formatted(echo, echoB, daytime, daytime));
            // A file that is not a jar beside the good plugin: it is reported, the samples still serve.
            Files.writeString(launcher.home.resolve("plugins/garbage.jar"), "not a jar");
            launcher.start().awaitStarted();

            try (Socket a = LauncherProcess.connect(echo);
                    Socket b = LauncherProcess.connect(echoB);
                    Socket idle = LauncherProcess.connect(echo)) {
                BufferedReader ra = LauncherProcess.reader(a);
                BufferedReader rb = LauncherProcess.reader(b);
                assertThat(request(a, ra, "hello from a")).isEqualTo("hello from a");
                assertThat(request(b, rb, "hello from b")).isEqualTo("hello from b");
                assertThat(request(b, rb, "this line is longer than sixteen bytes"))
                        .startsWith("ERROR line too long: the limit is 16 bytes");
                assertThat(rb.readLine()).isNull(); // echo-b closed the connection after the error
                assertThat(request(a, ra, "a still works")).isEqualTo("a still works");

                try (Socket t = LauncherProcess.connect(daytime)) {
                    assertThat(LauncherProcess.reader(t).readLine()).matches(".*\\d\\d:\\d\\d:\\d\\d.*");
                }
                try (DatagramSocket udp = new DatagramSocket()) {
                    udp.setSoTimeout(10_000);
                    byte[] ask = "?".getBytes(StandardCharsets.US_ASCII);
                    udp.send(new DatagramPacket(ask, ask.length, InetAddress.getLoopbackAddress(), daytime));
                    DatagramPacket reply = new DatagramPacket(new byte[256], 256);
                    udp.receive(reply);
                    assertThat(new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII))
                            .matches("(?s).*\\d\\d:\\d\\d:\\d\\d.*");
                }

                // TERM with a connection still open: it is drained and closed, and the process exits 0.
                assertThat(launcher.terminate()).isEqualTo(0);
                assertThat(LauncherProcess.reader(idle).readLine()).isNull();
            }
            String out = launcher.output();
            assertThat(out).contains("received SIGTERM").contains("Daemonkit stopped");
            assertThat(out).contains("garbage.jar not loaded: is not a readable jar");
            assertThat(out).doesNotContain("\tat ").doesNotContain("LEAK:");
            assertThat(launcher.log("daemonkit.log")).contains("Daemonkit stopped");
            assertThat(launcher.log("echo-b.log")).contains("daemon 'echo-b'").doesNotContain("daemon 'echo' ");
            assertThat(LauncherProcess.canBind(echo)).isTrue();
        }
    }

    @Test
    void aConfigErrorExitsWithCodeTwoNamingTheKeyAndBindsNothing() throws Exception {
        int echo = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.writeConfig("""
                    daemons {
                      echo.listen = "127.0.0.1:%d"
                      daytime {
                        listen = "127.0.0.1:%d"
                        listen-udp = "127.0.0.1:%d"
                        colour = blue
                      }
                    }
                    """.formatted(echo, LauncherProcess.freePort(), LauncherProcess.freePort()));
            launcher.start();
            assertThat(launcher.awaitExit()).isEqualTo(2);
            assertThat(launcher.output())
                    .contains("unknown key daemons.daytime.colour")
                    .contains("daemonkit.conf:6")
                    .doesNotContain("RUNNING")
                    .doesNotContain("\tat ");
            // Logged to the console, so not printed to stderr a second time.
            assertThat(launcher.output().lines().filter(l -> l.contains("unknown key daemons.daytime.colour")))
                    .hasSize(1);
            assertThat(LauncherProcess.canBind(echo)).isTrue();
        }
    }

    @Test
    void badUsageExitsWithCodeTwoAndTheUsage() throws Exception {
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.start("run", "--colour", "blue");
            assertThat(launcher.awaitExit()).isEqualTo(2);
            assertThat(launcher.output()).contains("unknown option '--colour'").contains("usage: daemonkit");
        }
    }

    @Test
    void versionAndDashDashVersionPrintTheVersionAndTheCommit() throws Exception {
        String expected = null;
        for (String arg : new String[] {"version", "--version"}) {
            try (var launcher = new LauncherProcess(tmp.resolve(arg))) {
                launcher.start(arg);
                assertThat(launcher.awaitExit()).as(arg).isZero();
                String line = launcher.output().strip();
                assertThat(line)
                        .as(arg)
                        .matches("daemonkit 0\\.1\\.0\\S* \\(commit (\\p{XDigit}{12}(-dirty)?|unknown .*)\\)");
                if (expected == null) {
                    expected = line;
                }
                assertThat(line).as(arg).isEqualTo(expected);
            }
        }
    }
}
