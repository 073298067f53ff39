package dev.daemonkit.samples.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.testkit.LogLine;
import dev.daemonkit.testkit.TestLauncher;
import io.netty.channel.uring.IoUring;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;

/**
 * The two servers the tests talk to, started once per test JVM and stopped when it exits: the cache
 * daemon in a real launcher in this process (the test kit's {@link TestLauncher}: its plugin jar packed
 * from target/classes, loaded by the launcher's plugin class loader as in production), and a real
 * memcached 1.6.18 process ({@code -t 1} on a free loopback port, text protocol only with {@code -B ascii}, as the cache daemon is) when its
 * binary is installed.
 *
 * <p>Without memcached, tests that need it are skipped with a message; with
 * {@code DAEMONKIT_REQUIRE_MEMCACHED=1} (CI) they fail instead.
 */
final class Servers {
    /** A server under test: a name for test reports and its address. */
    record Target(String name, InetSocketAddress address) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Target cache;
    private static Target cacheOnIoUring;
    private static Target memcached;
    private static String memcachedProblem;

    private Servers() {}

    static synchronized Target cache() {
        if (cache == null) {
            cache = startCacheDaemon();
        }
        return cache;
    }

    /** The real memcached, or a skipped (or, in CI, failed) test. */
    static synchronized Target memcached() {
        if (memcached == null && memcachedProblem == null) {
            try {
                memcached = startMemcached();
            } catch (IOException e) {
                memcachedProblem = "memcached could not be started: " + e;
            }
        }
        if (memcached == null) {
            requireOrSkip(memcachedProblem);
        }
        return memcached;
    }

    /**
     * The cache daemon in a second launcher, on the io_uring transport with a 512-buffer ring; null where io_uring
     * does not load.
     */
    static synchronized Target cacheOnIoUring() {
        if (cacheOnIoUring == null && IoUring.isAvailable()) {
            cacheOnIoUring = startCacheDaemon("io_uring");
        }
        return cacheOnIoUring;
    }

    /**
     * Every server where available: the cache daemon always (on the default transport, and on io_uring where it
     * loads), memcached if installed (or required).
     */
    static List<Target> all() {
        List<Target> targets = new ArrayList<>();
        targets.add(cache());
        if (cacheOnIoUring() != null) {
            targets.add(cacheOnIoUring());
        }
        if (binary("memcached") != null || required()) {
            targets.add(memcached());
        }
        return targets;
    }

    static boolean required() {
        return "1".equals(System.getenv("DAEMONKIT_REQUIRE_MEMCACHED"));
    }

    /** Skips the calling test with {@code problem}, or fails it when memcached is required. */
    static void requireOrSkip(String problem) {
        if (required()) {
            throw new AssertionError(problem + " (DAEMONKIT_REQUIRE_MEMCACHED=1: install it with "
                    + "apt-get install memcached libmemcached-tools)");
        }
        Assumptions.assumeTrue(false, problem + ": skipped. Install memcached and libmemcached-tools to run it.");
    }

    /** The path of an installed program, or null. */
    static Path binary(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : (path + ":/usr/bin:/usr/local/bin:/usr/sbin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** The path of a program a test needs, or a skipped (in CI, failed) test. */
    static Path requireBinary(String name, String debianPackage) {
        Path p = binary(name);
        if (p == null) {
            requireOrSkip(name + " is not installed (Debian package " + debianPackage + ")");
        }
        return p;
    }

    private static Target startMemcached() throws IOException {
        Path bin = binary("memcached");
        if (bin == null) {
            memcachedProblem = "memcached is not installed (Debian package memcached)";
            return null;
        }
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(
                bin.toString(), "-p", Integer.toString(port), "-U", "0", "-l", "127.0.0.1", "-t", "1", "-B", "ascii"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add("-u");
            cmd.add("root"); // memcached refuses to run as root without being told which user to be
        }
        Process process = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroy));
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        Awaitility.await("memcached listening on " + address)
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("memcached exited with " + process.exitValue());
                    }
                    try (Socket s = new Socket(address.getAddress(), port)) {
                        return true;
                    } catch (IOException e) {
                        return false;
                    }
                });
        return new Target("memcached-1.6.18", address);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Target startCacheDaemon() {
        return startCacheDaemon("auto");
    }

    private static Target startCacheDaemon(String transport) {
        TestLauncher launcher = TestLauncher.withPlugin(CachePlugin.class)
                // On io_uring with a provided buffer ring (off by default): every test of all() covers its reads.
                .config("daemons.cache.listen = \"127.0.0.1:0\"\ndaemonkit.transport.native = " + transport
                        + "\ndaemonkit.transport.io-uring-buffer-ring = 512")
                .start();
        Runtime.getRuntime().addShutdownHook(new Thread(launcher::close));
        InetSocketAddress bound = launcher.address("cache");
        assertThat(bound).as("the cache daemon's bound address").isNotNull();
        if (transport.equals("auto")) {
            return new Target("cache-daemon", bound);
        }
        assertThat(launcher.logs().stream().map(LogLine::message).filter(m -> m.startsWith("transport: ")))
                .as("the transport the launcher runs on")
                .anyMatch(m -> m.startsWith("transport: " + transport + " ")
                        && m.endsWith("a provided buffer ring of 512 buffers per loop"));
        return new Target("cache-daemon-" + transport, bound);
    }
}
