package dev.daemonkit.samples.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** The settings record: reference.conf's defaults and the refusals an operator sees. */
class PresenceSettingsTest {

    private static Config withReference(String overrides) {
        Config reference = ConfigFactory.parseResources(PresenceSettingsTest.class.getClassLoader(), "reference.conf")
                .getConfig("daemons.presence");
        return ConfigFactory.parseString(overrides).withFallback(reference);
    }

    @Test
    void byDefaultOnlyAddressesAndLocalhostMayBeNamedInHost() {
        AllowedHosts hosts = PresenceSettings.from(withReference("")).allowedHosts();
        assertThat(hosts.allows("127.0.0.1:7180")).isTrue();
        assertThat(hosts.allows("[::1]:7180")).isTrue();
        assertThat(hosts.allows("localhost")).isTrue();
        assertThat(hosts.allows("my-box:7180")).isFalse();
        assertThat(PresenceSettings.from(withReference("allowed-hosts = [My-Box]"))
                        .allowedHosts()
                        .allows("my-box.:7180"))
                .isTrue();
    }

    @Test
    void anAllowedHostWithASchemeOrPortIsRefusedNamingTheKey() {
        for (String entry : new String[] {"\"http://my-box\"", "\"my-box:7180\"", "\"*\"", "\"\"", "\"my box\""}) {
            assertThatThrownBy(() -> PresenceSettings.from(withReference("allowed-hosts = [" + entry + "]")))
                    .as(entry)
                    .isInstanceOf(ConfigException.BadValue.class)
                    .hasMessageContaining("allowed-hosts")
                    .hasMessageContaining("is not a host name: write names alone, without scheme, port or wildcard");
        }
    }
}
