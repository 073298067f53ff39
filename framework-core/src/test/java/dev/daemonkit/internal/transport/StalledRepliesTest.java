package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.timers.HierarchicalTimerWheel;
import dev.daemonkit.timers.TimerWheelSettings;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cap on replies held for clients that stopped reading: who is closed, and what is given back. */
class StalledRepliesTest {
    private final DaemonConnections owner = new DaemonConnections(
            FrontHandlerTest.settings(Duration.ZERO, 8, 16),
            new HierarchicalTimerWheel(TimerWheelSettings.defaults(), () -> 0L),
            () -> 0L,
            new ConnectionBudget(100),
            null);

    /** A front handler, here only a key. */
    private FrontHandler connection(long id) {
        return new FrontHandler(owner, id);
    }

    @Test
    void underTheCapNothingIsClosedAndEveryChargeIsGivenBackWhenItsConnectionDrainsOrCloses() {
        StalledReplies r = new StalledReplies();
        FrontHandler a = connection(1);
        FrontHandler b = connection(2);
        assertThat(r.stalled(a, 400, 1_000)).isEmpty();
        assertThat(r.stalled(b, 500, 1_000)).isEmpty();
        assertThat(r.stalled(a, 450, 1_000))
                .as("a later flush replaces the charge")
                .isEmpty();
        assertThat(r.total()).isEqualTo(950);
        r.resumed(a);
        r.resumed(a); // writable, then closed: given back once
        assertThat(r.total()).isEqualTo(500);
        r.resumed(b);
        assertThat(r.total()).isZero();
        assertThat(r.count()).isZero();
        assertThat(r.evicted()).isZero();
    }

    @Test
    void attackerStallsPastTheCapAreClosedLongestStalledFirstUntilTheRestFit() {
        // Attacker: connections that asked and never read stall first and stay; a reader's stall is the youngest.
        StalledReplies r = new StalledReplies();
        FrontHandler first = connection(1);
        FrontHandler second = connection(2);
        FrontHandler third = connection(3);
        FrontHandler reader = connection(4);
        r.stalled(first, 300, 1_000);
        r.stalled(second, 300, 1_000);
        r.stalled(third, 300, 1_000);
        r.stalled(first, 350, 1_000); // an update keeps its place: it is still the longest stalled
        List<StalledReplies.Eviction> closed = r.stalled(reader, 600, 1_000);
        assertThat(closed).extracting(StalledReplies.Eviction::connection).containsExactly(first, second);
        assertThat(closed.get(0).held()).isEqualTo(350);
        assertThat(closed.get(0).totalBefore()).isEqualTo(1_550);
        assertThat(r.total()).isEqualTo(900).isLessThanOrEqualTo(1_000);
        assertThat(r.evicted()).isEqualTo(2);
        r.resumed(first); // its close completes later: nothing is given back twice
        assertThat(r.total()).isEqualTo(900);
    }

    @Test
    void faultOneReplyLargerThanTheCapClosesItsOwnConnectionAndNoOtherWhenItIsTheOnlyStall() {
        StalledReplies r = new StalledReplies();
        FrontHandler huge = connection(1);
        assertThat(r.stalled(huge, 5_000, 1_000))
                .extracting(StalledReplies.Eviction::connection)
                .containsExactly(huge);
        assertThat(r.total()).isZero();
    }
}
