package dev.daemonkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import org.junit.jupiter.api.Test;

class LeakSamplingTest {

    @Test
    void theLauncherTracksOneBufferInAThousandWhenTheOperatorSaidNothing() {
        Properties system = new Properties();
        Main.sparserLeakSampling(system);
        assertThat(system.getProperty("io.netty.leakDetection.samplingInterval"))
                .isEqualTo("1024");
    }

    @Test
    void anOperatorsOwnSamplingFromDaemonkitOptsIsKept() {
        // DAEMONKIT_OPTS="-Dio.netty.leakDetection.samplingInterval=1" while hunting a leak.
        Properties system = new Properties();
        system.setProperty("io.netty.leakDetection.samplingInterval", "1");
        Main.sparserLeakSampling(system);
        assertThat(system.getProperty("io.netty.leakDetection.samplingInterval"))
                .isEqualTo("1");
    }
}
