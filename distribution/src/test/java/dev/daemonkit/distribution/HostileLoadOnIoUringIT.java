package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.BeforeEach;

/**
 * Every attack of {@link HostileLoadIT} (descriptor floods on every listener, huge lines, tricklers) against a
 * launcher on io_uring, with the same probe of echo, the cache and presence and the same 1 s stall limit.
 */
class HostileLoadOnIoUringIT extends HostileLoadIT {
    @Override
    String transportConfig() {
        return "transport.native = io_uring";
    }

    @BeforeEach
    void runsOnIoUring() {
        assumeFalse(launcherOutput().contains("but io_uring is not available here"), "io_uring does not load here");
        assertThat(launcherOutput()).contains("transport: io_uring with");
    }
}
