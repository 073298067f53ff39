package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

class ConnectionBudgetTest {
    @Test
    void faultBudgetSpentPausesEveryListenerRefusesTheExtraAndResumesBelowTheLimit() {
        ConnectionBudget budget = new ConnectionBudget(200);
        EmbeddedChannel a = new EmbeddedChannel();
        EmbeddedChannel b = new EmbeddedChannel();
        budget.register(a);
        budget.register(b);
        for (int i = 0; i < 199; i++) {
            assertThat(budget.tryAcquire()).isTrue();
        }
        assertThat(a.config().isAutoRead()).isTrue();
        assertThat(budget.tryAcquire()).isTrue(); // the 200th: the budget is spent, accepting pauses
        assertThat(budget.paused()).isTrue();
        assertThat(a.config().isAutoRead()).isFalse();
        assertThat(b.config().isAutoRead()).isFalse();
        assertThat(budget.tryAcquire()).isFalse(); // accepted in the instant before the pause: refused
        assertThat(budget.refused()).isEqualTo(1);
        budget.release();
        assertThat(budget.paused()).as("not at the first close: it would flap").isTrue();
        budget.release();
        budget.release();
        assertThat(budget.paused()).isFalse();
        assertThat(a.config().isAutoRead()).isTrue();
        assertThat(budget.open()).isEqualTo(197);
        EmbeddedChannel late = new EmbeddedChannel();
        budget.register(late);
        assertThat(late.config().isAutoRead()).isTrue();
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
        late.finishAndReleaseAll();
    }
}
