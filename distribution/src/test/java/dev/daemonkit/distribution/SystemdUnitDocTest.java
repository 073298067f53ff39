package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The unit shipped as {@code systemd/daemonkit.service} is the one docs/operations.md shows, and it asks
 * systemd for what the launcher does: notifications, HUP for reload, time to drain on TERM.
 */
class SystemdUnitDocTest {
    private static final Path UNIT = Path.of("src/main/dist/systemd/daemonkit.service");

    @Test
    void operationsMdShowsTheShippedUnitFile() throws Exception {
        String doc = Files.readString(Path.of("../docs/operations.md"));
        Matcher m = Pattern.compile("```ini\\n(.*?)```", Pattern.DOTALL).matcher(doc);
        assertThat(m.find()).as("docs/operations.md has an ```ini block").isTrue();
        assertThat(m.group(1)).isEqualTo(Files.readString(UNIT));
    }

    @Test
    void operationsMdShowsTheShippedSocketUnitAfterTheService() throws Exception {
        String doc = Files.readString(Path.of("../docs/operations.md"));
        Matcher m = Pattern.compile("```ini\\n(.*?)```", Pattern.DOTALL).matcher(doc);
        assertThat(m.find() && m.find())
                .as("docs/operations.md has a second ```ini block")
                .isTrue();
        assertThat(m.group(1)).isEqualTo(Files.readString(Path.of("src/main/dist/systemd/daemonkit.socket")));
    }

    @Test
    void unitAsksForNotificationsReloadByHupAndTimeToDrain() throws Exception {
        String unit = Files.readString(UNIT);
        assertThat(unit)
                .contains("\nType=notify\n")
                .contains("\nExecStart=/opt/daemonkit/bin/daemonkit run\n")
                .contains("\nExecReload=/bin/kill -HUP $MAINPID\n")
                .contains("\nWatchdogSec=30\n")
                .contains("\nRestartPreventExitStatus=2 3\n");
        // Default shutdown.delay 0 s + shutdown.grace 10 s must end well before systemd's KILL.
        Matcher stop = Pattern.compile("\nTimeoutStopSec=(\\d+)\n").matcher(unit);
        assertThat(stop.find()).isTrue();
        assertThat(Integer.parseInt(stop.group(1))).isGreaterThan(10 + 2);
    }
}
