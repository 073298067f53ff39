package dev.daemonkit.internal.lifecycle;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.testing.Golden;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The launcher's messages to the operator, pinned as golden files (src/test/resources/golden/README.md). */
class OperatorMessagesGoldenTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    @BeforeEach
    void setUp() throws Exception {
        Jars.lineEcho(home.plugins());
    }

    /** The message with the test's temporary home written as HOME. */
    private String stable(Throwable e) {
        return e.getMessage().replace(home.configFile().getParent().getParent().toString(), "HOME");
    }

    @Test
    void reloadReportNamesWhatStartedChangedAndStoppedWithNotes() throws Exception {
        home.config("""
                daemons.line-echo.prefix = "a:"
                daemons.echo-c { plugin = line-echo, prefix = "c:" }
                daemons.echo-d { plugin = line-echo }
                """);
        var launcher = home.start();
        home.config("""
                daemonkit.transport.io-threads = 3
                daemons.line-echo { prefix = "a:", max-connections = 5 }
                daemons.echo-b { plugin = line-echo, prefix = "b:" }
                daemons.echo-c { plugin = line-echo, prefix = "c2:" }
                daemons.echo-d.enabled = false
                """);
        Golden.assertMatches("reload-report.txt", launcher.reload().get().toString());
        Golden.assertMatches(
                "reload-report-nothing-changed.txt", launcher.reload().get().toString());
    }

    @Test
    void aConfigWithSeveralProblemsIsRefusedWithEachOfThem() throws Exception {
        home.config("""
                daemons.line-echo.idle-timeout = -1 s
                daemons.echo-b { plugin = line-echo, max-connections = 0 }
                daemons.echo-c { plugin = line-echo, colour = blue }
                """);
        assertThatThrownBy(home::start)
                .isInstanceOfSatisfying(
                        ConfigError.class, e -> Golden.assertMatches("config-error-several-problems.txt", stable(e)));
    }

    @Test
    void aReloadWithSeveralProblemsIsRejectedWithEachOfThem() throws Exception {
        var launcher = home.start();
        int port =
                launcher.daemon("line-echo").listeners().get(0).boundAddress().getPort();
        home.config("""
                daemons.echo-b { plugin = line-echo, listen = "127.0.0.1:%d" }
                daemons.echo-c { plugin = line-echo, listen = "127.0.0.1:%d" }
                """.formatted(port, port));
        assertThatThrownBy(() -> launcher.reload().get())
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOfSatisfying(
                        ConfigError.class,
                        e -> Golden.assertMatches(
                                "reload-rejected-several-problems.txt",
                                stable(e).replace(":" + port, ":PORT")));
    }
}
