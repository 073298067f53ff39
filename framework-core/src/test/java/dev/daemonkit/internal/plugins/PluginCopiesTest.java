package dev.daemonkit.internal.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plugin copy folders: a dead launcher's are removed at the next start, a live launcher's never. */
class PluginCopiesTest {
    @TempDir
    Path tmp;

    /** What a killed launcher leaves: its folder with the owner record and copies, and nobody holding the lock. */
    private Path leftover(String name) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(PluginCopies.PREFIX + name));
        Files.writeString(dir.resolve(PluginCopies.OWNER), "pid 999999\n");
        Files.createFile(dir.resolve(PluginCopies.LOCK));
        Files.createDirectories(dir.resolve("cache-1"));
        Files.writeString(dir.resolve("cache-1/cache.jar"), "a copy");
        return dir;
    }

    @Test
    void copiesLeftByALauncherThatIsGoneAreRemoved() throws Exception {
        Path dead = leftover("123");
        assertThat(PluginCopies.removeLeftovers(tmp)).containsExactly(dead);
        assertThat(dead).doesNotExist();
    }

    @Test
    void copiesOfALiveLauncherAreNeverRemoved() throws Exception {
        Path dead = leftover("1");
        try (PluginCopies live = PluginCopies.create(tmp)) {
            Files.writeString(live.dir().resolve("in-use.jar"), "a copy");
            assertThat(Files.readString(live.dir().resolve(PluginCopies.OWNER)))
                    .isEqualTo("pid " + ProcessHandle.current().pid() + "\n");
            assertThat(PluginCopies.removeLeftovers(tmp)).containsExactly(dead);
            assertThat(live.dir().resolve("in-use.jar")).exists();
            live.close();
            assertThat(live.dir()).doesNotExist();
        }
    }

    @Test
    void aFolderWithoutAnOwnerRecordIsLeftAlone() throws Exception {
        // Being created by a launcher starting right now (the record is written once the lock is held),
        // or left by a version that wrote no record: not ours to judge.
        Path young = Files.createDirectories(tmp.resolve(PluginCopies.PREFIX + "young"));
        Path other = Files.createDirectories(tmp.resolve("something-else"));
        assertThat(PluginCopies.removeLeftovers(tmp)).isEmpty();
        assertThat(young).exists();
        assertThat(other).exists();
    }
}
