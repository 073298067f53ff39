package dev.daemonkit.samples.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every recorded case against every server: the cache daemon must answer each input byte for byte
 * as memcached 1.6.18 did, and the real memcached, run by the same test, must still answer as
 * recorded, which shows the recording (and so the test) is right.
 */
class ConformanceTest {

    static List<Arguments> cases() throws IOException {
        List<Arguments> args = new ArrayList<>();
        for (Servers.Target target : Servers.all()) {
            for (GoldenCases.Case c : GoldenCases.load()) {
                args.add(Arguments.of(target, c));
            }
        }
        return args;
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void repliesByteForByteAsMemcached(Servers.Target target, GoldenCases.Case c) throws IOException {
        Wire.flushAll(target.address());
        assertThat(Wire.exchange(target.address(), c.input(), false, Wire.count(c.expected(), "MN\r\n")))
                .as(c.name())
                .isEqualTo(c.expected());
    }

    static List<Arguments> cacheCases() throws IOException {
        List<Arguments> args = new ArrayList<>();
        for (GoldenCases.Case c : GoldenCases.load()) {
            // memcached drops unsent replies of a whole read on some errors: byte by byte, there are none.
            if (!c.name().endsWith("of the batch")) {
                args.add(Arguments.of(c));
            }
        }
        return args;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cacheCases")
    void repliesTheSameWhenEveryByteArrivesInItsOwnSegment(GoldenCases.Case c) throws IOException {
        Servers.Target cache = Servers.cache();
        Wire.flushAll(cache.address());
        assertThat(Wire.exchange(cache.address(), c.input(), true, Wire.count(c.expected(), "MN\r\n")))
                .as(c.name())
                .isEqualTo(c.expected());
    }
}
