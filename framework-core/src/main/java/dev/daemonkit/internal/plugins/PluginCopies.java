package dev.daemonkit.internal.plugins;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The folder of one launcher's private plugin copies ({@code daemonkit-plugins-*} in the temporary
 * folder), and the removal of such folders left behind by launchers that died without cleaning up
 * (kill -9, a crash, a power cut).
 *
 * <p>Whether the owner is alive is decided by a lock, not a process id: the owner holds an exclusive
 * lock on {@value #LOCK} for its whole life and the kernel drops it when the process ends, however it
 * ends. A pid can be reused, and a launcher in another PID namespace (a container sharing the temp
 * folder) has a pid this process cannot see; the lock works in both cases. The pid is still written
 * to {@value #OWNER}, for people. The owner file is written only once the lock is held, so a folder
 * without one (being created right now, or left by an older version) is never touched.
 */
public final class PluginCopies implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PluginCopies.class);
    static final String PREFIX = "daemonkit-plugins-";
    static final String LOCK = "owner.lock";
    static final String OWNER = "owner";

    private final Path dir;
    private final FileChannel channel;

    private PluginCopies(Path dir, FileChannel channel) {
        this.dir = dir;
        this.channel = channel;
    }

    /** Creates a new folder in {@code parent} and locks it for this process's life (or until {@link #close}). */
    public static PluginCopies create(Path parent) throws IOException {
        Path dir = Files.createTempDirectory(parent, PREFIX);
        FileChannel channel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            channel.lock();
            Files.writeString(
                    dir.resolve(OWNER), "pid " + ProcessHandle.current().pid() + "\n");
        } catch (IOException | RuntimeException e) {
            channel.close();
            PluginScanner.deleteTree(dir);
            throw e;
        }
        return new PluginCopies(dir, channel);
    }

    public Path dir() {
        return dir;
    }

    /**
     * Deletes the folders in {@code parent} whose launcher is gone (nobody holds their lock). A folder
     * of a live launcher, in this process or another, is left alone. Returns the folders deleted.
     */
    public static List<Path> removeLeftovers(Path parent) {
        List<Path> removed = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(parent, PREFIX + "*")) {
            for (Path dir : dirs) {
                if (Files.isDirectory(dir) && Files.exists(dir.resolve(OWNER)) && removeIfOrphaned(dir)) {
                    removed.add(dir);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("looking for plugin copies left by stopped launchers in {} failed: {}", parent, e.toString());
        }
        if (!removed.isEmpty()) {
            log.info(
                    "removed {} plugin copy folder(s) left in {} by launchers that are gone (killed?): {}",
                    removed.size(),
                    parent,
                    removed.stream().map(p -> p.getFileName().toString()).toList());
        }
        return removed;
    }

    private static boolean removeIfOrphaned(Path dir) {
        try (FileChannel channel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return false; // a live launcher in another process
            }
            try {
                PluginScanner.deleteTree(dir);
            } finally {
                lock.release();
            }
            return !Files.exists(dir);
        } catch (OverlappingFileLockException liveHere) {
            return false; // a live launcher in this process
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            log.debug("cannot check {}", dir, e);
            return false;
        }
    }

    /** Deletes the folder and drops the lock. */
    @Override
    public void close() {
        PluginScanner.deleteTree(dir);
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("closing {} failed", dir.resolve(LOCK), e);
        }
    }
}
