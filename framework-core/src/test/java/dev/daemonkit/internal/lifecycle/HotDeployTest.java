package dev.daemonkit.internal.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.TestCertificates;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Plugins added, replaced and removed while the launcher runs and clients talk to them. */
class HotDeployTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    int port;

    @BeforeEach
    void setUp() throws Exception {
        port = TestHome.freePort();
        home.config(watching(true));
    }

    /** Watch the plugins folder every 50 ms; {@code withVer}: the "ver" daemon on known TCP and UDP ports. */
    private String watching(boolean withVer) {
        return """
                daemonkit.plugins.watch = true
                daemonkit.plugins.scan-interval = 50 ms
                """
                + (withVer
                        ? "daemons.ver { listen = \"127.0.0.1:" + port + "\", listen-udp = \"127.0.0.1:" + port
                                + "\" }\n"
                        : "");
    }

    private String askUdp(String text) throws IOException {
        try (DatagramSocket udp = new DatagramSocket()) {
            udp.setSoTimeout(5_000);
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            udp.send(new DatagramPacket(b, b.length, address()));
            DatagramPacket reply = new DatagramPacket(new byte[256], 256);
            udp.receive(reply);
            return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
        }
    }

    private InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** Puts a jar in place the way a careful deploy script does: write aside, then rename. */
    private void install(byte[] jar) throws IOException {
        Path tmp = home.plugins().resolve(".ver.jar.part");
        Files.write(tmp, jar);
        Files.move(
                tmp,
                home.plugins().resolve("ver.jar"),
                StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private String ask(String line) throws IOException {
        try (var c = new LineClient(address())) {
            return c.request(line);
        }
    }

    @Test
    void aJarDroppedInIsLoadedAndServes() throws Exception {
        home.config(watching(false)); // a block for a plugin not installed yet would be a config error
        var launcher = home.start();
        assertThat(launcher.daemon("ver")).isNull();
        install(Jars.versioned("v1"));
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        launcher.daemon("ver") != null && launcher.daemon("ver").state() == DaemonState.RUNNING);
        try (var c = new LineClient(launcher.daemon("ver").listeners().get(0).boundAddress())) {
            assertThat(c.request("hello")).isEqualTo("v1:hello");
        }
    }

    @Test
    void replacingAJarSwapsVersionsWithoutRefusingOrLosingARequest() throws Exception {
        install(Jars.versioned("v1"));
        var launcher = home.start();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger answered = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        Set<String> versions = ConcurrentHashMap.newKeySet();
        ExecutorService clients = Executors.newFixedThreadPool(2);
        assertThat(askUdp("u")).isEqualTo("v1:u");
        try (var longLived = new LineClient(address())) {
            assertThat(longLived.request("before")).isEqualTo("v1:before");
            for (int t = 0; t < 2; t++) {
                int id = t;
                clients.execute(() -> {
                    for (int i = 0; running.get() && i < 1_000_000; i++) {
                        try {
                            String reply = ask("c" + id + "-" + i);
                            if (reply != null && reply.endsWith(":c" + id + "-" + i)) {
                                versions.add(reply.substring(0, 2));
                                answered.incrementAndGet();
                            } else {
                                failed.incrementAndGet();
                            }
                        } catch (IOException e) {
                            failed.incrementAndGet();
                        }
                    }
                });
            }
            await().until(() -> answered.get() > 50);
            install(Jars.versioned("v2"));
            await().atMost(Duration.ofSeconds(10)).until(() -> versions.contains("v2"));
            int atSwap = answered.get();
            await().until(() -> answered.get() > atSwap + 50);
            running.set(false);
            clients.shutdown();
            assertThat(clients.awaitTermination(10, TimeUnit.SECONDS)).isTrue();

            assertThat(failed.get())
                    .as("connections refused or requests unanswered")
                    .isZero();
            assertThat(versions).containsExactlyInAnyOrder("v1", "v2");
            assertThat(ask("after")).isEqualTo("v2:after");
            // UDP has no connections to keep: the new version took the port over.
            assertThat(askUdp("u")).isEqualTo("v2:u");
            // The connection opened before the swap still talks to the old version.
            assertThat(longLived.request("still")).isEqualTo("v1:still");
        }
        // Once its last connection is gone, the old version's class loader is collected.
        await().atMost(Duration.ofSeconds(20))
                .until(() -> launcher.unloader().outcomes().size() == 1
                        && launcher.unloader().outcomes().get(0).isDone());
        Unloader.Outcome outcome = launcher.unloader().outcomes().get(0).get();
        assertThat(outcome.collected())
                .as("old class loader collected; holders: " + outcome.holders())
                .isTrue();
        assertThat(outcome.what()).contains("ver.jar");
    }

    /**
     * Netty starts an event loop's thread on its first task, and a plugin's start may be what hands it one (Lettuce
     * connecting from its start does): such a thread inherited the plugin's loader as context class loader, and the
     * plugin's protection domain through its access control context, and outlived the version.
     */
    @Test
    void faultAPluginStartingTheLaunchersEventLoopsFromItsStartIsStillUnloadedWhenReplaced() throws Exception {
        home.config(watching(false) + "daemonkit.transport.io-threads = 4\n");
        Path jar = home.plugins().resolve("starter.jar");
        Files.write(jar, Jars.loopStarter("v1"));
        var launcher = home.start();
        try (var c =
                new LineClient(launcher.daemon("starter").listeners().get(0).boundAddress())) {
            assertThat(c.request("x")).isEqualTo("v1:x");
            // The contract (docs/plugin-guide.md): hooks see the plugin's loader, framework threads never do.
            assertThat(c.request("hook")).startsWith("PluginClassLoader[starter");
            assertThat(c.request("loop")).startsWith("SharedClasses[");
        }
        Path tmp = home.plugins().resolve(".starter.jar.part");
        Files.write(tmp, Jars.loopStarter("v2"));
        Files.move(tmp, jar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> launcher.unloader().outcomes().size() == 1
                        && launcher.unloader().outcomes().get(0).isDone());
        Unloader.Outcome outcome = launcher.unloader().outcomes().get(0).get();
        assertThat(outcome.collected())
                .as("old class loader collected; holders: " + outcome.holders())
                .isTrue();
        try (var c =
                new LineClient(launcher.daemon("starter").listeners().get(0).boundAddress())) {
            assertThat(c.request("x")).isEqualTo("v2:x");
        }
    }

    @Test
    void replacingTheJarOfATlsDaemonKeepsItsOpenTlsConnectionOnTheOldVersionAndUnloadsIt() throws Exception {
        Path certs = Files.createDirectories(home.plugins().getParent().resolve("certs"));
        TestCertificates ca = TestCertificates.newCa("hot-ca");
        TestCertificates.Issued server = ca.server(certs, "server", Duration.ofDays(1));
        home.config(watching(true) + "daemons.ver.tls.listen { cert-file = \"" + server.certFile() + "\", key-file = \""
                + server.keyFile() + "\" }\n");
        install(Jars.versioned("v1"));
        var launcher = home.start();
        SSLContext client = ca.clientContext(null);
        try (SSLSocket longLived =
                (SSLSocket) client.getSocketFactory().createSocket(address().getAddress(), port)) {
            longLived.setSoTimeout(10_000);
            var in = new java.io.BufferedReader(
                    new java.io.InputStreamReader(longLived.getInputStream(), StandardCharsets.UTF_8));
            longLived.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("v1:hello");

            install(Jars.versioned("v2"));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> askTls(client, "new").equals("v2:new"));
            longLived.getOutputStream().write("still\n".getBytes(StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("v1:still");
        }
        // The TLS context, its watch and the wrapped pipeline hold nothing of the old version.
        await().atMost(Duration.ofSeconds(20))
                .until(() -> launcher.unloader().outcomes().size() == 1
                        && launcher.unloader().outcomes().get(0).isDone());
        Unloader.Outcome outcome = launcher.unloader().outcomes().get(0).get();
        assertThat(outcome.collected())
                .as("old class loader collected; holders: " + outcome.holders())
                .isTrue();
        assertThat(launcher.tls().active()).hasSize(1);
    }

    private String askTls(SSLContext client, String line) throws IOException {
        try (SSLSocket s =
                (SSLSocket) client.getSocketFactory().createSocket(address().getAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            return new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
        }
    }

    @Test
    void aHalfWrittenJarIsNeverLoadedAndTheRunningVersionStays() throws Exception {
        // The test looks at the folder itself, so that each look sees one step of the copy.
        home.config("daemons.ver { listen = \"127.0.0.1:" + port + "\", listen-udp = \"127.0.0.1:" + port + "\" }\n");
        install(Jars.versioned("v1"));
        var launcher = home.start();
        byte[] v2 = Jars.versioned("v2");
        Path target = home.plugins().resolve("ver.jar");
        long loads = launcher.shelf().loads();
        // A slow copy in place: a look between each two writes sees the file still growing.
        for (int part = 4; part >= 2; part--) {
            Files.write(target, Arrays.copyOf(v2, v2.length / part));
            launcher.lookAtPlugins();
        }
        assertThat(launcher.shelf().loads())
                .as("no load attempted while the file changes")
                .isEqualTo(loads);
        assertThat(launcher.pluginFailures()).isEmpty();
        assertThat(ask("mid-copy")).isEqualTo("v1:mid-copy");
        assertThat(launcher.daemon("ver").state()).isEqualTo(DaemonState.RUNNING);
        Files.write(target, v2);
        launcher.lookAtPlugins(); // changed: wait for the next look
        assertThat(ask("copied")).isEqualTo("v1:copied");
        launcher.lookAtPlugins(); // the same for a whole interval: loaded
        assertThat(ask("done")).isEqualTo("v2:done");
    }

    @Test
    void removingAJarStopsItsDaemonAndUnloadsItCleanly() throws Exception {
        install(Jars.versioned("v1"));
        var launcher = home.start();
        assertThat(ask("hi")).isEqualTo("v1:hi");
        Files.delete(home.plugins().resolve("ver.jar"));
        await().atMost(Duration.ofSeconds(10)).until(() -> launcher.daemon("ver") == null);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> launcher.unloader().outcomes().size() == 1
                        && launcher.unloader().outcomes().get(0).isDone());
        assertThat(launcher.unloader().outcomes().get(0).get().collected()).isTrue();
        // The port is free again.
        try (ServerSocket again = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
            assertThat(again.isBound()).isTrue();
        }
    }

    @Test
    void aPluginThatLeaksAThreadIsReportedWithTheThreadsName() throws Exception {
        home.config(watching(false));
        Jars.leaky(home.plugins());
        var launcher = home.start();
        assertThat(launcher.daemon("leaky").state()).isEqualTo(DaemonState.RUNNING);
        Files.delete(home.plugins().resolve("leaky.jar"));
        await().atMost(Duration.ofSeconds(20))
                .until(() -> launcher.unloader().outcomes().size() == 1
                        && launcher.unloader().outcomes().get(0).isDone());
        Unloader.Outcome outcome = launcher.unloader().outcomes().get(0).get();
        assertThat(outcome.collected()).isFalse();
        assertThat(outcome.holders()).anySatisfy(h -> assertThat(h).contains("leaky-worker"));
    }
}
