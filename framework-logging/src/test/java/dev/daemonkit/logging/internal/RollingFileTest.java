package dev.daemonkit.logging.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.luben.zstd.ZstdInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rolling by size and by day, compression, and the history kept, with a clock moved by hand. */
class RollingFileTest {

    private static final ZoneId ZONE = ZoneOffset.UTC;
    private static final LocalDate DAY1 = LocalDate.of(2026, 3, 1);
    private static final long DAY_MILLIS = 86_400_000L;

    @TempDir
    Path dir;

    private final AtomicLong clock =
            new AtomicLong(DAY1.atStartOfDay(ZONE).toInstant().toEpochMilli() + 3_600_000);
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private RollingFile.Archiver archiver = new RollingFile.Archiver(errors::add);

    @AfterEach
    void noErrors() {
        archiver.close();
        assertThat(errors).isEmpty();
    }

    @Test
    void rollsBySizeIntoNumberedGzipFilesThatHoldEveryByteInOrder() throws IOException {
        RollingFile file = open(new RollingSettings(1_000, 30, 1L << 30, Compression.GZIP));
        StringBuilder written = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            String chunk = ("chunk " + i + " ").repeat(30) + "\n";
            write(file, chunk);
            written.append(chunk);
        }
        file.close();
        finishArchiving();

