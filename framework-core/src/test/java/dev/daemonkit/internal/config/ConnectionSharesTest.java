package dev.daemonkit.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The connection budget and the daemons' shares of it (issue: a descriptor flood must not take every daemon down). */
class ConnectionSharesTest {
    @TempDir
    Path dir;

    private static final Map<String, Config> PLUGINS = Map.of(
            "echo", ConfigFactory.parseString("daemons.echo { listen = \"127.0.0.1:7000\" }"),
            "cache", ConfigFactory.parseString("daemons.cache { listen = \"127.0.0.1:7001\" }"),
            "chat", ConfigFactory.parseString("daemons.chat { listen = \"127.0.0.1:7002\" }"));

    private ConfigLoader load(String text) throws IOException {
        Path file = dir.resolve("daemonkit.conf");
        Files.writeString(file, text);
        return ConfigLoader.load(file, true, getClass().getClassLoader());
    }

    private int limitOf(ConfigLoader loader, String daemon) {
        return loader.resolveDaemons(PLUGINS).daemons().stream()
                .filter(d -> d.name().equals(daemon))
                .findFirst()
                .orElseThrow()
                .settings()
                .maxConnections();
    }

    @Test
    void userAutoDaemonsShareWhatTheExplicitLimitsAndAdminLeave() throws IOException {
        ConfigLoader loader = load("""
                daemonkit.connections.budget = 1000
                daemons.echo.max-connections = 500
                """);
        // 1000 - admin's 32 - echo's 500 = 468, shared by cache and chat.
        assertThat(limitOf(loader, "echo")).isEqualTo(500);
        assertThat(limitOf(loader, "cache")).isEqualTo(234);
        assertThat(limitOf(loader, "chat")).isEqualTo(234);
    }

    @Test
    void faultLimitsAddingUpAboveTheBudgetAreRefusedWithTheNumbers() throws IOException {
        ConfigLoader loader = load("""
                daemonkit.connections.budget = 1000
                daemons.echo.max-connections = 600
                daemons.cache.max-connections = 600
                """);
        assertThatThrownBy(() -> loader.resolveDaemons(PLUGINS))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("add up to 1200")
                .hasMessageContaining("echo=600")
                .hasMessageContaining("budget is 1000")
                .hasMessageContaining("daemonkit.admin.max-connections takes 32")
                .hasMessageContaining("Lower daemons.NAME.max-connections");
    }

    @Test
    void faultExplicitLimitsLeavingNothingForTheAutoDaemonsAreRefused() throws IOException {
        ConfigLoader loader = load("""
                daemonkit.connections.budget = 1000
                daemons.echo.max-connections = 968
                """);
        assertThatThrownBy(() -> loader.resolveDaemons(PLUGINS))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("plus 2 daemon(s) on auto");
    }

    @Test
    void theAutoBudgetIsTheDescriptorLimitLessTheReserve() throws IOException {
        long limit = ConnectionShares.descriptorLimit();
        ConnectionShares.Budget budget = ConnectionShares.budget(load("").framework());
        if (limit <= 0) {
            return; // not a Unix JVM: no limit to derive it from
        }
        assertThat(budget.descriptorLimit()).isEqualTo(limit);
        assertThat(budget.reserve()).isEqualTo((int) Math.min(1024, limit / 4));
        assertThat(budget.connections()).isEqualTo((int) (limit - budget.reserve()));
        int shares = 0;
        for (DaemonSpec d : load("").resolveDaemons(PLUGINS).daemons()) {
            shares += d.settings().maxConnections();
        }
        assertThat(shares + budget.admin()).isLessThanOrEqualTo(budget.connections());
    }

    @Test
    void aBrokenLimitNamesTheKey() throws IOException {
        ConfigLoader loader = load("daemons.echo.max-connections = lots\n");
        assertThatThrownBy(() -> loader.resolveDaemons(PLUGINS))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.echo.max-connections")
                .hasMessageContaining("auto or a number");
    }
}
