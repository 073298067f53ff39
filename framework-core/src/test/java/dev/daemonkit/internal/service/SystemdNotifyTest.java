package dev.daemonkit.internal.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.lifecycle.DaemonStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The notification sequence, driven by hand: a fake sender records the datagrams, a fake stall view feeds the keep-alives. */
class SystemdNotifyTest {
    private final List<String> sent = new ArrayList<>();
    private final AtomicReference<String> status = new AtomicReference<>("2 daemon(s) running");
    private final SystemdNotify notify = new SystemdNotify(sent::add, status::get, 1, null);
    private final AtomicReference<List<String>> stalled = new AtomicReference<>(List.of());

    @Test
    void startReloadAndStopSendTheSequenceSystemdExpects() {
        notify.reloading(); // a HUP during the start: systemd has not seen READY=1 yet, so it is not told
        notify.reloaded();
        notify.started(stalled::get, Duration.ofSeconds(1));
        notify.reloading();
        status.set("1 of 2 daemon(s) running; failed: echo-b");
        notify.reloaded();
        notify.stopping();
        notify.stopping();
        notify.reloading(); // a reload queued before the stop
        notify.reloaded();

        assertThat(sent).hasSize(4);
        assertThat(sent.get(0)).isEqualTo("READY=1\nSTATUS=2 daemon(s) running");
        assertThat(sent.get(1)).matches("RELOADING=1\nMONOTONIC_USEC=\\d+");
        long usec = Long.parseLong(sent.get(1).substring(sent.get(1).lastIndexOf('=') + 1));
        assertThat(usec).isBetween(0L, System.nanoTime() / 1000);
        assertThat(sent.get(2)).isEqualTo("READY=1\nSTATUS=1 of 2 daemon(s) running; failed: echo-b");
        assertThat(sent.get(3)).isEqualTo("STOPPING=1\nSTATUS=stopping: draining the daemons");
    }

    @Test
    void keepAlivesStopWhileALoopIsStalledAndResumeWhenItRunsAgain() {
        notify.keepAlive(); // during the start: no stall view yet, keep-alives go on
        notify.started(stalled::get, Duration.ofMillis(1500));
        notify.keepAlive();
        stalled.set(List.of("daemonkit-io-5-1"));
        notify.keepAlive();
        notify.keepAlive();
        notify.statusCheck(); // the wedged status is not overwritten
        stalled.set(List.of());
        notify.keepAlive();
        notify.keepAlive();

        assertThat(sent)
                .containsExactly(
                        "WATCHDOG=1",
                        "READY=1\nSTATUS=2 daemon(s) running",
                        "WATCHDOG=1",
                        "STATUS=wedged, no watchdog keep-alive: 1 event loop(s) blocked for more than 1500 ms:"
                                + " daemonkit-io-5-1",
                        "WATCHDOG=1\nSTATUS=2 daemon(s) running",
                        "WATCHDOG=1");
    }

    @Test
    void aChangedStatusIsSentOnceAndOnlyAfterTheStart() {
        notify.statusCheck();
        notify.started(stalled::get, Duration.ofSeconds(1));
        notify.statusCheck();
        status.set("1 of 2 daemon(s) running; restarting: echo");
        notify.statusCheck();
        notify.statusCheck();

        assertThat(sent)
                .containsExactly(
                        "READY=1\nSTATUS=2 daemon(s) running", "STATUS=1 of 2 daemon(s) running; restarting: echo");
    }

    @Test
    void keepAliveIntervalIsHalfOfWatchdogUsecForThisProcessOnly() {
        long pid = ProcessHandle.current().pid();
        assertThat(SystemdNotify.keepAliveNanos(Map.of())).isZero();
        assertThat(SystemdNotify.keepAliveNanos(Map.of("WATCHDOG_USEC", "30000000")))
                .isEqualTo(Duration.ofSeconds(15).toNanos());
        assertThat(SystemdNotify.keepAliveNanos(Map.of("WATCHDOG_USEC", "2000000", "WATCHDOG_PID", "" + pid)))
                .isEqualTo(Duration.ofSeconds(1).toNanos());
        assertThat(SystemdNotify.keepAliveNanos(Map.of("WATCHDOG_USEC", "2000000", "WATCHDOG_PID", "" + (pid + 1))))
                .isZero();
        assertThat(SystemdNotify.keepAliveNanos(Map.of("WATCHDOG_USEC", "soon")))
                .isZero();
    }

    @Test
    void withoutNotifySocketNothingIsSent() {
        try (SystemdNotify none = SystemdNotify.fromEnvironment(Map.of("WATCHDOG_USEC", "1000"), null)) {
            none.started(null);
            none.reloading();
            none.reloaded();
            none.stopping();
            none.keepAlive();
        }
    }

    @Test
    void statusNamesTheDaemonsThatAreNotRunningByState() {
        List<DaemonStatus> daemons = List.of(
                daemon("echo", DaemonState.RUNNING, false),
                daemon("echo-b", DaemonState.FAILED, false),
                daemon("flaky", DaemonState.FAILED, true),
                daemon("daytime", DaemonState.STOPPED, false),
                daemon("echo-c", DaemonState.FAILED, false));

        assertThat(SystemdNotify.statusOf(daemons.subList(0, 1), List.of())).isEqualTo("1 daemon(s) running");
        assertThat(SystemdNotify.statusOf(daemons, List.of("daemon 'x' needs plugin 'nope', which is not installed")))
                .isEqualTo("1 of 6 daemon(s) running; failed: echo-b, echo-c; restarting: flaky; stopped: daytime;"
                        + " 1 whose plugin is not installed");
    }

    private static DaemonStatus daemon(String name, DaemonState state, boolean restartPending) {
        return new DaemonStatus(name, "echo", "1.0", null, state, 0, null, 0, restartPending, null);
    }
}
