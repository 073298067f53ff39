package dev.daemonkit.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private static final Map<String, Config> ECHO_PLUGIN = Map.of("echo", ConfigFactory.parseString("""
            daemons.echo { listen = "127.0.0.1:7000", max-line-bytes = 8192, stats-interval = 1 minute }
            """));

    @AfterEach
    void clearProperties() {
        System.clearProperty("daemonkit.shutdown.grace");
        ConfigFactory.invalidateCaches();
    }

    private ConfigLoader load(String text) throws IOException {
        Path file = dir.resolve("daemonkit.conf");
        Files.writeString(file, text);
        return ConfigLoader.load(file, true, getClass().getClassLoader());
    }

    @Test
    void defaultsApplyWhenTheFileIsEmpty() throws IOException {
        LauncherSettings s = load("").launcherSettings();
        assertThat(s.shutdown().grace()).hasSeconds(10);
        assertThat(s.transport().ioThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void misspelledFrameworkKeyIsRefusedWithFileLineAndKnownKeys() {
        assertThatThrownBy(() -> load("daemonkit {\n  shutdown {\n    grase = 5 s\n  }\n}\n"))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("unknown key daemonkit.shutdown.grase")
                .hasMessageContaining("daemonkit.conf:3")
                .hasMessageContaining("grace");
    }

    @Test
    void durationWithoutUnitIsRefusedBecauseItWouldMeanMilliseconds() {
        assertThatThrownBy(() -> load("daemonkit.shutdown.grace = 30\n"))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemonkit.shutdown.grace = 30")
                .hasMessageContaining("no unit and would mean 30 ms")
                .hasMessageContaining("daemonkit.conf:1");
    }

    @Test
    void wrongTypeNamesKeyAndExpectation() {
        assertThatThrownBy(() -> load("daemonkit.transport.io-threads = many\n"))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemonkit.transport.io-threads")
                .hasMessageContaining("must be a number");
    }

    @Test
    void syntaxErrorNamesTheFile() {
        assertThatThrownBy(() -> load("daemonkit { shutdown.grace = 5 s\n"))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemonkit.conf")
                .hasMessageContaining("cannot be parsed");
    }

    @Test
    void explicitConfigFileMustExist() {
        assertThatThrownBy(() -> ConfigLoader.load(
                        dir.resolve("nope.conf"), true, getClass().getClassLoader()))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("nope.conf does not exist");
    }

    @Test
    void systemPropertiesOverrideTheFile() throws IOException {
        System.setProperty("daemonkit.shutdown.grace", "3 s");
        ConfigFactory.invalidateCaches();
        assertThat(load("daemonkit.shutdown.grace = 5 s\n")
                        .launcherSettings()
                        .shutdown()
                        .grace())
                .hasSeconds(3);
    }

    @Test
    void pluginDefaultsAndUserBlockMergeAndASecondInstanceUsesThePluginsDefaults() throws IOException {
        ConfigLoader loader = load("""
                daemons.echo.max-line-bytes = 100
                daemons.echo-b { plugin = echo, listen = "127.0.0.1:7001" }
                """);
        var daemons = loader.resolveDaemons(ECHO_PLUGIN).daemons();
        assertThat(daemons).extracting(DaemonSpec::name).containsExactly("echo", "echo-b");
        assertThat(daemons.get(0).block().getInt("max-line-bytes")).isEqualTo(100);
        assertThat(daemons.get(1).block().getInt("max-line-bytes")).isEqualTo(8192);
        assertThat(daemons.get(1).block().getString("listen")).isEqualTo("127.0.0.1:7001");
        assertThat(daemons.get(1).plugin()).isEqualTo("echo");
        // Both on max-connections = auto: equal shares of the connection budget.
        assertThat(daemons.get(1).settings().maxConnections())
                .isPositive()
                .isEqualTo(daemons.get(0).settings().maxConnections());
    }

    @Test
    void unknownKeyInADaemonBlockIsRefused() throws IOException {
        ConfigLoader loader = load("daemons.echo {\n  max-line-byte = 100\n}\n");
        assertThatThrownBy(() -> loader.resolveDaemons(ECHO_PLUGIN))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("unknown key daemons.echo.max-line-byte")
                .hasMessageContaining("daemonkit.conf:2")
                .hasMessageContaining("max-line-bytes");
    }

    @Test
    void wrongTypeInADaemonBlockIsRefused() throws IOException {
        ConfigLoader loader = load("daemons.echo.max-line-bytes = lots\n");
        assertThatThrownBy(() -> loader.resolveDaemons(ECHO_PLUGIN))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.echo.max-line-bytes")
                .hasMessageContaining("must be a number");
    }

    @Test
    void daemonOfAnUnknownPluginIsReported() throws IOException {
        ConfigLoader loader = load("daemons.cache { listen = \"127.0.0.1:11311\" }\n");
        var resolution = loader.resolveDaemons(ECHO_PLUGIN);
        assertThat(resolution.unknownPlugins())
                .singleElement()
                .asString()
                .contains("daemons.cache")
                .contains("no installed plugin")
                .contains("[echo]");
    }

    @Test
    void aDisabledBlockOfAPluginThatIsNotInstalledIsNoError() throws IOException {
        ConfigLoader loader = load("daemons.cache.enabled = false\n");
        var resolution = loader.resolveDaemons(ECHO_PLUGIN);
        assertThat(resolution.unknownPlugins()).isEmpty();
        assertThat(resolution.daemons()).extracting(DaemonSpec::name).containsExactly("echo");
    }

    @Test
    void disabledDaemonIsNotResolved() throws IOException {
        ConfigLoader loader = load("daemons.echo.enabled = false\n");
        assertThat(loader.resolveDaemons(ECHO_PLUGIN).daemons()).isEmpty();
    }

    @Test
    void addressesAreParsedOrRefusedWithTheReason() {
        assertThat(Addresses.parse("127.0.0.1:7000").getPort()).isEqualTo(7000);
        assertThat(Addresses.format(Addresses.parse("[::1]:7000"))).isEqualTo("[0:0:0:0:0:0:0:1]:7000");
        assertThatThrownBy(() -> Addresses.parse("127.0.0.1:70000")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> Addresses.parse("127.0.0.1")).hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> Addresses.parse("127.0.0.1:http")).hasMessageContaining("not a number");
    }

    @Test
    void anAdminEndpointBeyondLoopbackWithoutATokenIsRefused() throws IOException {
        assertThatThrownBy(() ->
                        load("daemonkit.admin.listen = \"0.0.0.0:7070\"\n").launcherSettings())
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemonkit.admin.token must be set");
        assertThat(load("daemonkit.admin { listen = \"0.0.0.0:7070\", token = s3cret }\n")
                        .launcherSettings()
                        .admin()
                        .loopbackOnly())
                .isFalse();
    }

    @Test
    void aRestartPolicyMustBeKnown() throws IOException {
        ConfigLoader loader = load("daemons.echo.restart.policy = sometimes\n");
        assertThatThrownBy(() -> loader.resolveDaemons(ECHO_PLUGIN))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.echo.restart.policy = \"sometimes\"")
                .hasMessageContaining("never or on-failure");
    }

    @Test
    void aCapOnStalledRepliesBelowTheHighWaterMarkIsRefusedNamingBothKeys() throws IOException {
        // Fault: such a cap would close every client at its first fall behind.
        assertThat(load("").resolveDaemons(ECHO_PLUGIN)
                        .daemons()
                        .get(0)
                        .settings()
                        .writeBufferMaxTotal())
                .isEqualTo(64L * 1024 * 1024);
        ConfigLoader loader = load("daemons.echo.write-buffer { high = 1 MiB, max-total = 512 KiB }\n");
        assertThatThrownBy(() -> loader.resolveDaemons(ECHO_PLUGIN))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.echo.write-buffer.max-total = 524288 bytes")
                .hasMessageContaining("daemonkit.conf:1")
                .hasMessageContaining("below write-buffer.high (1048576 bytes)");
    }

    @Test
    void theLoopSlackDefaultsTo1UsAndZeroMeansTheKernelsDefault() throws IOException {
        assertThat(load("").launcherSettings().timers().loopSlack()).hasNanos(1_000);
        assertThat(load("daemonkit.timers.loop-slack = 0 us\n")
                        .launcherSettings()
                        .timers()
                        .loopSlack())
                .isZero();
    }

    @Test
    void aLoopSlackThatIsNegativeOrNotBelowTheTickIsRefusedNamingTheKey() {
        assertThatThrownBy(() -> load("daemonkit.timers.loop-slack = -1 us\n").launcherSettings())
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemonkit.timers.loop-slack = -1.0 us (")
                .hasMessageContaining("daemonkit.conf:1")
                .hasMessageContaining("below daemonkit.timers.tick");
        assertThatThrownBy(() -> load("daemonkit.timers.loop-slack = 1 ms\n").launcherSettings())
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemonkit.timers.loop-slack = 1000.0 us");
    }
}
