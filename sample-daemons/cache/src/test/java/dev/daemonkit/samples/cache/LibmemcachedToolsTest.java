package dev.daemonkit.samples.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Debian's libmemcached-tools against both servers: memccp, memccat, memcstat, and memccapable's
 * text-protocol conformance checks ({@code -a}), all of which must pass.
 */
class LibmemcachedToolsTest {

    static List<Servers.Target> servers() {
        return Servers.all();
    }

    record Result(int exit, String output) {}

    private static Result run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS))
                .as(String.join(" ", command) + " finished")
                .isTrue();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static String servers(Servers.Target t) {
        return "--servers=127.0.0.1:" + t.address().getPort();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void memccapablePassesEveryTextProtocolCheck(Servers.Target target, @TempDir Path dir)
            throws IOException, InterruptedException {
        Path memccapable = Servers.requireBinary("memccapable", "libmemcached-tools");
        Result r = run(
                dir,
                memccapable.toString(),
                "-h",
                "127.0.0.1",
                "-p",
                Integer.toString(target.address().getPort()),
                "-a",
                "-t",
                "5");
        assertThat(r.output()).as(r.output()).contains("All tests passed").doesNotContain("[FAIL]");
        assertThat(r.exit()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void memccpStoresFilesThatMemccatReadsBack(Servers.Target target, @TempDir Path dir)
            throws IOException, InterruptedException {
        Path memccp = Servers.requireBinary("memccp", "libmemcached-tools");
        Path memccat = Servers.requireBinary("memccat", "libmemcached-tools");
        String name = "tool-file-" + System.nanoTime() + ".txt";
        String content = "line one\nline two\n" + "x".repeat(10_000) + "\n";
        Files.writeString(dir.resolve(name), content);
        Result cp = run(dir, memccp.toString(), servers(target), name);
        assertThat(cp.exit()).as(cp.output()).isZero();
        Result cat = run(dir, memccat.toString(), servers(target), name);
        assertThat(cat.exit()).as(cat.output()).isZero();
        // memccat ends what it prints with a newline of its own
        assertThat(cat.output().equals(content + "\n") || cat.output().equals(content))
                .as("memccat printed the " + content.length() + " characters memccp stored; got "
                        + cat.output().length() + " characters")
                .isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void memcstatShowsTheServersCounters(Servers.Target target, @TempDir Path dir)
            throws IOException, InterruptedException {
        Path memcstat = Servers.requireBinary("memcstat", "libmemcached-tools");
        List<String> cmd = new ArrayList<>(List.of(memcstat.toString(), servers(target)));
        Result r = run(dir, cmd.toArray(String[]::new));
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("pid:", "curr_items:", "get_hits:", "evictions:", "limit_maxbytes:");
    }
}
