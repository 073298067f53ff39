import com.github.luben.zstd.Zstd;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.Deflater;

/**
 * CPU per MB and ratio of the codecs a rolled log file can take, on ~30 MB of lines shaped like the
 * echo daemon's (50 connections in random order, random sizes): zlib level 1 (gzip), zstd level 1
 * (the default) and zstd level -1 (zstd's fast levels). Thread CPU time, so that a busy machine moves
 * the figures less than wall time would.
 *
 * <pre>
 * taskset -c 1 java -cp "DIST/lib/*" benchmarks/logging/CompressionSpeed.java
 * </pre>
 */
public class CompressionSpeed {

    public static void main(String[] args) {
        StringBuilder text = new StringBuilder();
        Random random = new Random(1);
        long t = 1_764_504_000_000L;
        while (text.length() < 30_000_000) {
            t += random.nextInt(2);
            int conn = 1 + random.nextInt(50);
            text.append(String.format(
                    "2026-11-30 12:%02d:%02d.%03d INFO  [daemonkit-io-1-1] [echo conn=%d peer=127.0.0.1:%d]"
                            + " d.samples.echo.LineLog - echo %d bytes\n",
                    (t / 60_000) % 60, (t / 1000) % 60, t % 1000, conn, 40_000 + conn * 7, 8 + random.nextInt(3)));
        }
        byte[] in = text.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[in.length + 1024];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 5; round++) {
            long c0 = mx.getCurrentThreadCpuTime();
            Deflater deflater = new Deflater(Deflater.BEST_SPEED, true);
            deflater.setInput(in);
            deflater.finish();
            long n = 0;
            while (!deflater.finished()) {
                n += deflater.deflate(out);
            }
            deflater.end();
            report("zlib-1", in.length, n, mx.getCurrentThreadCpuTime() - c0);
            for (int level : new int[] {1, -1}) {
                c0 = mx.getCurrentThreadCpuTime();
                n = Zstd.compressByteArray(out, 0, out.length, in, 0, in.length, level);
                report("zstd" + level, in.length, n, mx.getCurrentThreadCpuTime() - c0);
            }
        }
    }

    private static void report(String codec, long in, long out, long cpuNanos) {
        System.out.printf("%-7s %6.0f MB/s of CPU  ratio %5.1f%n", codec, in / 1e6 / (cpuNanos / 1e9), (double) in / out);
    }
}
