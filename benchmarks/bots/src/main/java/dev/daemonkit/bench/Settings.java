package dev.daemonkit.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;

/** What one run of the bots does, from the command line. */
record Settings(
        String mode,
        InetSocketAddress target,
        int connections,
        int depth,
        int keys,
        int keySize,
        int valueSize,
        double getRatio,
        Duration duration,
        long requests,
        Duration warmup,
        int threads,
        int sourceAddresses,
        boolean preload,
        boolean tls,
        boolean reconnect) {

    static final String USAGE = """
            Usage: daemonkit-bench [options]            load a daemon on loopback and print what it took
              --mode memcached|echo      protocol (default memcached)
                                         (--mode presence: simulated chat users; --mode presence --help)
              --target HOST:PORT         loopback only (default 127.0.0.1:11311)
              --connections N            connections (default 50)
              --depth N                  requests in flight per connection: pipelining (default 1)
              --keys N                   key space (default 10000)
              --key-size N               bytes per key (default 12)
              --value-size N             bytes per value (default 100)
              --get-ratio R              share of gets among gets and sets (default 0.9)
              --duration D               how long to measure, e.g. 10s (default 10s)
              --requests N               stop after N replies instead (default: by duration)
              --warmup D                 load before measuring, not counted (default 2s)
              --threads N                event loop threads of the bots (default 1)
              --source-addresses N       spread connections over 127.0.0.1..N as source (default 1)
              --no-preload               do not set every key once before the run (memcached mode)
              --tls                      speak TLS (trusts any certificate: a benchmark, not a client)
              --reconnect                one request per connection, then a new connection: with --tls,
                                         every request pays a full handshake (no session resumption)
            Prints a progress line each second and a summary; stops by itself.
            """;

    static Settings parse(String[] args) {
        String mode = "memcached";
        String target = "127.0.0.1:11311";
        int connections = 50;
        int depth = 1;
        int keys = 10_000;
        int keySize = 12;
        int valueSize = 100;
        double getRatio = 0.9;
        Duration duration = Duration.ofSeconds(10);
        long requests = 0;
        Duration warmup = Duration.ofSeconds(2);
        int threads = 1;
        int sources = 1;
        boolean preload = true;
        boolean tls = false;
        boolean reconnect = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--no-preload")) {
                preload = false;
                continue;
            }
            if (a.equals("--tls")) {
                tls = true;
                continue;
            }
            if (a.equals("--reconnect")) {
                reconnect = true;
                continue;
            }
            if (a.equals("--help") || a.equals("-h")) {
                throw new IllegalArgumentException("");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--mode" -> mode = v;
                case "--target" -> target = v;
                case "--connections" -> connections = positive(a, v);
                case "--depth" -> depth = positive(a, v);
                case "--keys" -> keys = positive(a, v);
                case "--key-size" -> keySize = positive(a, v);
                case "--value-size" -> valueSize = positive(a, v);
                case "--get-ratio" -> getRatio = Double.parseDouble(v);
                case "--duration" -> duration = duration(a, v);
                case "--requests" -> requests = positive(a, v);
                case "--warmup" -> warmup = duration(a, v);
                case "--threads" -> threads = positive(a, v);
                case "--source-addresses" -> sources = positive(a, v);
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (!Mode.MODES.containsKey(mode)) {
            throw new IllegalArgumentException("--mode " + mode + " is not one of " + Mode.MODES.keySet());
        }
        if (getRatio < 0 || getRatio > 1) {
            throw new IllegalArgumentException("--get-ratio " + getRatio + " must be between 0 and 1");
        }
        if (keySize > 250) {
            throw new IllegalArgumentException("--key-size " + keySize + " is over memcached's 250-byte limit");
        }
        return new Settings(
                mode,
                loopback(target),
                connections,
                depth,
                keys,
                keySize,
                valueSize,
                getRatio,
                duration,
                requests,
                warmup,
                threads,
                sources,
                preload,
                tls,
                reconnect);
    }

    /** Option helpers, shared with {@link PresenceBots}. */
    static int positive(String option, String v) {
        int n;
        try {
            n = Integer.parseInt(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " " + v + " is not a number");
        }
        if (n < 1) {
            throw new IllegalArgumentException(option + " " + v + " must be 1 or more");
        }
        return n;
    }

    static Duration duration(String option, String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        try {
            if (s.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            }
            if (s.endsWith("s")) {
                return Duration.ofMillis((long) (Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
            }
            if (s.endsWith("m")) {
                return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)) * 60);
            }
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw new IllegalArgumentException(option + " " + v + " is not a duration: write 10s, 500ms or 2m");
    }

    /** The bots load loopback daemons only: they are a benchmark, not a traffic generator for other hosts. */
    static InetSocketAddress loopback(String target) {
        int colon = target.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("--target " + target + " needs HOST:PORT");
        }
        String host = target.substring(0, colon).replace("[", "").replace("]", "");
        try {
            InetAddress address = InetAddress.getByName(host);
            if (!address.isLoopbackAddress()) {
                throw new IllegalArgumentException("--target " + target + " is not a loopback address: "
                        + "the bots only load daemons on this machine (127.0.0.0/8 or ::1)");
            }
            return new InetSocketAddress(address, Integer.parseInt(target.substring(colon + 1)));
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("--target " + target + ": not HOST:PORT of this machine");
        }
    }
}
