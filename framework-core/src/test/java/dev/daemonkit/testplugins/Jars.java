package dev.daemonkit.testplugins;

import dev.daemonkit.testing.PluginJar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The test plugins packed as jars. */
public final class Jars {
    private Jars() {}

    public static Path lineEcho(Path plugins) throws IOException {
        return PluginJar.at(plugins.resolve("line-echo.jar"))
                .withPlugin(LineEchoPlugin.class)
                .withResource("reference.conf", """
                        daemons.line-echo { listen = "127.0.0.1:0", prefix = "", say-goodbye = false }
                        """)
                .build();
    }

    public static Path httpHello(Path plugins) throws IOException {
        return PluginJar.at(plugins.resolve("http-hello.jar"))
                .withPlugin(HttpHelloPlugin.class)
                .withResource("reference.conf", "daemons.http-hello.listen = \"127.0.0.1:0\"\n")
                .build();
    }

    public static Path naiveLines(Path plugins) throws IOException {
        return PluginJar.at(plugins.resolve("naive.jar"))
                .withPlugin(NaiveLinesPlugin.class)
                .withResource("reference.conf", "daemons.naive.listen = \"127.0.0.1:0\"\n")
                .build();
    }

    public static Path libraryUser(Path plugins, String which, String version) throws IOException {
        return PluginJar.at(plugins.resolve("lib-" + which + ".jar"))
                .withPlugin(which.equals("a") ? LibraryVersionAPlugin.class : LibraryVersionBPlugin.class)
                .withClass(GreetingHandler.class)
                .withCompiled(
                        "testlib.Greeting",
                        "package testlib; public final class Greeting { public static final String VERSION = \""
                                + version + "\"; }")
                .withResource("reference.conf", "daemons.lib-" + which + ".listen = \"127.0.0.1:0\"\n")
                .build();
    }

    public static Path injected(Path plugins) throws IOException {
        return PluginJar.at(plugins.resolve("injected.jar"))
                .withPlugin(InjectedPlugin.class)
                .withResource("reference.conf", "daemons.injected { listen = \"127.0.0.1:0\", word = bird }\n")
                .build();
    }

    /** The "ver" plugin with the given tag (a "version"), written atomically (or as {@code file}). */
    public static byte[] versioned(String tag) throws IOException {
        Path tmp = Files.createTempFile("ver-", ".jar");
        PluginJar.at(tmp)
                .withPlugin(VersionedEchoPlugin.class)
                .withResource(
                        "reference.conf",
                        "daemons.ver { listen = \"127.0.0.1:0\", listen-udp = \"\", tag = " + tag
                                + ", accept-reload = false, block-ms = 0 }\n")
                .build();
        byte[] bytes = Files.readAllBytes(tmp);
        Files.delete(tmp);
        return bytes;
    }

    /** {@link LoopStarterPlugin}, answering {@code tag:line}: two tags are two versions. */
    public static byte[] loopStarter(String tag) throws IOException {
        Path tmp = Files.createTempFile("starter-", ".jar");
        PluginJar.at(tmp)
                .withPlugin(LoopStarterPlugin.class)
                .withResource("reference.conf", "daemons.starter { listen = \"127.0.0.1:0\", tag = " + tag + " }\n")
                .build();
        byte[] bytes = Files.readAllBytes(tmp);
        Files.delete(tmp);
        return bytes;
    }

    public static Path slowStart(Path plugins) throws IOException {
        return PluginJar.at(plugins.resolve("slow-start.jar"))
                .withPlugin(SlowStartPlugin.class)
                .withResource("reference.conf", """
                        daemons.slow-start { listen = "127.0.0.1:0", ready-file = "", fail-file = "" }
                        """)
                .build();
    }

    public static Path leaky(Path plugins) throws IOException {
        return PluginJar.at(plugins.resolve("leaky.jar"))
                .withPlugin(ThreadLeakPlugin.class)
                .build();
    }

    public static Path versioned(Path plugins, String tag) throws IOException {
        return Files.write(plugins.resolve("ver.jar"), versioned(tag));
    }
}
