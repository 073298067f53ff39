package dev.daemonkit.samples.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.spy.memcached.CASResponse;
import net.spy.memcached.CASValue;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.MemcachedClient;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** spymemcached, a client nobody here wrote, against the cache daemon and against memcached. */
class SpymemcachedTest {

    static List<Servers.Target> servers() {
        return Servers.all();
    }

    private static MemcachedClient client(Servers.Target target) throws IOException {
        return new MemcachedClient(
                new ConnectionFactoryBuilder()
                        .setProtocol(ConnectionFactoryBuilder.Protocol.TEXT)
                        .setOpTimeout(5000)
                        .build(),
                List.of(target.address()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void storesReadsAndChangesValuesThroughARealClient(Servers.Target target)
            throws IOException, InterruptedException, ExecutionException, TimeoutException {
        MemcachedClient c = client(target);
        try {
            String p = "spy-" + System.nanoTime() + "-";
            assertThat(c.set(p + "a", 0, "alpha").get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(c.get(p + "a")).isEqualTo("alpha");
            assertThat(c.add(p + "a", 0, "again").get(5, TimeUnit.SECONDS)).isFalse();
            assertThat(c.replace(p + "missing", 0, "x").get(5, TimeUnit.SECONDS))
                    .isFalse();
            assertThat(c.append(0, p + "a", "-omega").get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(c.prepend(0, p + "a", "pre-").get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(c.get(p + "a")).isEqualTo("pre-alpha-omega");

            CASValue<Object> cas = c.gets(p + "a");
            assertThat(c.cas(p + "a", cas.getCas(), "swapped")).isEqualTo(CASResponse.OK);
            assertThat(c.cas(p + "a", cas.getCas(), "stale")).isEqualTo(CASResponse.EXISTS);
            assertThat(c.get(p + "a")).isEqualTo("swapped");

            assertThat(c.incr(p + "n", 5, 10)).as("absent: the default").isEqualTo(10);
            assertThat(c.incr(p + "n", 5)).isEqualTo(15);
            assertThat(c.decr(p + "n", 100)).isZero();

            c.set(p + "b", 0, List.of(1, 2, 3)).get(5, TimeUnit.SECONDS); // a serialized object
            Map<String, Object> bulk = c.getBulk(p + "a", p + "b", p + "nothing");
            assertThat(bulk)
                    .containsEntry(p + "a", "swapped")
                    .containsEntry(p + "b", List.of(1, 2, 3))
                    .doesNotContainKey(p + "nothing");

            byte[] big = new byte[500_000]; // spymemcached compresses above 16 KB; random bytes do not compress
            new Random(1).nextBytes(big);
            assertThat(c.set(p + "big", 0, big).get(5, TimeUnit.SECONDS)).isTrue();
            assertThat((byte[]) c.get(p + "big")).isEqualTo(big);

            assertThat(c.touch(p + "a", 100).get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(c.delete(p + "a").get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(c.get(p + "a")).isNull();
            assertThat(c.getVersions().values()).containsExactly("1.6.18");
            assertThat(c.getStats().values().iterator().next()).containsKeys("curr_items", "get_hits", "evictions");
        } finally {
            c.shutdown(5, TimeUnit.SECONDS);
        }
    }
}
