package dev.daemonkit.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The attacks of the isolation issue, one after another against a running launcher, while a probe
 * asks echo, the cache and presence every 50 ms on connections opened before any attack. Prints, per
 * phase (a quiet baseline first), the probe's p50/p99/max, probe failures, new stalls, and the
 * launcher's RSS; and per attack what the attacker got. Bounded: every phase ends by itself.
 *
 * <pre>
 * java -cp bots.jar dev.daemonkit.bench.Attacks ADMIN ECHO CACHE PRESENCE PRESENCE_HTTP LAUNCHER_PID [PHASES]
 *   PHASES: comma-separated of baseline,flood-admin,flood-all,memory,slowloris (default: all)
 * </pre>
 */
public final class Attacks {
    private final int admin;
    private final int echo;
    private final int cache;
    private final int presence;
    private final int presenceHttp;
    private final long pid;

    private Attacks(int admin, int echo, int cache, int presence, int presenceHttp, long pid) {
        this.admin = admin;
        this.echo = echo;
        this.cache = cache;
        this.presence = presence;
        this.presenceHttp = presenceHttp;
        this.pid = pid;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 6) {
            System.err.println("usage: Attacks ADMIN ECHO CACHE PRESENCE PRESENCE_HTTP LAUNCHER_PID [PHASES]");
            System.exit(2);
        }
        int[] p = Arrays.stream(args, 0, 5).mapToInt(Integer::parseInt).toArray();
        Attacks a = new Attacks(p[0], p[1], p[2], p[3], p[4], Long.parseLong(args[5]));
        List<String> phases =
                List.of((args.length > 6 ? args[6] : "baseline,flood-admin,flood-all,memory,slowloris").split(","));
        a.run(phases);
    }

    private void run(List<String> phases) throws Exception {
        try (Probe probe = new Probe()) {
            probe.start();
            System.out.printf(
                    Locale.ROOT,
                    "%-12s %8s %9s %9s %9s %8s %7s %10s  %s%n",
                    "phase",
                    "probes",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "failed",
                    "stalls",
                    "RSS MiB",
                    "attacker got");
            for (String phase : phases) {
                double stallsBefore = metric("daemonkit_eventloop_stalls_total");
                probe.reset();
                String got = switch (phase) {
                    case "baseline" -> pause(10_000, "nothing: no attack");
                    case "flood-admin" -> flood(new int[] {admin}, 18_500);
                    case "flood-all" -> flood(new int[] {echo, cache, presence, presenceHttp}, 4_700);
                    case "memory" -> memory();
                    case "slowloris" -> slowloris();
                    default -> throw new IllegalArgumentException("unknown phase " + phase);
                };
                Histogram h = probe.interval();
                double stalls = metric("daemonkit_eventloop_stalls_total") - stallsBefore;
                System.out.printf(
                        Locale.ROOT,
                        "%-12s %8d %9.2f %9.2f %9.2f %8d %7.0f %10d  %s%n",
                        phase,
                        h.getTotalCount(),
                        h.getValueAtPercentile(50) / 1000.0,
                        h.getValueAtPercentile(99) / 1000.0,
                        h.getMaxValue() / 1000.0,
                        probe.failures.sumThenReset(),
                        stalls,
                        rssKiB() / 1024,
                        got);
            }
        }
    }

    private static String pause(long ms, String what) throws InterruptedException {
        Thread.sleep(ms);
        return what;
    }

    /** Opens {@code each} plain connections to every port, holds them 10 s, closes them; then times a new client. */
    private String flood(int[] ports, int each) throws Exception {
        List<Socket> held = new ArrayList<>();
        int failed = 0;
        int closedByServer = 0;
        try {
            for (int port : ports) {
                for (int i = 0; i < each; i++) {
                    try {
                        Socket s = new Socket();
                        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1_000);
                        held.add(s);
                    } catch (IOException e) {
                        failed++;
                    }
                }
            }
            Thread.sleep(10_000);
            for (Socket s : held) {
                s.setSoTimeout(1);
                try {
                    if (s.getInputStream().read() == -1) {
                        closedByServer++;
                    }
                } catch (SocketTimeoutException open) {
                    // still held by the server
                } catch (IOException reset) {
                    closedByServer++;
                }
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
        long t0 = System.nanoTime();
        long servedAfter = -1;
        while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10)) {
            try (Line l = new Line(echo)) {
                if (l.request("after\n").equals("after")) {
                    servedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    break;
                }
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        return String.format(
                Locale.ROOT,
                "%d connects, %d failed, %d closed by the server (refused or evicted), %d held;"
                        + " a new echo client served %d ms after the flood",
                ports.length * each,
                failed,
                closedByServer,
                held.size() - closedByServer,
                servedAfter);
    }

    /** 700 connections each send an unfinished 1 MB {@code get kkk...} line to the cache. */
    private String memory() throws Exception {
        long before = rssKiB();
        ExecutorService pool = Executors.newFixedThreadPool(32);
        LongAdder refused = new LongAdder();
        long[] peak = {before};
        AtomicBoolean done = new AtomicBoolean();
        Thread sampler = new Thread(() -> {
            while (!done.get()) {
                peak[0] = Math.max(peak[0], rssKiB());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.start();
        List<Future<?>> all = new ArrayList<>();
        for (int i = 0; i < 700; i++) {
            all.add(pool.submit(() -> {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), cache)) {
                    s.setSoTimeout(10_000);
                    byte[] chunk = new byte[16 * 1024];
                    Arrays.fill(chunk, (byte) 'k');
                    System.arraycopy("get ".getBytes(StandardCharsets.US_ASCII), 0, chunk, 0, 4);
                    OutputStream out = s.getOutputStream();
                    for (int sent = 0; sent < (1 << 20); sent += chunk.length) {
                        out.write(chunk);
                        chunk[0] = chunk[1] = chunk[2] = chunk[3] = 'k';
                    }
                    if (s.getInputStream().read() != -1) {
                        refused.increment(); // the cache's error line, then its close
                    }
                } catch (IOException closedWhileSending) {
                    refused.increment();
                }
                return null;
            }));
        }
        for (Future<?> f : all) {
            f.get();
        }
        pool.shutdownNow();
        done.set(true);
        sampler.join();
        Thread.sleep(10_000);
        return String.format(
                Locale.ROOT,
                "700 x 1 MB unfinished lines: %d refused; RSS %d MiB before, %d peak, %d 10 s after",
                refused.sum(),
                before / 1024,
                peak[0] / 1024,
                rssKiB() / 1024);
    }

    /** 250 trickling connections on each of echo, cache, presence, presence http: one byte every 5 s. */
    private String slowloris() throws Exception {
        Map<SocketChannel, Long> opened = new LinkedHashMap<>();
        List<Long> closedAfterMs = new ArrayList<>();
        try (Selector selector = Selector.open()) {
            for (int port : new int[] {echo, cache, presence, presenceHttp}) {
                for (int i = 0; i < 250; i++) {
                    SocketChannel ch =
                            SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                    ch.configureBlocking(false);
                    ch.write(ByteBuffer.wrap(
                            (port == presenceHttp ? "GET / HTTP/1.1\r\n" : "g").getBytes(StandardCharsets.US_ASCII)));
                    ch.register(selector, SelectionKey.OP_READ);
                    opened.put(ch, System.nanoTime());
                }
            }
            long start = System.nanoTime();
            long nextTrickle = start + TimeUnit.SECONDS.toNanos(5);
            ByteBuffer sink = ByteBuffer.allocate(4096);
            while (!opened.isEmpty() && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(60)) {
                selector.select(100);
                for (SelectionKey k : selector.selectedKeys()) {
                    SocketChannel ch = (SocketChannel) k.channel();
                    int n;
                    try {
                        sink.clear();
                        n = ch.read(sink);
                    } catch (IOException reset) {
                        n = -1;
                    }
                    if (n == -1) {
                        closedAfterMs.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened.remove(ch)));
                        k.cancel();
                        ch.close();
                    }
                }
                selector.selectedKeys().clear();
                if (System.nanoTime() >= nextTrickle) {
                    nextTrickle += TimeUnit.SECONDS.toNanos(5);
                    for (SocketChannel ch : List.copyOf(opened.keySet())) {
                        try {
                            ch.write(ByteBuffer.wrap(new byte[] {'x'}));
                        } catch (IOException reset) {
                            // seen as closed by the next read
                        }
                    }
                }
            }
            for (SocketChannel ch : opened.keySet()) {
                ch.close();
            }
        }
        closedAfterMs.sort(null);
        return closedAfterMs.isEmpty()
                ? "none closed within 60 s"
                : String.format(
                        Locale.ROOT,
                        "%d of 1000 closed, after %.1f s (first) / %.1f s (median) / %.1f s (last); %d still open at 60 s",
                        closedAfterMs.size(),
                        closedAfterMs.get(0) / 1000.0,
                        closedAfterMs.get(closedAfterMs.size() / 2) / 1000.0,
                        closedAfterMs.get(closedAfterMs.size() - 1) / 1000.0,
                        opened.size());
    }

    /** Echo line, cache get, presence PING every 50 ms, each timed. */
    private final class Probe implements AutoCloseable {
        private final Recorder recorder = new Recorder(3);
        private final LongAdder failures = new LongAdder();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread = new Thread(this::loop, "probe");
        private final Line e;
        private final Line c;
        private final Line p;
        private Histogram recycled;

        Probe() throws IOException {
            e = new Line(echo);
            c = new Line(cache);
            p = new Line(presence);
            c.request("set probe-item 0 0 5\r\nstays\r\n");
            p.request("LOGIN prober\n");
        }

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        private void loop() {
            long n = 0;
            while (!stop.get()) {
                n++;
                try {
                    time(e.request("probe " + n + "\n").equals("probe " + n), System.nanoTime());
                    long t0 = System.nanoTime();
                    c.send("get probe-item\r\n");
                    boolean ok = c.readLine().startsWith("VALUE probe-item")
                            & c.readLine().equals("stays")
                            & c.readLine().equals("END");
                    time(ok, t0);
                    t0 = System.nanoTime();
                    time(p.request("PING " + n + "\n").equals("OK PING " + n), t0);
                    Thread.sleep(50);
                } catch (InterruptedException stopped) {
                    return;
                } catch (IOException | RuntimeException broken) {
                    failures.increment();
                    return; // the probe's connection is gone: a failure the summary shows
                }
            }
        }

        private void time(boolean ok, long t0) {
            recorder.recordValue(Math.max(1, (System.nanoTime() - t0) / 1_000));
            if (!ok) {
                failures.increment();
            }
        }

        void reset() {
            recycled = recorder.getIntervalHistogram(recycled);
        }

        Histogram interval() {
            recycled = recorder.getIntervalHistogram(recycled);
            return recycled;
        }

        @Override
        public void close() throws IOException {
            stop.set(true);
            thread.interrupt();
            e.close();
            c.close();
            p.close();
        }
    }

    /** A blocking line connection with a 10 s read timeout. */
    private static final class Line implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        private final OutputStream out;

        Line(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = socket.getOutputStream();
        }

        void send(String s) throws IOException {
            out.write(s.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String readLine() throws IOException {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("closed by the server");
            }
            return line;
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

    private double metric(String name) {
        try {
            HttpURLConnection c = (HttpURLConnection)
                    URI.create("http://127.0.0.1:" + admin + "/metrics").toURL().openConnection();
            c.setConnectTimeout(2_000);
            c.setReadTimeout(5_000);
            String body = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("^" + Pattern.quote(name) + " (\\S+)$", Pattern.MULTILINE)
                    .matcher(body);
            return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    private long rssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D+", ""));
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }
}
