package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TERM as Kubernetes sends it, against a launcher in its own process: readiness turns 503 at once,
 * the daemons keep serving for {@code daemonkit.shutdown.delay}, then drain without losing a request.
 */
class ShutdownDrainIT {
    @TempDir
    Path tmp;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A probe as kubelet sends it: GET, no token. Returns the status code. */
    private int probe(int admin, String path) throws IOException, InterruptedException {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + path))
                .timeout(Duration.ofSeconds(5))
                .build();
        return http.send(r, HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static String config(int admin, int echo, String delay) {
        return """
                daemonkit.admin { listen = "127.0.0.1:%d", token = "s3cret" }
                daemonkit.shutdown { delay = %s, grace = 5 s }
                daemons {
                  echo.listen = "127.0.0.1:%d"
                  daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                }
                """.formatted(admin, delay, echo, LauncherProcess.freePort(), LauncherProcess.freePort());
    }

    @Test
    void termMakesReadiness503AtOnceEchoAnswersThroughTheDelayAndTheDrainLosesNoRequest() throws Exception {
        int admin = LauncherProcess.freePort();
        int echo = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.writeConfig(config(admin, echo, "1500 ms"));
            launcher.start().awaitStarted();
            assertThat(probe(admin, "/health/started")).isEqualTo(200);
            assertThat(probe(admin, "/health/ready")).isEqualTo(200);
            assertThat(probe(admin, "/health/live")).isEqualTo(200);

            // A client on a kept connection: request, reply, 50 ms pause, through TERM, the delay and
            // into the drain; every request sent must get its reply.
            Socket kept = new Socket(InetAddress.getLoopbackAddress(), echo);
            kept.setSoTimeout(10_000);
            OutputStream out = kept.getOutputStream();
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(kept.getInputStream(), StandardCharsets.UTF_8));
            int requests = 50; // about 2.5 s: beyond the 1.5 s delay
            AtomicInteger repliedBeforeTerm = new AtomicInteger();
            CompletableFuture<Integer> answered = CompletableFuture.supplyAsync(() -> {
                int ok = 0;
                try {
                    for (int i = 0; i < requests; i++) {
                        out.write(("req-" + i + "\n").getBytes(StandardCharsets.UTF_8));
                        if (("req-" + i).equals(in.readLine())) {
                            ok++;
                            repliedBeforeTerm.incrementAndGet();
                        }
                        Thread.sleep(50); // the client's pace, shorter than the 200 ms quiet period
                    }
                } catch (IOException | InterruptedException e) {
                    return -ok - 1;
                }
                return ok;
            });
            // TERM once the client is under way (a few replies in), not after a guessed pause.
            await().atMost(Duration.ofSeconds(10)).until(() -> repliedBeforeTerm.get() >= 3);

            launcher.signal("TERM");
            long termAt = System.nanoTime();
            // Readiness turns before the delay ends (the order is what this test checks; how fast it turns,
            // ~2 ms, is measured by benchmarks/shutdown-readiness.sh against the 100 ms target).
            await().atMost(Duration.ofMillis(1_500))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> probe(admin, "/health/ready") == 503);

            // The delay: still live, and new connections are served.
            assertThat(probe(admin, "/health/live")).isEqualTo(200);
            assertThat(LauncherProcess.echoLine(echo, "during the delay")).isEqualTo("during the delay");
            assertThat(launcher.isAlive()).isTrue();

            assertThat(answered.get(30, TimeUnit.SECONDS))
                    .as("requests answered on the kept connection")
                    .isEqualTo(requests);
            // Once the client is quiet the drain closes its connection, and the launcher exits.
            assertThat(in.readLine())
                    .as("the server closed the quiet connection")
                    .isNull();
            kept.close();
            assertThat(launcher.awaitExit()).isZero();
            long exitedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - termAt);
            assertThat(exitedAfterMs)
                    .as("exit well within delay + grace (1.5 s + 5 s)")
                    .isBetween(1_500L, 6_500L);
            assertThat(launcher.output())
                    .contains("received SIGTERM: stopping (readiness is 503 from now on)")
                    .contains("serving 1500 ms more before draining (daemonkit.shutdown.delay)")
                    .contains("Daemonkit stopped");
        }
    }

    @Test
    void aSecondTermSkipsTheRestOfTheDelay() throws Exception {
        int admin = LauncherProcess.freePort();
        int echo = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.writeConfig(config(admin, echo, "60 s"));
            launcher.start().awaitStarted();

            launcher.signal("TERM");
            await().atMost(Duration.ofSeconds(5)).until(() -> probe(admin, "/health/ready") == 503);
            assertThat(LauncherProcess.echoLine(echo, "still here")).isEqualTo("still here");
            long secondAt = System.nanoTime();
            launcher.signal("TERM");

            assertThat(launcher.awaitExit()).isZero();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - secondAt))
                    .isLessThan(10_000);
            assertThat(launcher.output())
                    .contains("second stop request: skipping the rest of daemonkit.shutdown.delay")
                    .contains("Daemonkit stopped");
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), echo)) {
                throw new AssertionError("echo still accepts after the launcher exited");
            } catch (ConnectException expected) {
                // gone
            }
        }
    }
}
