import java.lang.management.*;
import java.nio.*;
import java.nio.channels.*;
import java.nio.file.*;

/**
 * CPU per MB of appending log lines to a file (the page cache; the file is deleted after each run) in
 * writes of a given size, from a heap or a direct buffer: what the log writer's chunk size buys. Thread
 * CPU time; 200 MB per run, 3 measured rounds after one of warm-up.
 *
 * <pre>
 * taskset -c 1 java benchmarks/logging/AppendCost.java [DIR]      # DIR: where to write (default: java.io.tmpdir)
 * </pre>
 */
public class AppendCost {
    public static void main(String[] a) throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        byte[] line = "2026-11-30 12:00:00.123 INFO  [daemonkit-io-1-1] [echo conn=17 peer=127.0.0.1:40119] d.samples.echo.LineLog - echo 9 bytes\n".getBytes();
        long total = 200L << 20;
        for (int round = 0; round < 4; round++) {
            for (int chunk : new int[] {16 << 10, 55_000, 64 << 10, 256 << 10, 1 << 20}) {
                for (boolean direct : new boolean[] {false, true}) {
                    ByteBuffer buf = direct ? ByteBuffer.allocateDirect(chunk) : ByteBuffer.allocate(chunk);
                    while (buf.remaining() >= line.length) buf.put(line);
                    int n = buf.position();
                    Path p = Path.of(a.length > 0 ? a[0] : System.getProperty("java.io.tmpdir"), "append-cost.log");
                    Files.deleteIfExists(p);
                    long c0 = mx.getCurrentThreadCpuTime();
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                        for (long w = 0; w < total; w += n) { buf.clear().limit(n); while (buf.hasRemaining()) ch.write(buf); }
                    }
                    long c1 = mx.getCurrentThreadCpuTime();
                    if (round > 0) System.out.printf("%d chunk %7d %-6s %.1f us/MB%n", round, n, direct ? "direct" : "heap", (c1 - c0) / 1e3 / (total >> 20));
                    Files.delete(p);
                }
            }
        }
    }
}
