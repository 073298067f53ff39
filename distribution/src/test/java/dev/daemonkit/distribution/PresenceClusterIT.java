package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two launchers of the built distribution, as separate processes, sharing one redis-server ({@code broker = redis}):
 * the presence plugin runs from its folder in {@code plugins/presence/} with Lettuce beside its jar. When one
 * launcher is killed with {@code kill -9} (no goodbye, no cleanup), the other announces {@code EVENT TIMEOUT} for its
 * users within the ttl plus one second. Skipped without redis-server unless {@code DAEMONKIT_REQUIRE_REDIS=1}.
 */
class PresenceClusterIT {
    private static final Duration TTL = Duration.ofSeconds(2);

    @TempDir
    Path tmpA;

    @TempDir
    Path tmpB;

    @TempDir
    Path redisDir;

    private Process redis;
    private LauncherProcess a;
    private LauncherProcess b;

    @AfterEach
    void stop() throws Exception {
        for (LauncherProcess l : new LauncherProcess[] {a, b}) {
            if (l != null) {
                l.close();
            }
        }
        if (redis != null) {
            redis.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void faultKillDashNineOfOneLauncherAndTheOtherAnnouncesItsUsersTimedOutWithinTtlPlusOneSecond() throws Exception {
        int redisPort = startRedis();
        int presenceA = LauncherProcess.freePort();
        int presenceB = LauncherProcess.freePort();
        a = launcher(tmpA, redisPort, presenceA);
        b = launcher(tmpB, redisPort, presenceB);

        try (Line alice = new Line(presenceA);
                Line bob = new Line(presenceB)) {
            assertThat(alice.request("LOGIN alice")).isEqualTo("OK LOGIN alice");
            assertThat(alice.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            assertThat(bob.request("LOGIN alice"))
                    .isEqualTo("ERR name-taken alice is online already (on another launcher): choose another name");
            assertThat(bob.request("LOGIN bob")).isEqualTo("OK LOGIN bob");
            assertThat(bob.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            alice.expect("EVENT JOIN lobby bob", Duration.ofSeconds(10));
            assertThat(alice.request("SAY lobby hello across")).isEqualTo("OK SAY lobby");
            bob.expect("EVENT MSG lobby alice hello across", Duration.ofSeconds(10));

            a.kill();
            long killedAt = System.nanoTime();
            bob.expect("EVENT TIMEOUT lobby alice", TTL.plusSeconds(1));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            assertThat(tookMillis).isLessThanOrEqualTo(TTL.plusSeconds(1).toMillis());
            // The name is free again, and WHO no longer lists the dead launcher's user.
            assertThat(bob.request("WHO lobby")).isEqualTo("OK WHO lobby 1 bob");
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> b.log("presence.log").contains("memberships of its users announced as EVENT TIMEOUT"));
    }

    private LauncherProcess launcher(Path tmp, int redisPort, int presence) throws Exception {
        LauncherProcess l = new LauncherProcess(tmp, true);
        l.writeConfig("""
                daemonkit {
                  admin.listen = "127.0.0.1:%d"
                  shutdown.grace = 2 s
                }
                daemons {
                  echo.listen = "127.0.0.1:%d"
                  daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                  cache.listen = "127.0.0.1:%d"
                  presence {
                    listen = "127.0.0.1:%d"
                    listen-http = "127.0.0.1:%d"
                    broker = redis
                    redis { address = "127.0.0.1:%d", ttl = %d ms }
                  }
                }
                """.formatted(
                        LauncherProcess.freePort(),
                        LauncherProcess.freePort(),
                        LauncherProcess.freePort(),
                        LauncherProcess.freePort(),
                        LauncherProcess.freePort(),
                        presence,
                        LauncherProcess.freePort(),
                        redisPort,
                        TTL.toMillis()));
        l.start();
        l.awaitStarted();
        // "Daemonkit started" comes before presence is RUNNING: it binds once its first attempt to reach Redis ended.
        await().atMost(Duration.ofSeconds(30)).until(() -> l.log("presence.log").contains("RUNNING on"));
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        l.log("presence.log").contains("joined the presence service at Redis 127.0.0.1:" + redisPort));
        return l;
    }

    private int startRedis() throws Exception {
        String binary = Files.isExecutable(Path.of("/usr/bin/redis-server")) ? "/usr/bin/redis-server" : null;
        if (binary == null && "1".equals(System.getenv("DAEMONKIT_REQUIRE_REDIS"))) {
            throw new AssertionError("redis-server is not installed, and DAEMONKIT_REQUIRE_REDIS=1: apt-get install"
                    + " redis-server (.ci/run does)");
        }
        assumeTrue(binary != null, "redis-server is not installed (apt-get install redis-server); skipped");
        int port = LauncherProcess.freePort();
        redis = new ProcessBuilder(
                        binary,
                        "--port",
                        String.valueOf(port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        redisDir.toString())
                .redirectErrorStream(true)
                .redirectOutput(redisDir.resolve("redis.log").toFile())
                .start();
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    try (Line ping = new Line(port)) {
                        return "+PONG".equals(ping.request("PING"));
                    } catch (IOException notYet) {
                        return false;
                    }
                });
        return port;
    }

    /** A line-protocol client with a read deadline. */
    private static final class Line implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        private final OutputStream out;

        Line(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(10_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = socket.getOutputStream();
        }

        /** Sends a command and returns the next line that is not an event. */
        String request(String s) throws IOException {
            out.write((s + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            for (String l; (l = in.readLine()) != null; ) {
                if (!l.startsWith("EVENT ")) {
                    return l;
                }
            }
            return null;
        }

        /** Waits for {@code line} (skipping others) for at most {@code within}. */
        void expect(String line, Duration within) throws IOException {
            long deadline = System.nanoTime() + within.toNanos();
            while (true) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new AssertionError("no \"" + line + "\" within " + within.toMillis() + " ms");
                }
                socket.setSoTimeout((int) left);
                try {
                    String l = in.readLine();
                    if (l == null) {
                        throw new AssertionError("connection closed while waiting for \"" + line + "\"");
                    }
                    if (l.equals(line)) {
                        return;
                    }
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("no \"" + line + "\" within " + within.toMillis() + " ms", e);
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
