package dev.daemonkit.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;

/**
 * How soon after TERM the readiness probe says 503 (issue 15's target: within 100 ms). Polls
 * {@code GET /health/ready} on one kept connection until it answers 200, sends TERM to the launcher
 * (kill(2) through {@link ProcessHandle#destroy()}, no fork), then polls as fast as it can until the
 * first 503 and prints the time from sending the signal to receiving that answer. Bounded: gives up
 * 10 s after the signal.
 *
 * <pre>java -cp bots.jar dev.daemonkit.bench.ReadinessOnTerm ADMIN_PORT LAUNCHER_PID</pre>
 */
public final class ReadinessOnTerm {
    private ReadinessOnTerm() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: ReadinessOnTerm ADMIN_PORT LAUNCHER_PID");
            System.exit(2);
        }
        URI ready = URI.create("http://127.0.0.1:" + Integer.parseInt(args[0]) + "/health/ready");
        ProcessHandle launcher = ProcessHandle.of(Long.parseLong(args[1]))
                .orElseThrow(() -> new IllegalArgumentException("no process " + args[1]));
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        HttpRequest get =
                HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).build();

        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (status(http, get) != 200) {
            if (System.nanoTime() > until) {
                throw new IllegalStateException(ready + " never answered 200 within 30 s");
            }
            Thread.sleep(10); // waiting for the launcher to start: not part of the measurement
        }
        for (int i = 0; i < 200; i++) {
            status(http, get); // warm the client's code path and keep its connection open
        }
        long pollStart = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            status(http, get); // the baseline: one poll's round trip while ready
        }
        double pollMs = (System.nanoTime() - pollStart) / 100 / 1e6;
        long sent = System.nanoTime();
        if (!launcher.destroy()) {
            throw new IllegalStateException("could not send TERM to " + args[1]);
        }
        int polls = 0;
        long deadline = sent + Duration.ofSeconds(10).toNanos();
        while (true) {
            int status = status(http, get);
            polls++;
            if (status == 503) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("readiness still " + status + " 10 s after TERM");
            }
        }
        double ms = (System.nanoTime() - sent) / 1e6;
        System.out.printf(
                Locale.ROOT,
                "readiness 503 after %.2f ms (%d polls after TERM; one poll while ready: %.2f ms)%n",
                ms,
                polls,
                pollMs);
    }

    private static int status(HttpClient http, HttpRequest get) throws InterruptedException {
        try {
            return http.send(get, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1; // not up yet, or gone
        }
    }
}
