package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.daemonkit.internal.admin.DaemonkitMetrics;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.testing.LineClient;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import io.netty.channel.uring.IoUring;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The io_uring transport's provided buffer ring ({@code daemonkit.transport.io-uring-buffer-ring}): what
 * a client gets with it, and what happens when more connections have data in flight than the ring has
 * buffers.
 */
class BufferRingOnIoUringTest {
    @RegisterExtension
    final TestHome home = new TestHome("daemonkit.transport.native = io_uring\ndaemonkit.transport.io-threads = 1\n");

    @BeforeEach
    void needsIoUringWithBufferRings() {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring is not available here: " + IoUring.unavailabilityCause());
        assumeTrue(IoUring.isRegisterBufferRingSupported(), "this kernel cannot register buffer rings (5.19+)");
    }

    @Test
    void connectionsReadFromA512BufferRingAndAreServed() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("daemonkit.transport.io-uring-buffer-ring = 512\n");
        Launcher launcher = home.start();
        assertThat(launcher.transport().ringBuffers()).isEqualTo(512);
        try (LineClient client = new LineClient(home.address("line-echo"))) {
            assertThat(client.request("hello")).isEqualTo("hello");
            // 40 lines in one write, 40 KB: more than a ring buffer holds (16 KiB at most), so read in several.
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                lines.append(i).append("x".repeat(996)).append('\n');
            }
            client.send(lines.toString());
            for (int i = 0; i < 40; i++) {
                assertThat(client.readLine()).isEqualTo(i + "x".repeat(996));
            }
        }
        assertThat(launcher.daemon("line-echo").connections().ringExhausted()).isZero();
    }

    @Test
    void attackerMoreConnectionsWithDataInFlightThanRingBuffersAreAllServedAndTheEmptyRingIsCounted() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("daemonkit.transport.io-uring-buffer-ring = 2\n");
        Launcher launcher = home.start();
        assertThat(launcher.transport().ringBuffers()).isEqualTo(2);
        DaemonConnections echo = launcher.daemon("line-echo").connections();
        List<LineClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) {
                clients.add(new LineClient(home.address("line-echo")));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> echo.open() == 64);
            // Hold the only loop while all 64 requests of 1,000 bytes arrive, so the kernel meets 64 KB with 2
            // buffers of at most 16 KiB between them: most reads find the ring empty (ENOBUFS).
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            launcher.transport().workers().next().execute(() -> {
                held.countDown();
                awaitQuietly(release);
            });
            assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < clients.size(); i++) {
                clients.get(i).send(request(i) + "\n");
            }
            release.countDown();
            for (int i = 0; i < clients.size(); i++) {
                assertThat(clients.get(i).readLine()).isEqualTo(request(i));
            }
            assertThat(echo.ringExhausted())
                    .as("reads that found the ring empty")
                    .isPositive();
            // ... and an operator sees it, to size the ring.
            try (DaemonkitMetrics metrics = new DaemonkitMetrics(launcher, null, null)) {
                assertThat(metrics.scrape())
                        .containsPattern("daemonkit_io_uring_ring_exhausted_total\\{daemon=\"line-echo\"[^}]*} [1-9]");
            }
            // Served again after the storm, on the same connections.
            for (int i = 0; i < clients.size(); i++) {
                assertThat(clients.get(i).request("again " + i)).isEqualTo("again " + i);
            }
        } finally {
            for (LineClient c : clients) {
                c.close();
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> echo.open() == 0);
    }

    /** 300: not a power of two; 32768: beyond what Netty's ring (its size is a short) can hold, refused before a start. */
    @ParameterizedTest(name = "io-uring-buffer-ring = {0}")
    @ValueSource(ints = {300, 32768})
    void faultBufferRingSizeNotAPowerOfTwoOrBeyondWhatNettyCanHoldIsAConfigErrorNamingTheKey(int size)
            throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("daemonkit.transport.io-uring-buffer-ring = " + size + "\n");
        Throwable error = catchThrowable(home::start);
        while (error != null && !(error instanceof ConfigError)) {
            error = error.getCause();
        }
        assertThat(error)
                .as("a ConfigError")
                .isNotNull()
                .hasMessageContaining("daemonkit.transport.io-uring-buffer-ring = " + size)
                .hasMessageContaining("daemonkit.conf")
                .hasMessageContaining("must be 0 (no ring) or a power of two from 2 to 16384");
    }

    @Test
    void byDefaultThereIsNoRingAndConnectionsAreServed() throws Exception {
        Jars.lineEcho(home.plugins());
        Launcher launcher = home.start();
        assertThat(launcher.transport().ringBuffers()).isZero();
        try (LineClient client = new LineClient(home.address("line-echo"))) {
            assertThat(client.request("hello")).isEqualTo("hello");
        }
    }

    private static String request(int i) {
        String head = "request " + i + " ";
        return head + "x".repeat(1000 - head.length());
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
