import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.daemonkit.logging.LogContext;
import dev.daemonkit.logging.LoggingSystem;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * CPU per INFO line of the default logging configuration (the line in logs/echo.log and in
 * logs/daemonkit.log), by thread: the thread that logs (the MDC of the line's connection, the call),
 * the files' writer and the archiver that compresses rolled files. Runs the framework's logging
 * alone, in process, at a fixed rate of lines, so that it measures CPU spent rather than throughput:
 * on a shared machine, throughput moves with the neighbours' load, CPU per line much less.
 *
 * <pre>
 * taskset -c 0 java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -cp "DIST/lib/*" benchmarks/logging/LogLineCost.java \
 *     COMPRESSION LINES RATE
 * </pre>
 *
 * COMPRESSION: zstd, gzip or none ({@code rolling.compression} of both files); LINES measured after
 * as many again at the same rate as warm-up; RATE lines per second. Files roll at 10 MiB, so a run
 * compresses many rolled files. Run by {@code benchmarks/logging-cpu.sh}.
 */
public class LogLineCost {

    private static final int BURST = 64;
    /** The connection whose scope is in force (the logging thread only). */
    private static int current;

    private static String[] conns;
    private static String[] peers;
    /** Whether its keys are in the MDC. */
    private static boolean filled;

    public static void main(String[] args) throws Exception {
        String compression = args[0];
        long lines = Long.parseLong(args[1]);
        long rate = Long.parseLong(args[2]);
        Path logs = Files.createTempDirectory("log-line-cost");
        // "default": leave rolling.compression unset (a build from before the key compresses with gzip).
        String rolling = "rolling { max-file-size = 10 MiB"
                + (compression.equals("default") ? "" : ", compression = " + compression) + " }";
        LoggingSystem logging =
                LoggingSystem.start(ConfigFactory.parseString("console.enabled = false\n" + rolling), logs, false, null);
        Config daemon = ConfigFactory.parseString(rolling);
        logging.addDaemon("echo", daemon);
        Logger log = LoggerFactory.getLogger("dev.daemonkit.samples.echo.LineLog");
        conns = new String[50];
        peers = new String[50];
        for (int i = 0; i < conns.length; i++) {
            conns[i] = Integer.toString(1000 + i);
            peers[i] = "127.0.0.1:" + (41000 + i * 7);
        }
        MDC.put(LogContext.DAEMON, "echo");
        // As the core does: a connection's id and peer are lazy keys, asked for only when a line is
        // built. A build whose outputs take them with the line calls value(); an older one has them put
        // in the MDC (fill()), and the scope's end takes them out again.
        LogContext.fillLazily(new LogContext.LazyKeys() {
            @Override
            public void fill() {
                MDC.put(LogContext.CONNECTION, conns[current]);
                MDC.put(LogContext.PEER, peers[current]);
                filled = true;
            }

            // No @Override: builds before the method existed compile this file too.
            public String value(String key) {
                return filled ? null : key.equals(LogContext.CONNECTION) ? conns[current] : peers[current];
            }
        });
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();

        run(log, conns, peers, lines, rate, mx); // warm-up
        Map<String, Long> before = cpuByThread(mx);
        long droppedBefore = logging.droppedEvents();
        long callNanos = run(log, conns, peers, lines, rate, mx);
        awaitWritten(logging);
        awaitCompressed(logs);
        Map<String, Long> after = cpuByThread(mx);
        long dropped = logging.droppedEvents() - droppedBefore;
        long written = lines - dropped / 2; // dropped counts once per file
        long archived;
        try (Stream<Path> files = Files.list(logs)) {
            archived = files.filter(p -> p.getFileName().toString().matches(".*\\.\\d+\\.log(\\.gz|\\.zst)?"))
                    .mapToLong(LogLineCost::size)
                    .sum();
        }
        logging.close();

        StringBuilder out = new StringBuilder();
        out.append(String.format("%-5s logging-thread(calls)=%.3f", compression, callNanos / 1e3 / lines));
        long others = 0;
        for (Map.Entry<String, Long> e : after.entrySet()) {
            long used = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            if (e.getKey().equals("daemonkit-log-files") || e.getKey().equals("daemonkit-log-archive")) {
                out.append(String.format(" %s=%.3f", e.getKey().substring("daemonkit-log-".length()), used / 1e3 / written));
            } else if (!e.getKey().equals(Thread.currentThread().getName())) {
                others += used;
            }
        }
        out.append(String.format(" other-java-threads=%.3f us/line; dropped=%d; rolled files %d MB", others / 1e3 / written,
                dropped, archived >> 20));
        System.out.println(out);
        deleteAll(logs);
    }

    /** Logs {@code lines} at {@code rate}, in bursts; returns the logging thread's CPU inside the bursts. */
    private static long run(Logger log, String[] conns, String[] peers, long lines, long rate, ThreadMXBean mx) {
        // conns and peers: the static fields, passed for readability.
        long start = System.nanoTime();
        long cpu = 0;
        for (long i = 0; i < lines; i += BURST) {
            long c0 = mx.getCurrentThreadCpuTime();
            for (int j = 0; j < BURST; j++) {
                // As the event loop does at depth 1: one connection's scope per line, its keys
                // taken out at the scope's end if they were put.
                current = (int) ((i + j) % conns.length);
                log.info("echo {} bytes", 8 + (j & 3));
                if (filled) {
                    MDC.remove(LogContext.CONNECTION);
                    MDC.remove(LogContext.PEER);
                    filled = false;
                }
            }
            cpu += mx.getCurrentThreadCpuTime() - c0;
            long due = start + (i + BURST) * 1_000_000_000L / rate;
            while (System.nanoTime() < due) {
                Thread.onSpinWait(); // the rest of the requests' work
            }
        }
        return cpu;
    }

    private static Map<String, Long> cpuByThread(ThreadMXBean mx) {
        Map<String, Long> cpu = new HashMap<>();
        for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info != null) {
                long t = mx.getThreadCpuTime(info.getThreadId());
                if (t > 0) {
                    cpu.merge(info.getThreadName(), t, Long::sum);
                }
            }
        }
        return cpu;
    }

    /** Waits (at most a minute) until no rolled file waits for compression. */
    /**
     * Until the writer has written every line of the run: LoggingSystem.awaitWritten, looked up by name
     * because this file is also compiled against builds from before that method (for the A/B of
     * logging-cpu.sh); those get the fixed pause this harness used before, a guess named in benchmarks.md.
     */
    private static void awaitWritten(LoggingSystem logging) throws Exception {
        java.lang.reflect.Method await;
        try {
            await = LoggingSystem.class.getMethod("awaitWritten", java.time.Duration.class);
        } catch (NoSuchMethodException olderBuild) {
            Thread.sleep(1000);
            return;
        }
        if (!(Boolean) await.invoke(logging, java.time.Duration.ofSeconds(60))) {
            throw new IllegalStateException("the log writer did not write the run's lines within 60 s");
        }
    }

    private static void awaitCompressed(Path logs) throws Exception {
        for (int i = 0; i < 600; i++) {
            try (Stream<Path> files = Files.list(logs)) {
                if (files.noneMatch(p -> p.getFileName().toString().matches(".*\\.\\d+\\.log(\\.gz\\.part|\\.zst\\.part)?"))) {
                    return;
                }
            }
            Thread.sleep(100);
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (Exception e) {
            return 0;
        }
    }

    private static void deleteAll(Path dir) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
