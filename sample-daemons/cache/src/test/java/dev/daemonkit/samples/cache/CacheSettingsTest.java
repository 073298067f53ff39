package dev.daemonkit.samples.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** The settings record: reference.conf's defaults and the refusals an operator sees. */
class CacheSettingsTest {

    private static Config withReference(String overrides) {
        Config reference = ConfigFactory.parseResources(CacheSettingsTest.class.getClassLoader(), "reference.conf")
                .getConfig("daemons.cache");
        return ConfigFactory.parseString(overrides).withFallback(reference);
    }

    @Test
    void theDefaultLineLimitIs64KiB() {
        assertThat(CacheSettings.from(withReference("")).maxLineBytes()).isEqualTo(64 * 1024);
    }

    @Test
    void aLineLimitUnder4KiBIsRefusedWithTheValueAndTheBounds() {
        assertThatThrownBy(() -> CacheSettings.from(withReference("max-line-bytes = 2048")))
                .isInstanceOf(ConfigException.BadValue.class)
                .hasMessageContaining("max-line-bytes")
                .hasMessageContaining("must be between 4 KiB and 1 GiB, got 2048 bytes");
    }
}
