package dev.daemonkit.samples.presence;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real redis-server for a test, on a free port of 127.0.0.1 with a temporary folder and no persistence. Without
 * redis-server on the machine the test is skipped, unless {@code DAEMONKIT_REQUIRE_REDIS=1} (CI), which makes it fail.
 */
final class RedisServer implements AutoCloseable {
    private final String binary;
    private final Path dir;
    final int port;
    private Process process;

    private RedisServer(String binary, int port) throws IOException {
        this.binary = binary;
        this.port = port;
        this.dir = Files.createTempDirectory("daemonkit-redis-");
    }

    /** Starts one; skips the test (or fails it in CI) when redis-server is not installed. */
    static RedisServer start() throws Exception {
        String binary = find();
        boolean required = "1".equals(System.getenv("DAEMONKIT_REQUIRE_REDIS"));
        if (binary == null && required) {
            throw new AssertionError("redis-server is not installed, and DAEMONKIT_REQUIRE_REDIS=1: apt-get install"
                    + " redis-server (.ci/run does)");
        }
        assumeTrue(binary != null, "redis-server is not installed (apt-get install redis-server); skipped");
        RedisServer r = new RedisServer(binary, freePort());
        r.startProcess();
        return r;
    }

    private static String find() {
        for (String p : List.of("/usr/bin/redis-server", "/usr/local/bin/redis-server")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return null;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    /** Every redis-server this JVM started and has not stopped: killed when the JVM exits, however a test ends. */
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly), "redis-server-reaper"));
    }

    /** Starts redis-server again on the same port (after {@link #stop}), and waits until it answers PING. */
    void startProcess() throws Exception {
        process = new ProcessBuilder(
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
                        dir.toString(),
                        "--daemonize",
                        "no",
                        "--loglevel",
                        "warning")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile())
                .start();
        RUNNING.add(process);
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(20))
                .failFast("redis-server exited; see " + dir.resolve("redis.log"), () -> !process.isAlive())
                .until(this::answers);
    }

    private boolean answers() {
        try {
            return "+PONG".equals(command("PING"));
        } catch (IOException notYet) {
            return false;
        }
    }

    /** Kills redis-server (SIGKILL: its clients see the connection drop), and waits until it is gone. */
    void stop() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            RUNNING.remove(process);
            process = null;
        }
    }

    /** SIGSTOP / SIGCONT: a Redis that holds its connections open and answers nothing, then resumes. */
    void pause(boolean paused) throws Exception {
        new ProcessBuilder("kill", paused ? "-STOP" : "-CONT", String.valueOf(process.pid()))
                .inheritIO()
                .start()
                .waitFor(10, TimeUnit.SECONDS);
    }

    /** One inline command, its first reply line. */
    String command(String line) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    @Override
    public void close() throws Exception {
        stop();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
