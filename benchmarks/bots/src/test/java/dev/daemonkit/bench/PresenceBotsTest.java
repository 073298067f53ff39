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

    @Test
    void severalTargetsSplitEveryRoomOverThem() {
        PresenceBots.Options o = PresenceBots.parse(
                new String[] {"--target", "127.0.0.1:7100,127.0.0.1:7200", "--users", "100", "--room-size", "10"});
        assertThat(o.targets()).hasSize(2);
        for (int room = 0; room < o.rooms(); room++) {
            int onFirst = 0;
            for (int user = room; user < o.users(); user += o.rooms()) {
                onFirst += o.targetOf(user) == 0 ? 1 : 0;
            }
            assertThat(onFirst).as("room %d", room).isEqualTo(5);
        }
    }
}
