package dev.daemonkit.internal.admin;

import dev.daemonkit.internal.plugins.PluginFailure;
import dev.daemonkit.testing.Golden;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The table {@code bin/daemonkit status} prints, pinned as the operator reads it. */
class StatusTableGoldenTest {

    private static Map<String, Object> row(
            String name,
            String plugin,
            String version,
            String state,
            List<String> listeners,
            int connections,
            long uptimeSeconds,
            int restarts,
            String lastFailure) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", name);
        r.put("plugin", plugin);
        r.put("version", version);
        r.put("source", plugin + ".jar");
        r.put("state", state);
        r.put("listeners", listeners);
        r.put("connections", connections);
        r.put("uptime_seconds", uptimeSeconds);
        r.put("restarts", restarts);
        r.put("last_failure", lastFailure);
        return r;
    }

    @Test
    void statusTableWithRunningFailedAndStoppedDaemonsAndWhatDidNotLoad() {
        String table = AdminHandler.table(
                List.of(
                        row("echo", "echo", "1.0.0", "RUNNING", List.of("tcp 127.0.0.1:7000"), 12, 3_725, 0, null),
                        row(
                                "daytime",
                                "daytime",
                                "1.0.0",
                                "RUNNING",
                                List.of("tcp 127.0.0.1:7013", "udp 127.0.0.1:7013"),
                                0,
                                42,
                                1,
                                "the plugin reported: clock skew"),
                        row(
                                "cache",
                                "cache",
                                "2.1.0",
                                "FAILED",
                                List.of(),
                                0,
                                0,
                                3,
                                "gave up after 3 restart(s) within 60 s; last failure: 127.0.0.1:11211 (daemons.cache.listen,"
                                        + " conf/daemonkit.conf:7) is in use"),
                        row("presence", "presence", "unversioned", "STOPPED", List.of(), 0, 0, 0, null)),
                List.of(
                        "daemons.chat (conf/daemonkit.conf:12) runs plugin 'chat', but no installed plugin has that name"
                                + " (installed: [cache, daytime, echo, presence]). Install its jar in the plugins folder,"
                                + " set plugin = NAME, or remove the block."),
                List.of(new PluginFailure(
                        Path.of("plugins/broken.jar"),
                        "is not a readable jar (zip END header not found)."
                                + " Replace it with a jar built for Daemonkit.")));
        Golden.assertMatches("status-table.txt", table);
    }
}
