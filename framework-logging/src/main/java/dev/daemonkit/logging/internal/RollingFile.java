package dev.daemonkit.logging.internal;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.util.Native;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * A log file that rolls by size and by day, compresses what it rolled ({@link Compression}), and
 * keeps a bounded history: {@code logs/echo.log} rolls to {@code logs/echo.2025-01-31.0.log.zst},
 * {@code echo.2025-01-31.1.log.zst}, ... (the names Logback's SizeAndTimeBasedRollingPolicy gives
 * with the pattern {@code echo.%d{yyyy-MM-dd}.%i.log.zst}; {@code .log.gz} with gzip). Archives of
 * either kind count towards the history, so changing the compression keeps what was rolled before.
 *
 * <p>Why not Logback's RollingFileAppender: compressing what it rolled was the largest single cost of
 * logging a line per request (a 100 MB file rolls every few seconds at that rate), and Logback
 * compresses at a fixed zlib level 6; this file compresses with zstd level 1 by default, which took
 * 2.3x less CPU than zlib level 1 on log lines, itself 2.6x less than level 6 (docs/benchmarks.md,
 * "Logging"). It also takes whole chunks of lines, so the clock is read and the size checked once per
 * chunk, not per line.
 *
 * <p>Written by one thread (its output's writer). Compression and deleting old files run on the
 * {@link Archiver}'s thread. A rolled file is renamed first and compressed after; one left
 * uncompressed by a crash is compressed when the file is next opened, and a half-written archive
 * ({@code .zst.part}, {@code .gz.part}) a crash left is deleted then.
 */
public final class RollingFile {

    private final Path dir;
    private final String base;
    private final Path active;
    private final RollingSettings rolling;
    private final Archiver archiver;
    private final LongSupplier clock;
    private final ZoneId zone;
    private final Pattern rolled;
    private final Pattern partial;
    private FileChannel channel;
    private long size;
    private LocalDate day;
    private int nextIndex;
    /** After a write failed: when to try again (clock millis), so a full disk is not hammered. */
    private long retryAt;

    /**
     * @param fileName e.g. {@code echo.log}; rolled files are {@code echo.2025-01-31.0.log.zst}
     * @param clock    milliseconds since the epoch (tests move it by hand)
     */
    public RollingFile(
            Path dir, String fileName, RollingSettings rolling, Archiver archiver, LongSupplier clock, ZoneId zone) {
        this.dir = dir;
        this.base = fileName.endsWith(".log") ? fileName.substring(0, fileName.length() - 4) : fileName;
        this.active = dir.resolve(fileName);
        this.rolling = rolling;
        this.archiver = archiver;
        this.clock = clock;
        this.zone = zone;
        this.rolled = Pattern.compile(Pattern.quote(base) + "\\.(\\d{4}-\\d{2}-\\d{2})\\.(\\d+)\\.log(\\.gz|\\.zst)?");
        this.partial = Pattern.compile(Pattern.quote(base) + "\\.\\d{4}-\\d{2}-\\d{2}\\.\\d+\\.log\\.(gz|zst)\\.part");
    }

    public Path path() {
        return active;
    }

    /**
     * Opens the file for appending. A file last written on an earlier day is rolled first, and rolled
     * files a crash left uncompressed are compressed.
     *
     * @throws IOException when the file cannot be opened
     */
    public void open() throws IOException {
        LocalDate today = today();
        if (Files.isRegularFile(active) && Files.size(active) > 0) {
            LocalDate written =
                    LocalDate.ofInstant(Files.getLastModifiedTime(active).toInstant(), zone);
            if (written.isBefore(today)) {
                day = written;
                nextIndex = nextIndex(written);
                roll(today);
            }
        }
        openChannel();
        day = today;
        nextIndex = nextIndex(today);
        // A partial archive is a crash's unless a compression is writing it now, which the archivers'
        // in-flight set tells (such a one is left alone). Queued on the archiver so that the
        // directory listing stays off the caller's thread and runs before the leftovers' compression.
        archiver.run(this::deletePartialArchives);
        if (rolling.compression() == Compression.NONE) {
            archiver.run(this::cleanUp);
            return;
        }
        for (Path leftover : rolledFiles(false)) {
            archiver.compress(leftover, rolling.compression(), this::cleanUp);
        }
    }

    /** Deletes the {@code .zst.part} and {@code .gz.part} files a crash left half written (their raw file is compressed again). */
    private void deletePartialArchives() {
        try (Stream<Path> listing = Files.list(dir)) {
            listing.filter(p -> partial.matcher(p.getFileName().toString()).matches())
                    .toList()
                    .forEach(Archiver::deleteUnlessBeingWritten);
        } catch (IOException e) {
            // An unreadable directory: opening the file reported it already, or will.
        }
    }

    /**
     * Appends {@code bytes}, rolling first when the file is from an earlier day or would grow past
     * its maximum size.
     *
     * @throws IOException when the bytes could not be written (they are lost); the next write after a
     *                     second tries to reopen the file
     */
    /**
     * The most a writer should gather before writing here: {@code preferred}, but at most a quarter of the
     * file's maximum size (and at least 1 KiB). A file is rolled before a write that would take it past its
     * maximum, never inside one, so with a 10 KiB maximum a 256 KiB chunk written to an empty file would make it
     * 25 times its maximum and never roll.
     */
    public int chunkLimit(int preferred) {
        return (int) Math.max(1024, Math.min(preferred, rolling.maxFileSizeBytes() / 4));
    }

    public void write(byte[] bytes, int offset, int length) throws IOException {
        long now = clock.getAsLong();
        if (channel == null) {
            if (now < retryAt) {
                throw new IOException("still failing, retrying in " + (retryAt - now) + " ms");
            }
            reopen(now);
        }
        try {
            LocalDate today = LocalDate.ofInstant(Instant.ofEpochMilli(now), zone);
            if (!today.equals(day) || size > 0 && size + length > rolling.maxFileSizeBytes()) {
                roll(today);
                openChannel();
            }
            ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            size += length;
        } catch (IOException e) {
            closeQuietly();
            retryAt = now + 1000;
            throw e;
        }
    }

    private void reopen(long now) throws IOException {
        try {
            openChannel();
        } catch (IOException e) {
            retryAt = now + 1000;
            throw e;
        }
    }

    private void openChannel() throws IOException {
        channel = FileChannel.open(
                active, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        size = channel.size();
    }

    /** Closes the file; rolled files still being compressed are finished by the {@link Archiver}. */
    public void close() throws IOException {
        if (channel != null) {
            FileChannel open = channel;
            channel = null;
            open.close();
        }
    }

    /** Renames the active file to the next rolled name of its day and hands it to the archiver. */
    private void roll(LocalDate today) throws IOException {
        closeQuietly();
        if (Files.isRegularFile(active) && Files.size(active) > 0) {
            Path target = dir.resolve(base + "." + day + "." + nextIndex + ".log");
            Files.move(active, target, StandardCopyOption.ATOMIC_MOVE);
            nextIndex++;
            if (rolling.compression() == Compression.NONE) {
                archiver.run(this::cleanUp);
            } else {
                archiver.compress(target, rolling.compression(), this::cleanUp);
            }
        }
        if (!today.equals(day)) {
            day = today;
            nextIndex = nextIndex(today);
        }
    }

    private void closeQuietly() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing a file we could not write; the write's own error is what is reported.
            }
            channel = null;
        }
    }

    /**
     * Deletes rolled files older than {@code max-history} days, then the oldest until the rest fit in
     * {@code total-size-cap}. Runs on the archiver's thread.
     */
    void cleanUp() {
        LocalDate oldestKept = today().minusDays(rolling.maxHistoryDays());
        List<RolledFile> files = new ArrayList<>();
        for (Path path : rolledFiles(true)) {
            Matcher m = rolled.matcher(path.getFileName().toString());
            if (!m.matches()) {
                continue;
            }
            LocalDate date = LocalDate.parse(m.group(1));
            if (date.isBefore(oldestKept)) {
                deleteQuietly(path);
            } else {
                files.add(new RolledFile(path, date, Integer.parseInt(m.group(2)), sizeOf(path)));
            }
        }
        // Only compressed files count towards the cap: one still waiting for the archiver would count at
        // its full size and could push out older history that fits once it is compressed. Without
        // compression, rolled files stay as they are and all count.
        if (rolling.compression() != Compression.NONE) {
            files.removeIf(f -> !f.path().getFileName().toString().endsWith(".log.gz")
                    && !f.path().getFileName().toString().endsWith(".log.zst"));
        }
        files.sort(Comparator.comparing(RolledFile::date)
                .thenComparingInt(RolledFile::index)
                .reversed());
        long total = 0;
        for (RolledFile file : files) {
            total += file.size();
            if (total > rolling.totalSizeCapBytes()) {
                deleteQuietly(file.path());
            }
        }
    }

    private record RolledFile(Path path, LocalDate date, int index, long size) {}

    private int nextIndex(LocalDate date) {
        int next = 0;
        for (Path path : rolledFiles(true)) {
            Matcher m = rolled.matcher(path.getFileName().toString());
            if (m.matches() && LocalDate.parse(m.group(1)).equals(date)) {
                next = Math.max(next, Integer.parseInt(m.group(2)) + 1);
            }
        }
        return next;
    }

    /** Rolled files of this log; {@code withCompressed} false: only those not compressed yet. */
    private List<Path> rolledFiles(boolean withCompressed) {
        try (Stream<Path> listing = Files.list(dir)) {
            return listing.filter(p -> {
                        Matcher m = rolled.matcher(p.getFileName().toString());
                        return m.matches() && (withCompressed || m.group(3) == null);
                    })
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private LocalDate today() {
        return LocalDate.ofInstant(Instant.ofEpochMilli(clock.getAsLong()), zone);
    }

    private static long sizeOf(Path path) {
        try {
            return Files.size(path);
        } catch (IOException e) {
            return 0;
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // Gone already, or not ours to delete; the next clean-up tries again.
        }
    }

    /**
     * Compresses rolled files and cleans up history on one background thread shared by all files of
     * a LoggingSystem, so that rolling never waits for compression.
     */
    public static final class Archiver implements AutoCloseable {

        /**
         * Rolled files being compressed now by any archiver of this JVM. One archiver runs one task at a
         * time, but two LoggingSystems in a row (a test, an embedder) can overlap while the first one's
         * archiver finishes: both would write the same {@code .zst.part}, and one would delete the
         * other's.
         */
        private static final Set<Path> IN_FLIGHT = new HashSet<>();

        private final ExecutorService executor;
        private final Consumer<String> errors;
        /** Whether zstd's native library loads here; null until the first zstd compression asks. */
        private Boolean zstdLoads;

        private final ZstdCheck zstdCheck;
        /** zstd's input and output, made at the first zstd compression (archiver thread only). */
        private ByteBuffer zstdIn;

        private ByteBuffer zstdOut;
        private static final int ZSTD_BUFFER = 1 << 20;

        /** @param errors told what failed, e.g. a file that could not be compressed */
        public Archiver(Consumer<String> errors) {
            this(errors, Archiver::loadZstd);
        }

        /** @param zstdCheck loads zstd's native library, or says why it cannot (tests: a platform without it) */
        Archiver(Consumer<String> errors, ZstdCheck zstdCheck) {
            this.errors = errors;
            this.zstdCheck = zstdCheck;
            this.executor = Executors.newSingleThreadExecutor(task -> {
                Thread thread = new Thread(task, "daemonkit-log-archive");
                thread.setDaemon(true);
                thread.setPriority(Thread.MIN_PRIORITY);
                return thread;
            });
        }

        void compress(Path file, Compression compression, Runnable then) {
            run(() -> {
                compress(file, compression);
                then.run();
            });
        }

        /** Loads zstd-jni's native library, or says why it cannot. */
        @FunctionalInterface
        interface ZstdCheck {
            /** @return null when zstd works, else why not */
            String problem();
        }

        private static String loadZstd() {
            try {
                Native.load();
                return null;
            } catch (LinkageError | RuntimeException e) { // UnsatisfiedLinkError, a jar without this platform
                return e.toString();
            }
        }

        /**
         * zstd, unless its native library does not load on this platform (zstd-jni ships it for the
         * usual ones): then gzip, said once, so that rolled files are still compressed and counted.
         */
        private Compression usable(Compression wanted) {
            if (wanted != Compression.ZSTD) {
                return wanted;
            }
            if (zstdLoads == null) {
                String problem = zstdCheck.problem();
                zstdLoads = problem == null;
                if (problem != null) {
                    errors.accept("cannot load zstd's native library (" + problem + "); rolled log files are"
                            + " gzipped instead (.log.gz). Set rolling.compression = gzip to say so, or run on a"
                            + " platform zstd-jni supports.");
                }
            }
            return zstdLoads ? Compression.ZSTD : Compression.GZIP;
        }

        /** Runs {@code work} on the archiver's thread, after the work queued before it. */
        void run(Runnable work) {
            try {
                executor.execute(work);
            } catch (RejectedExecutionException e) {
                // Closed: a rolled file stays uncompressed and is compressed when the log is next opened.
            }
        }

        private void compress(Path file, Compression compression) {
            Path key = file.toAbsolutePath().normalize();
            synchronized (IN_FLIGHT) {
                if (!IN_FLIGHT.add(key)) {
                    return; // another archiver of this JVM (a second LoggingSystem) is compressing it
                }
            }
            try {
                compressAlone(file, usable(compression));
            } finally {
                synchronized (IN_FLIGHT) {
                    IN_FLIGHT.remove(key);
                }
            }
        }

        /**
         * Deletes a half-written archive unless an archiver of this JVM is writing it now. Under the
         * same lock as the start of a compression, so none can start between the check and the delete.
         */
        static void deleteUnlessBeingWritten(Path part) {
            String name = part.getFileName().toString();
            Path raw = part.resolveSibling(name.replaceFirst("\\.(gz|zst)\\.part$", ""));
            synchronized (IN_FLIGHT) {
                if (!IN_FLIGHT.contains(raw.toAbsolutePath().normalize())) {
                    deleteQuietly(part);
                }
            }
        }

        private void compressAlone(Path file, Compression compression) {
            Path gz = file.resolveSibling(file.getFileName() + compression.suffix());
            Path partial = file.resolveSibling(file.getFileName() + compression.suffix() + ".part");
            try {
                if (compression == Compression.ZSTD) {
                    zstd(file, partial);
                } else {
                    try (InputStream in = Files.newInputStream(file);
                            OutputStream out = open(partial, compression)) {
                        in.transferTo(out);
                    }
                }
            } catch (NoSuchFileException e) {
                return; // compressed and deleted meanwhile (a second open of the same log)
            } catch (IOException e) {
                errors.accept("cannot compress rolled log file " + file + ": " + e + "; it stays uncompressed");
                deleteQuietly(partial);
                return;
            }
            try {
                Files.move(partial, gz, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                Files.delete(file);
            } catch (IOException e) {
                errors.accept("cannot finish compressing rolled log file " + file + ": " + e);
            }
        }

        /** gzip at level 1 (zstd goes through {@link #zstd}). */
        private static OutputStream open(Path partial, Compression compression) throws IOException {
            return new GZIPOutputStream(Files.newOutputStream(partial), 64 * 1024) {
                {
                    def.setLevel(Deflater.BEST_SPEED);
                }
            };
        }

        /**
         * Compresses {@code file} into one zstd frame at level 1 (the fastest of zstd's regular levels,
         * and on log lines already a smaller archive than gzip's level 1, docs/benchmarks.md "Logging").
         *
         * <p>Why direct buffers rather than {@code ZstdOutputStream}: a profile at a line per request put
         * less than half of this thread's time in zstd itself; the rest was copies (the file read into a
         * JDK buffer, then a heap array, then a buffered stream, then across JNI) and zstd's small-input
         * path. Here the file is read once into a direct buffer that zstd reads in place. Not a memory
         * map: a mapped file deleted right after keeps its disk blocks until a GC unmaps it.
         * A FIFO works too (read to its end), which a test relies on.
         */
        private void zstd(Path file, Path partial) throws IOException {
            if (zstdIn == null) {
                zstdIn = ByteBuffer.allocateDirect(ZSTD_BUFFER);
                zstdOut = ByteBuffer.allocateDirect(ZSTD_BUFFER);
            }
            ByteBuffer in = zstdIn.clear();
            ByteBuffer out = zstdOut.clear();
            try (FileChannel source = FileChannel.open(file, StandardOpenOption.READ);
                    FileChannel target = FileChannel.open(
                            partial,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.TRUNCATE_EXISTING,
                            StandardOpenOption.WRITE);
                    ZstdCompressCtx zstd = new ZstdCompressCtx()) {
                zstd.setLevel(1);
                boolean end = false;
                while (!end) {
                    in.clear();
                    while (in.hasRemaining() && !end) {
                        end = source.read(in) < 0;
                    }
                    in.flip();
                    EndDirective directive = end ? EndDirective.END : EndDirective.CONTINUE;
                    boolean flushed;
                    do {
                        flushed = zstd.compressDirectByteBufferStream(out, in, directive);
                        out.flip();
                        while (out.hasRemaining()) {
                            target.write(out);
                        }
                        out.clear();
                    } while (in.hasRemaining() || end && !flushed);
                }
            }
        }

        /** Finishes queued compressions, waiting at most {@code millis}. */
        @Override
        public void close() {
            close(10_000);
        }

        public void close(long millis) {
            executor.shutdown();
            try {
                executor.awaitTermination(millis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
