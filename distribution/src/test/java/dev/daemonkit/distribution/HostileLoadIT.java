package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One unauthenticated attacker against a launcher running every sample daemon on its default
 * budgets, in its own process with {@code ulimit -n 2048}; meanwhile a probe asks echo, the cache
 * and presence every 50 ms over connections opened before the attack. What the attacker gets: its
 * connections refused, cut or closed. What everyone else gets: answers, their stored items, their
 * connections, and no daemon stopped; no event loop held 1 s.
 */
class HostileLoadIT {
    private static final int DESCRIPTOR_LIMIT = 2048;

    @TempDir
    Path tmp;

    private LauncherProcess launcher;
    private int admin;
    private int echo;
    private int cache;
    private int presence;
    private int presenceHttp;
    private Probe probe;

    @BeforeEach
    void start() throws Exception {
        admin = LauncherProcess.freePort();
        echo = LauncherProcess.freePort();
        cache = LauncherProcess.freePort();
        presence = LauncherProcess.freePort();
        presenceHttp = LauncherProcess.freePort();
        launcher = new LauncherProcess(tmp, true);
        launcher.writeConfig("""
                daemonkit {
                  %s
                  admin { listen = "127.0.0.1:%d", request-timeout = 2 s }
                  # The issue's 200 ms is measured by benchmarks/attacks.sh (pinned CPUs, no leak detector);
                  # here, on a shared machine with Netty's paranoid leak detector, a loop held 1 s fails.
                  watchdog.threshold = 1 s
                  shutdown.grace = 2 s
                  daemon-defaults.request-timeout = 2 s
                }
                daemons {
                  echo.listen = "127.0.0.1:%d"
                  daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                  cache.listen = "127.0.0.1:%d"
                  presence {
                    listen = "127.0.0.1:%d"
                    listen-http = "127.0.0.1:%d"
                    rate-limit { per-second = 200, burst = 400 }
                  }
                }
                """.formatted(
                        transportConfig(),
                        admin,
                        echo,
                        LauncherProcess.freePort(),
                        LauncherProcess.freePort(),
                        cache,
                        presence,
                        presenceHttp));
        launcher.startWithDescriptorLimit(DESCRIPTOR_LIMIT);
        launcher.awaitStarted();
        probe = new Probe(echo, cache, presence);
        probe.start();
    }

    /** A line of the {@code daemonkit} block; {@link HostileLoadOnIoUringIT} runs the same attacks on io_uring. */
    String transportConfig() {
        return "";
    }

    /** The launcher's output so far. */
    String launcherOutput() {
        return launcher.output();
    }

    @AfterEach
    void stop() throws Exception {
        if (probe != null) {
            probe.close();
        }
        if (launcher != null) {
            assertThat(launcher.terminate()).isZero();
            launcher.close();
        }
    }

