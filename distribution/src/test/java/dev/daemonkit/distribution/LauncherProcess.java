package dev.daemonkit.distribution;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The built distribution copied into a temporary home and its launcher run as a separate process
 * through {@code bin/daemonkit}, as a user would run it.
 */
final class LauncherProcess implements AutoCloseable {
    final Path home;
    private Process process;
    private Thread reader;
    private final StringBuffer output = new StringBuffer();
    private String jvmOptions = "-Xmx256m -Dio.netty.leakDetection.level=paranoid";
    private final Map<String, String> environment = new LinkedHashMap<>();

    LauncherProcess(Path tempDir) throws IOException {
        this(tempDir, false);
    }

    /** @param allPlugins keep every sample plugin (echo, cache, presence), not only echo/daytime */
    LauncherProcess(Path tempDir, boolean allPlugins) throws IOException {
        Path dist = Path.of(System.getProperty("daemonkit.dist", "target/daemonkit"));
        if (!Files.isDirectory(dist.resolve("lib"))) {
            throw new IllegalStateException("no built distribution at " + dist + ": run mvn package first");
        }
        home = tempDir.resolve("daemonkit");
        copyTree(dist, home);
        // target/daemonkit/conf/daemonkit.conf is the developer's to edit (a rebuild keeps it): run on the shipped one.
        Files.createDirectories(home.resolve("conf"));
        Files.copy(
                Path.of(System.getProperty("daemonkit.shipped.conf", "src/main/dist/conf/daemonkit.conf")),
                home.resolve("conf/daemonkit.conf"),
                StandardCopyOption.REPLACE_EXISTING);
        // These tests are about the launcher: keep only the echo/daytime sample, so the other samples'
        // fixed ports (which a developer may be using) cannot interfere. Their own modules test them.
        // Jars a developer dropped into target/daemonkit/plugins (README walkthrough) are never kept.
        // presence is a folder (its jar and the libraries of its Redis broker).
        Set<String> kept = allPlugins ? Set.of("echo.jar", "cache.jar", "presence") : Set.of("echo.jar");
        try (Stream<Path> plugins = Files.list(home.resolve("plugins"))) {
            for (Path p : plugins.toList()) {
                if (!kept.contains(p.getFileName().toString())) {
                    try (Stream<Path> tree = Files.walk(p)) {
                        for (Path f :
                                tree.sorted(java.util.Comparator.reverseOrder()).toList()) {
                            Files.delete(f);
                        }
                    }
                }
            }
        }
        home.resolve("bin/daemonkit").toFile().setExecutable(true);
    }

    /**
     * A free port below the ephemeral range (32768+): a port the kernel hands out as "free" could
     * be taken as the source port of some client connection before the launcher binds it.
     */
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    static int freePort() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < 1000; i++) {
            int port = random.nextInt(20_000, 32_000);
            // Never the same port twice in one JVM: a test asks for several before any is bound, and two
            // equal ones put the admin endpoint and a daemon on one port (seen once in CI).
            if (canBind(port) && GIVEN.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port found in 20000-32000");
    }

    static boolean canBind(int port) {
        try (ServerSocket s = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Sends one line to an echo daemon on 127.0.0.1:{@code port} over a new connection; returns the line it answers. */
    static String echoLine(int port, String line) throws IOException {
        try (java.net.Socket s = connect(port)) {
            s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            return reader(s).readLine();
        }
    }

    /** A connection to 127.0.0.1:{@code port} whose reads give up after 10 s, so a silent daemon fails the test. */
    static java.net.Socket connect(int port) throws IOException {
        java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(10_000);
        return s;
    }

    /** {@code s}'s input as UTF-8 lines. */
    static BufferedReader reader(java.net.Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
    }

    void writeConfig(String hocon) throws IOException {
        Files.writeString(home.resolve("conf/daemonkit.conf"), hocon, StandardCharsets.UTF_8);
    }

    /** Adds a JVM option (DAEMONKIT_OPTS) for the next {@link #start}. */
    LauncherProcess jvmOption(String option) {
        jvmOptions += " " + option;
        return this;
    }

    /** Sets an environment variable (e.g. {@code NOTIFY_SOCKET}) for the next {@link #start}. */
    LauncherProcess env(String name, String value) {
        environment.put(name, value);
        return this;
    }

    LauncherProcess start(String... args) throws IOException {
        return startUnder(List.of(), args);
    }

    /** Starts the launcher with its file descriptor limit ({@code ulimit -n}) lowered to {@code limit}. */
    LauncherProcess startWithDescriptorLimit(int limit, String... args) throws IOException {
        return startUnder(List.of("bash", "-c", "ulimit -n " + limit + " && exec \"$0\" \"$@\""), args);
    }

    /** Starts {@code bin/daemonkit ARGS} under a wrapper command such as {@code nohup}. */
    LauncherProcess startUnder(List<String> wrapper, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(home.resolve("bin/daemonkit").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DAEMONKIT_OPTS", jvmOptions);
        pb.environment().putAll(environment);
        process = pb.start();
        reader = new Thread(
                () -> {
                    try (BufferedReader r = new BufferedReader(
                            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = r.readLine()) != null; ) {
                            output.append(line).append('\n');
                        }
                    } catch (IOException e) {
                        output.append("[reader failed: ").append(e).append("]\n");
                    }
                },
                "launcher-output");
        reader.setDaemon(true);
        reader.start();
        return this;
    }

    /** Runs {@code bin/daemonkit ARGS} (a control command) to completion; returns exit code and output. */
    Result command(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/daemonkit").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("bin/daemonkit " + String.join(" ", args) + " did not finish:\n" + out);
        }
        return new Result(p.exitValue(), out);
    }

    record Result(int exitCode, String output) {}

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** kill -9: the launcher gets no chance to clean up. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(60, TimeUnit.SECONDS);
    }

    void awaitStarted() {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> output.indexOf("Daemonkit started") >= 0 || !process.isAlive());
        if (!process.isAlive()) {
            throw new IllegalStateException("launcher exited with " + process.exitValue() + ":\n" + output);
        }
    }

    /**
     * Sends TERM with kill(1), as an init system would, and returns the exit code. (Process.destroy
     * sends TERM too, but closes our end of the output pipe, losing the launcher's last lines.)
     */
    int terminate() throws InterruptedException, IOException {
        new ProcessBuilder("kill", "-TERM", Long.toString(process.pid()))
                .inheritIO()
                .start()
                .waitFor();
        return awaitExit();
    }

    /** Sends {@code signal} (TERM, INT, HUP) with kill(1) and returns once kill has delivered it. */
    void signal(String signal) throws InterruptedException, IOException {
        int rc = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
                .inheritIO()
                .start()
                .waitFor();
        if (rc != 0) {
            throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed with " + rc);
        }
    }

    int awaitExit() throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("launcher did not exit within 60 s:\n" + output);
        }
        // The reader thread ends at the end of the output: then it has caught the last lines.
        reader.join(5_000);
        return process.exitValue();
    }

    String output() {
        return output.toString();
    }

    String log(String name) throws IOException {
        Path f = home.resolve("logs").resolve(name);
        return Files.exists(f) ? Files.readString(f) : "";
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            // Under a wrapper (systemd-socket-activate, a holder shell) the launcher is a child: a failed test
            // must not leave it running, holding its ports for the next test.
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    try {
                        Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }
    }
}
