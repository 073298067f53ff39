package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.BufferedReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code daemonkit.transport.native = io_uring} in the built distribution: the native io_uring library comes from
 * {@code lib/} and serves echo and the cache; where it cannot load, the launcher says why and serves anyway.
 */
class IoUringTransportIT {
    @TempDir
    Path tmp;

    @Test
    void echoAndCacheAreServedOnIoUringFromTheDistributionsLib() throws Exception {
        int echo = LauncherProcess.freePort();
        int cache = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp, true)) {
            launcher.writeConfig("""
                    daemonkit.transport.native = io_uring
                    daemons {
                      echo.listen = "127.0.0.1:%d"
                      daytime.enabled = false
                      cache.listen = "127.0.0.1:%d"
                      presence.enabled = false
                    }
                    """.formatted(echo, cache));
            launcher.start().awaitStarted();
            assumeFalse(
                    launcher.output().contains("but io_uring is not available here"),
                    "io_uring does not load on this machine: " + launcher.output());
            assertThat(launcher.output()).contains("transport: io_uring with");

            try (Socket s = LauncherProcess.connect(echo)) {
                BufferedReader in = LauncherProcess.reader(s);
                send(s, "over io_uring\n");
                assertThat(in.readLine()).isEqualTo("over io_uring");
            }
            try (Socket s = LauncherProcess.connect(cache)) {
                BufferedReader in = LauncherProcess.reader(s);
                send(s, "set k 0 0 5\r\nvalue\r\nget k\r\n");
                assertThat(in.readLine()).isEqualTo("STORED");
                assertThat(in.readLine()).isEqualTo("VALUE k 0 5");
                assertThat(in.readLine()).isEqualTo("value");
                assertThat(in.readLine()).isEqualTo("END");
            }
            assertThat(launcher.terminate()).isZero();
        }
    }

    @Test
    void faultIoUringThatCannotLoadFallsBackWithAWarningThatSaysWhyAndEchoStillServes() throws Exception {
        int echo = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.writeConfig("""
                    daemonkit.transport.native = io_uring
                    daemons { echo.listen = "127.0.0.1:%d", daytime.enabled = false }
                    """.formatted(echo));
            // Netty's own switch for its native transports: io_uring (and epoll) report it as their cause.
            launcher.jvmOption("-Dio.netty.transport.noNative=true").start().awaitStarted();
            assertThat(launcher.output())
                    .contains("daemonkit.transport.native = io_uring, but io_uring is not available here")
                    .contains("Native transport was explicit disabled with -Dio.netty.transport.noNative=true")
                    .contains("using NIO (epoll is not available either")
                    .contains("transport: nio with");
            try (Socket s = LauncherProcess.connect(echo)) {
                BufferedReader in = LauncherProcess.reader(s);
                send(s, "still served\n");
                assertThat(in.readLine()).isEqualTo("still served");
            }
            assertThat(launcher.terminate()).isZero();
        }
    }

    private static void send(Socket s, String text) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