    @Test
    void descriptorFloodOnEveryListenerIsRefusedBeyondTheSharesAndNothingElseIsLost() throws Exception {
        List<Socket> flood = new ArrayList<>();
        try {
            for (int port : new int[] {admin, echo, cache, presence, presenceHttp}) {
                for (int i = 0; i < 450; i++) {
                    flood.add(connectQuietly(port));
                }
            }
            // Every daemon keeps its established clients, its items and its state.
            Thread.sleep(1_500); // the flood holds its connections while the probe goes on
            assertThat(probe.failures()).isEmpty();
            String metrics = get("/metrics").body();
            assertThat(sum(metrics, "daemonkit_connections_rejected_total"))
                    .as("refused beyond the shares")
                    .isPositive();
            assertThat(value(metrics, "daemonkit_connections_budget_used"))
                    .isLessThanOrEqualTo(value(metrics, "daemonkit_connections_budget"));
            // The operator gets in: an idle flood connection gives its place.
            HttpResponse<String> daemons = get("/daemons");
            assertThat(daemons.statusCode()).isEqualTo(200);
            assertThat(daemons.body()).doesNotContain("FAILED").doesNotContain("STOPPED");
        } finally {
            for (Socket s : flood) {
                if (s != null) {
                    s.close();
                }
            }
        }
        // New clients are served again within a second of the flood's end.
        await().atMost(Duration.ofSeconds(1))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() -> "after".equals(echoOnce(echo, "after")));
        probe.assertHealthy();
        assertThat(launcher.output())
                .doesNotContain("was removed; stopping its daemons")
                .doesNotContain("cannot be listed");
        assertThat(value(get("/metrics").body(), "daemonkit_eventloop_stalls_total"))
                .as(this::stalls)
                .isZero();
    }

    @Test
    void unfinishedHugeLinesAreRefusedByEachProtocolWithinItsBound() throws Exception {
        long rssBefore = rssKiB();
        ExecutorService attackers = Executors.newFixedThreadPool(8);
        try {
            // Each protocol answers with its own error: the cache and echo close the connection, presence
            // (ERR too-long) discards the rest of the line and keeps it. None of them holds the line.
            Map<Integer, String> error =
                    Map.of(cache, "SERVER_ERROR", echo, "ERROR line too long", presence, "ERR too-long");
            List<Future<String>> answers = new ArrayList<>();
            for (int port : new int[] {cache, echo, presence}) {
                for (int i = 0; i < 40; i++) {
                    answers.add(attackers.submit(() -> {
                        String answer = sendUnfinishedLine(port, 1 << 20);
                        return answer.equals("closed") || answer.startsWith(error.get(port))
                                ? "refused"
                                : port + ": " + answer;
                    }));
                }
            }
            for (Future<String> f : answers) {
                assertThat(f.get()).isEqualTo("refused");
            }
        } finally {
            attackers.shutdownNow();
        }
        String metrics = get("/metrics").body();
        for (String daemon : List.of("echo", "cache", "presence")) {
            assertThat(value(metrics, "daemonkit_inbound_buffered_bytes{daemon=\"" + daemon + "\"}"))
                    .isLessThanOrEqualTo(64.0 * 1024 * 1024);
        }
        probe.assertHealthy();
        System.out.printf("memory attack: launcher RSS %,d KiB before, %,d KiB after%n", rssBefore, rssKiB());
        assertThat(value(metrics, "daemonkit_eventloop_stalls_total"))
                .as(this::stalls)
                .isZero();
    }

    @Test
    void tricklingClientsOnEveryListenerAreClosedAtTheRequestDeadline() throws Exception {
        Map<String, Trickle> trickles = new ConcurrentHashMap<>();
        trickles.put("echo", new Trickle(echo, "", "a"));
        trickles.put("cache", new Trickle(cache, "", "g"));
        trickles.put("presence", new Trickle(presence, "", "P"));
        trickles.put("presence http header", new Trickle(presenceHttp, "GET / HTTP/1.1\r\n", "X: y\r\n"));
        trickles.put(
                "presence websocket handshake",
                new Trickle(
                        presenceHttp,
                        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n",
                        "Connection: Upgrade\r\n"));
        trickles.put("admin header", new Trickle(admin, "GET /health HTTP/1.1\r\n", "X: y\r\n"));
        ExecutorService pool = Executors.newFixedThreadPool(trickles.size());
        try {
            Map<String, Future<Long>> closedAfter = new ConcurrentHashMap<>();
            trickles.forEach((what, t) -> closedAfter.put(what, pool.submit(t::closedAfterMillis)));
            for (var e : closedAfter.entrySet()) {
                // request-timeout is 2 s; the deadline counts from the first byte, checked within a tick.
                assertThat(e.getValue().get())
                        .as(e.getKey() + ": closed after (ms)")
                        .isBetween(1_000L, 3_000L);
            }
        } finally {
            pool.shutdownNow();
        }
        probe.assertHealthy();
        String metrics = get("/metrics").body();
        assertThat(sum(metrics, "daemonkit_connections_deadline_closed_total")).isGreaterThanOrEqualTo(trickles.size());
        assertThat(value(metrics, "daemonkit_eventloop_stalls_total"))
                .as(this::stalls)
                .isZero();
    }

    // ---- the probe: another daemon's real clients, every 50 ms

    /** Asks echo, the cache and presence every 50 ms on connections opened before any attack. */
    private static final class Probe implements AutoCloseable {
        private final Line echo;
        private final Line cache;
        private final Line presence;
        private final List<Long> micros = Collections.synchronizedList(new ArrayList<>());
        private final List<String> failures = new CopyOnWriteArrayList<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread = new Thread(this::run, "probe");

        Probe(int echoPort, int cachePort, int presencePort) throws IOException {
            echo = new Line(echoPort);
            cache = new Line(cachePort);
            presence = new Line(presencePort);
            cache.send("set probe-item 0 0 5\r\nstays\r\n");
            assertThat(cache.readLine()).isEqualTo("STORED");
            presence.send("LOGIN prober\n");
            assertThat(presence.readLine()).isEqualTo("OK LOGIN prober");
            // Warm each path once, untimed: a fresh launcher's first requests load classes and compile.
            for (int i = 0; i < 20; i++) {
                assertThat(echo.request("warm\n")).isEqualTo("warm");
                assertThat(presence.request("PING warm\n")).isEqualTo("OK PING warm");
            }
        }

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            int i = 0;
            while (!stop.get()) {
                int n = ++i;
                try {
                    timed("echo", () -> echo.request("probe " + n + "\n"), "probe " + n);
                    timed(
                            "cache",
                            () -> {
                                cache.send("get probe-item\r\n");
                                String header = cache.readLine();
                                String value = cache.readLine();
                                String end = cache.readLine();
                                return header + "|" + value + "|" + end;
                            },
                            "VALUE probe-item 0 5|stays|END");
                    timed("presence", () -> presence.request("PING " + n + "\n"), "OK PING " + n);
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    failures.add(e.toString());
                    if (failures.size() > 20) {
                        return;
                    }
                }
            }
        }

        private interface Ask {
            String call() throws IOException;
        }

        private void timed(String what, Ask ask, String expected) throws IOException {
            long t0 = System.nanoTime();
            String got = ask.call();
            micros.add((System.nanoTime() - t0) / 1_000);
            if (!expected.equals(got)) {
                failures.add(what + ": expected '" + expected + "', got '" + got + "'");
            }
        }

        List<String> failures() {
            return failures;
        }

        /** Every probe answered correctly (within its read timeout); prints p50/p99/max for the record. */
        void assertHealthy() {
            assertThat(failures).as("probe failures").isEmpty();
            List<Long> sorted;
            synchronized (micros) {
                sorted = new ArrayList<>(micros);
            }
            Collections.sort(sorted);
            assertThat(sorted).isNotEmpty();
            long p50 = sorted.get(sorted.size() / 2);
            long p99 = sorted.get(Math.min(sorted.size() - 1, (int) (sorted.size() * 0.99)));
            long max = sorted.get(sorted.size() - 1);
            // Timings are the benchmark's (benchmarks/attacks.sh, pinned CPUs): here they include this JVM's
            // own scheduling while it opens thousands of sockets, so they are printed, not asserted. A probe
            // not answered within its 5 s read timeout is a failure above; a server loop held 1 s is a stall.
            System.out.printf("probe: %d answers, p50 %d us, p99 %d us, max %d us%n", sorted.size(), p50, p99, max);
        }

        @Override
        public void close() throws Exception {
            stop.set(true);
            thread.interrupt();
            thread.join(2_000);
            echo.close();
            cache.close();
            presence.close();
        }
    }

    /** A line connection with a read timeout. */
    private static final class Line implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        private final OutputStream out;

        Line(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(5_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = socket.getOutputStream();
        }

        void send(String s) throws IOException {
            out.write(s.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String readLine() throws IOException {
            return in.readLine();
        }

        String request(String s) throws IOException {
            send(s);
            return readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Sends {@code first}, then {@code each} every 300 ms, never finishing; measures when the server closes. */
    private record Trickle(int port, String first, String each) {
        long closedAfterMillis() throws IOException {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.setSoTimeout(300);
                long t0 = System.nanoTime();
                byte[] firstBytes = (first.isEmpty() ? each : first).getBytes(StandardCharsets.US_ASCII);
                s.getOutputStream().write(firstBytes);
                while (Duration.ofNanos(System.nanoTime() - t0).toSeconds() < 10) {
                    try {
                        if (s.getInputStream().read() == -1) {
                            return Duration.ofNanos(System.nanoTime() - t0).toMillis();
                        }
                    } catch (SocketTimeoutException stillOpen) {
                        try {
                            s.getOutputStream().write(each.getBytes(StandardCharsets.US_ASCII));
                        } catch (IOException reset) {
                            return Duration.ofNanos(System.nanoTime() - t0).toMillis();
                        }
                    } catch (IOException reset) {
                        return Duration.ofNanos(System.nanoTime() - t0).toMillis();
                    }
                }
                return -1; // never closed
            }
        }
    }

    // ---- helpers

    private static Socket connectQuietly(int port) {
        try {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
            return s;
        } catch (IOException refusedOrBacklogFull) {
            return null;
        }
    }

    /** Sends {@code bytes} of a line that never ends; returns the server's first line, or "closed". */
    private static String sendUnfinishedLine(int port, int bytes) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            byte[] chunk = new byte[16 * 1024];
            Arrays.fill(chunk, (byte) 'k');
            System.arraycopy("get ".getBytes(StandardCharsets.US_ASCII), 0, chunk, 0, 4);
            try {
                for (int sent = 0; sent < bytes; sent += chunk.length) {
                    s.getOutputStream().write(chunk);
                    chunk[0] = chunk[1] = chunk[2] = chunk[3] = 'k';
                }
            } catch (IOException closedWhileSending) {
                return "closed";
            }
            try {
                String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
                        .readLine();
                return line == null ? "closed" : line;
            } catch (SocketTimeoutException noAnswer) {
                return "no answer within 10 s";
            } catch (IOException reset) {
                return "closed";
            }
        }
    }

    private static String echoOnce(int port, String line) throws IOException {
        try (Line l = new Line(port)) {
            return l.request(line + "\n");
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The value of the metric line starting with {@code name} (exact name with labels, or unlabelled). */
    private static double value(String metrics, String name) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError("no metric " + name + " in:\n" + metrics);
    }

    /** The sum of a labelled metric over all its series. */
    private static double sum(String metrics, String name) {
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + "\\{[^}]*\\} (\\S+)$", Pattern.MULTILINE)
                .matcher(metrics);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(1));
        }
        return total;
    }

    /** The watchdog's stall reports in the launcher's output, with their stacks. */
    private String stalls() {
        String out = launcher.output();
        int at = out.indexOf("has been blocked for");
        return at < 0
                ? "no stall report in the output"
                : out.substring(Math.max(0, at - 200), Math.min(out.length(), at + 4000));
    }

    private long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + launcher.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        return -1;
    }
}