        List<String> rolled =
                names().stream().filter(n -> n.endsWith(".log.gz")).toList();
        assertThat(rolled).isNotEmpty().allMatch(n -> n.matches("echo\\.2026-03-01\\.\\d+\\.log\\.gz"));
        assertThat(names()).doesNotContain("echo.2026-03-01.0.log"); // compressed, raw one deleted
        assertThat(allContent("2026-03-01")).isEqualTo(written.toString());
        assertThat(Files.size(dir.resolve("echo.log"))).isLessThanOrEqualTo(1_000);
    }

    @Test
    void rollsAtTheFirstWriteOfANewDayIntoTheOldDaysName() throws IOException {
        RollingFile file = open(new RollingSettings(1L << 20, 30, 1L << 30, Compression.GZIP));
        write(file, "on day one\n");
        clock.addAndGet(DAY_MILLIS);
        write(file, "on day two\n");
        file.close();
        finishArchiving();

        assertThat(gunzip(dir.resolve("echo.2026-03-01.0.log.gz"))).isEqualTo("on day one\n");
        assertThat(Files.readString(dir.resolve("echo.log"))).isEqualTo("on day two\n");
    }

    @Test
    void aFileLeftFromAnEarlierDayIsRolledWhenOpenedAndNumbersGoOnAfterARestart() throws IOException {
        RollingFile first = open(new RollingSettings(50, 30, 1L << 30, Compression.GZIP));
        write(first, "a".repeat(40) + "\n");
        write(first, "b".repeat(40) + "\n"); // rolls the a's to index 0
        first.close();
        RollingFile second = open(new RollingSettings(50, 30, 1L << 30, Compression.GZIP));
        write(second, "c".repeat(40) + "\n"); // rolls the b's to index 1, not 0 again
        second.close();
        Files.setLastModifiedTime(dir.resolve("echo.log"), FileTime.fromMillis(clock.get()));
        clock.addAndGet(DAY_MILLIS);
        RollingFile third = open(new RollingSettings(50, 30, 1L << 30, Compression.GZIP));
        third.close();
        finishArchiving();

        assertThat(gunzip(dir.resolve("echo.2026-03-01.0.log.gz"))).startsWith("aaa");
        assertThat(gunzip(dir.resolve("echo.2026-03-01.1.log.gz"))).startsWith("bbb");
        assertThat(gunzip(dir.resolve("echo.2026-03-01.2.log.gz"))).startsWith("ccc");
        assertThat(Files.size(dir.resolve("echo.log"))).isZero();
    }

    @Test
    void deletesRolledFilesOlderThanMaxHistoryAndTheOldestBeyondTheSizeCap() throws IOException {
        // Rolled files of earlier days, as earlier runs left them; not other logs' files.
        for (int day = 1; day <= 10; day++) {
            Files.write(dir.resolve("echo.2026-02-" + String.format("%02d", 18 + day) + ".0.log.gz"), new byte[100]);
        }
        Files.write(dir.resolve("cache.2026-01-01.0.log.gz"), new byte[100]);
        RollingFile file = open(new RollingSettings(10, 5, 350, Compression.GZIP));
        write(file, "x".repeat(20) + "\n");
        write(file, "y".repeat(20) + "\n"); // rolls, then cleans up
        file.close();
        finishArchiving();

        // max-history 5 days before 2026-03-01 keeps 02-24..02-28; the cap of 350 bytes then keeps the
        // newest: today's roll and the three newest 100-byte files.
        assertThat(names())
                .contains(
                        "echo.log",
                        "echo.2026-03-01.0.log.gz",
                        "echo.2026-02-28.0.log.gz",
                        "echo.2026-02-27.0.log.gz",
                        "echo.2026-02-26.0.log.gz",
                        "cache.2026-01-01.0.log.gz");
        assertThat(names()).noneMatch(n -> n.matches("echo\\.2026-02-(1\\d|2[0-5])\\.0\\.log\\.gz"));
    }

    @Test
    void aRolledFileACrashLeftUncompressedIsCompressedAtTheNextOpen() throws IOException {
        Files.writeString(dir.resolve("echo.2026-02-28.3.log"), "left behind\n");
        open(new RollingSettings(1L << 20, 30, 1L << 30, Compression.GZIP)).close();
        finishArchiving();

        assertThat(names()).doesNotContain("echo.2026-02-28.3.log");
        assertThat(gunzip(dir.resolve("echo.2026-02-28.3.log.gz"))).isEqualTo("left behind\n");
    }

    @Test
    void halfWrittenArchivesACrashLeftAreDeletedAndTheirRawFileCompressedAgain() throws IOException {
        Files.writeString(dir.resolve("echo.2026-02-28.3.log"), "left behind\n");
        Files.writeString(dir.resolve("echo.2026-02-28.3.log.gz.part"), "half an archive");
        Files.writeString(dir.resolve("echo.2026-02-27.0.log.gz.part"), "raw file gone");
        Files.writeString(dir.resolve("cache.2026-02-27.0.log.gz.part"), "another log's");
        open(new RollingSettings(1L << 20, 30, 1L << 30, Compression.GZIP)).close();
        finishArchiving();

        assertThat(names())
                .containsExactlyInAnyOrder("cache.2026-02-27.0.log.gz.part", "echo.2026-02-28.3.log.gz", "echo.log");
        assertThat(gunzip(dir.resolve("echo.2026-02-28.3.log.gz"))).isEqualTo("left behind\n");
    }

    @Test
    void aSecondArchiverLeavesAloneTheArchiveTheFirstIsWriting() throws Exception {
        // A FIFO as the rolled file: the first archiver's compression stays in flight, its .gz.part
        // open, until the test writes the content.
        Path raw = dir.resolve("echo.2026-02-28.0.log");
        assertThat(new ProcessBuilder("mkfifo", raw.toString()).start().waitFor())
                .isZero();
        Path part = dir.resolve("echo.2026-02-28.0.log.gz.part");
        CompletableFuture<OutputStream> writeEnd = CompletableFuture.supplyAsync(() -> {
            try {
                return Files.newOutputStream(raw); // opens once the archiver opens the read end
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        RollingSettings settings = new RollingSettings(1L << 20, 30, 1L << 30, Compression.GZIP);
        open(settings).close();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(part));

        RollingFile.Archiver second = new RollingFile.Archiver(errors::add);
        new RollingFile(dir, "echo.log", settings, second, clock::get, ZONE).open();
        second.close(); // its clean-up of partial archives and its compression of leftovers have run
        assertThat(part).exists();

        try (OutputStream out = writeEnd.get(10, TimeUnit.SECONDS)) {
            out.write("in flight\n".getBytes(StandardCharsets.UTF_8));
        }
        finishArchiving();
        assertThat(gunzip(dir.resolve("echo.2026-02-28.0.log.gz"))).isEqualTo("in flight\n");
        assertThat(names()).doesNotContain("echo.2026-02-28.0.log", "echo.2026-02-28.0.log.gz.part");
    }

    @Test
    void rolledFilesAreZstdCompressedByDefaultAndHoldEveryByteInOrder() throws IOException {
        RollingFile file = open(new RollingSettings(1_000, 30, 1L << 30, Compression.ZSTD));
        StringBuilder written = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            String chunk = ("chunk " + i + " ").repeat(30) + "\n";
            write(file, chunk);
            written.append(chunk);
        }
        file.close();
        finishArchiving();

        List<String> rolled = names().stream().filter(n -> n.contains(".2026-")).toList();
        assertThat(rolled).isNotEmpty().allMatch(n -> n.matches("echo\\.2026-03-01\\.\\d+\\.log\\.zst"));
        assertThat(allContent("2026-03-01")).isEqualTo(written.toString());
    }

    @Test
    void aRolledFileLargerThanTheArchiversBuffersIsZstdCompressedWhole() throws IOException {
        // The archiver reads 1 MiB at a time: a 3.5 MiB file takes several reads and several outputs.
        RollingFile file = open(new RollingSettings(3_400_000, 30, 1L << 30, Compression.ZSTD));
        StringBuilder written = new StringBuilder();
        for (int i = 0; written.length() < 3_300_000; i++) {
            String line =
                    "2026-03-01 01:00:00.000 INFO  [daemonkit-io-1-1] [echo conn=" + (i % 50) + "] line " + i + "\n";
            written.append(line);
        }
        write(file, written.toString());
        write(file, "after\n".repeat(20_000)); // would pass max-file-size: rolls first
        file.close();
        finishArchiving();

        assertThat(names()).containsExactly("echo.2026-03-01.0.log.zst", "echo.log");
        assertThat(unzstd(dir.resolve("echo.2026-03-01.0.log.zst"))).isEqualTo(written.toString());
    }

    @Test
    void anEmptyRolledFileACrashLeftBecomesAnEmptyZstdArchive() throws IOException {
        Files.createFile(dir.resolve("echo.2026-02-28.0.log"));
        open(new RollingSettings(1L << 20, 30, 1L << 30, Compression.ZSTD)).close();
        finishArchiving();

        assertThat(names()).containsExactly("echo.2026-02-28.0.log.zst", "echo.log");
        assertThat(unzstd(dir.resolve("echo.2026-02-28.0.log.zst"))).isEmpty();
    }

    @Test
    void gzipArchivesFromBeforeASwitchToZstdStillCountTowardsTheHistoryAndTheCap() throws IOException {
        // Left by an earlier version that gzipped: the cap must weigh them, and max-history delete them.
        Files.write(dir.resolve("echo.2026-01-01.0.log.gz"), new byte[100]); // older than max-history
        Files.write(dir.resolve("echo.2026-02-27.0.log.gz"), new byte[300]);
        Files.write(dir.resolve("echo.2026-02-28.0.log.gz"), new byte[100]);
        RollingFile file = open(new RollingSettings(10, 5, 350, Compression.ZSTD));
        write(file, "x".repeat(20) + "\n");
        write(file, "y".repeat(20) + "\n"); // rolls, then cleans up
        file.close();
        finishArchiving();

        assertThat(names())
                .containsExactlyInAnyOrder("echo.log", "echo.2026-03-01.0.log.zst", "echo.2026-02-28.0.log.gz");
        assertThat(unzstd(dir.resolve("echo.2026-03-01.0.log.zst"))).isEqualTo("x".repeat(20) + "\n");
    }

    @Test
    void withoutCompressionRolledFilesStayAsTheyAreAndCountTowardsTheCap() throws IOException {
        Files.write(dir.resolve("echo.2026-02-27.0.log"), new byte[320]);
        RollingFile file = open(new RollingSettings(10, 5, 350, Compression.NONE));
        write(file, "x".repeat(20) + "\n");
        write(file, "y".repeat(20) + "\n"); // rolls: 21 + 320 bytes fit the cap of 350
        write(file, "z".repeat(20) + "\n"); // rolls again: 21 + 21 + 320 would not, the oldest goes
        file.close();
        finishArchiving();

        assertThat(names()).containsExactlyInAnyOrder("echo.log", "echo.2026-03-01.0.log", "echo.2026-03-01.1.log");
        assertThat(Files.readString(dir.resolve("echo.2026-03-01.0.log"))).isEqualTo("x".repeat(20) + "\n");
    }

    @Test
    void whenZstdCannotLoadOnAPlatformRolledFilesAreGzippedAndThatIsSaidOnce() throws IOException {
        archiver.close();
        archiver = new RollingFile.Archiver(errors::add, () -> "java.lang.UnsatisfiedLinkError: no zstd-jni here");
        RollingFile file = open(new RollingSettings(50, 30, 1L << 30, Compression.ZSTD));
        write(file, "a".repeat(40) + "\n");
        write(file, "b".repeat(40) + "\n"); // rolls the a's
        write(file, "c".repeat(40) + "\n"); // rolls the b's
        file.close();
        archiver.close();

        assertThat(gunzip(dir.resolve("echo.2026-03-01.0.log.gz"))).startsWith("aaa");
        assertThat(gunzip(dir.resolve("echo.2026-03-01.1.log.gz"))).startsWith("bbb");
        assertThat(errors)
                .singleElement()
                .asString()
                .contains("cannot load zstd's native library", "UnsatisfiedLinkError", "rolling.compression = gzip");
        errors.clear();
        archiver = new RollingFile.Archiver(errors::add);
    }

    private RollingFile open(RollingSettings settings) throws IOException {
        RollingFile file = new RollingFile(dir, "echo.log", settings, archiver, clock::get, ZONE);
        file.open();
        return file;
    }

    private static void write(RollingFile file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        file.write(bytes, 0, bytes.length);
    }

    private void finishArchiving() {
        archiver.close();
        archiver = new RollingFile.Archiver(errors::add);
    }

    private List<String> names() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The rolled files of {@code day} in index order, then the active file. */
    private String allContent(String day) throws IOException {
        List<Path> rolled = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> p.getFileName().toString().startsWith("echo." + day + "."))
                    .forEach(rolled::add);
        }
        rolled.sort(Comparator.comparingInt(
                p -> Integer.parseInt(p.getFileName().toString().split("\\.")[2])));
        StringBuilder all = new StringBuilder();
        for (Path p : rolled) {
            all.append(p.getFileName().toString().endsWith(".zst") ? unzstd(p) : gunzip(p));
        }
        return all.append(Files.readString(dir.resolve("echo.log"))).toString();
    }

    private static String unzstd(Path zst) throws IOException {
        try (InputStream in = new ZstdInputStream(Files.newInputStream(zst))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    private static String gunzip(Path gz) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
