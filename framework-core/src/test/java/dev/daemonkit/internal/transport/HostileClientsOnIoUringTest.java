package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.daemonkit.testing.TestHome;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Every attack of {@link HostileClientsTest}, with the launcher on the io_uring transport: the budgets,
 * deadlines and refusals live in the pipeline's front handlers, and this proves they hold on io_uring's
 * channels too (its reads and closes arrive as completions, not readiness).
 */
class HostileClientsOnIoUringTest extends HostileClientsTest {
    @Override
    TestHome newHome() {
        // With a provided buffer ring (off by default): the attacks also cover its reads.
        return new TestHome("daemonkit.transport.native = io_uring\ndaemonkit.transport.io-uring-buffer-ring = 512\n");
    }

    @BeforeEach
    void needsIoUring() {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring is not available here: " + IoUring.unavailabilityCause());
    }

    @AfterEach
    void ranOnIoUring() {
        if (home.launcher() != null) {
            assertThat(home.launcher().transport().kind()).isEqualTo("io_uring");
            assertThat(home.launcher().transport().ringBuffers()).isEqualTo(512);
        }
    }
}
