package dev.daemonkit.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PresenceBotsTest {

    @Test
    void thePresenceModeHasItsOwnOptionsAndLoadsLoopbackOnly() {
        assertThat(PresenceBots.wanted(new String[] {"--users", "5", "--mode", "presence"}))
                .isTrue();
        assertThat(PresenceBots.wanted(new String[] {"--mode", "echo"})).isFalse();
        PresenceBots.Options o = PresenceBots.parse(new String[] {
            "--mode",
            "presence",
            "--users",
            "1000",
            "--room-size",
            "30",
            "--chat-rate",
            "0.5",
            "--silent",
            "0.05",
            "--duration",
            "2m"
        });
        assertThat(o.users()).isEqualTo(1000);
        assertThat(o.rooms()).isEqualTo(34);
        assertThat(o.duration().toSeconds()).isEqualTo(120);
        assertThat(o.target().getPort()).isEqualTo(7100);
        assertThatThrownBy(() -> PresenceBots.parse(new String[] {"--target", "192.0.2.1:7100"}))
                .hasMessageContaining("not a loopback address");
        assertThatThrownBy(() -> PresenceBots.parse(new String[] {"--silent", "2"}))
                .hasMessageContaining("must be between 0 and 1");
    }
}
