package dev.daemonkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class BuildInfoTest {

    @Test
    void theBuildRecordsTheVersionAndTheCommit() {
        BuildInfo info = BuildInfo.current();
        assertThat(info.version()).matches("\\d+\\.\\d+\\.\\d+.*");
        // A checkout gives a commit; a build without git says so instead of printing ${daemonkit.commit}.
        assertThat(info.commit()).matches("\\p{XDigit}{12}(-dirty)?|unknown .*");
        assertThat(info.line()).isEqualTo("daemonkit " + info.version() + " (commit " + info.commit() + ")");
    }

    @Test
    void dashDashVersionIsTheVersionCommand() throws Exception {
        assertThat(CommandLine.parse(new String[] {"--version"}, Path.of(".")).command())
                .isEqualTo("version");
        assertThat(CommandLine.parse(new String[] {"version"}, Path.of(".")).command())
                .isEqualTo("version");
    }
}
