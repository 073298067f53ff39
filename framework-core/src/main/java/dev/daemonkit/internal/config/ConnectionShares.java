package dev.daemonkit.internal.config;

import com.sun.management.UnixOperatingSystemMXBean;
import com.typesafe.config.Config;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The launcher's connection budget and each daemon's share of it. The budget is what the process may
 * hold in accepted connections: the file descriptor limit ({@code ulimit -n}) minus a reserve for log
 * files, plugin jars, outgoing connections and the JVM's own files. Daemons with an explicit
 * {@code max-connections} keep it, the {@code auto} ones share what is left equally, and the admin
 * endpoint has its own small cap inside the budget, so no daemon's flood can take another's
 * connections or the descriptors the launcher itself needs. Limits that add up to more than the
 * budget are a config error (at start: exit 2; at reload: rejected).
 */
public final class ConnectionShares {
    private ConnectionShares() {}

    /** The budget and where it came from, for messages and metrics. */
    public record Budget(int connections, long descriptorLimit, int reserve, int admin) {
        /** Connections left for the daemons once the admin endpoint's cap is taken. */
        public int forDaemons() {
            return connections - admin;
        }

        String explain() {
            return descriptorLimit > 0
                    ? "the launcher's connection budget is " + connections + " (file descriptor limit "
                            + descriptorLimit
                            + " minus daemonkit.connections.reserve " + reserve
                            + "), of which daemonkit.admin.max-connections takes "
                            + admin
                    : "the launcher's connection budget is " + connections + " (daemonkit.connections.budget), of which"
                            + " daemonkit.admin.max-connections takes " + admin;
        }
    }

    /** Reads {@code daemonkit.connections} and {@code daemonkit.admin.max-connections}. */
    public static Budget budget(Config daemonkit) {
        int admin = daemonkit.getBoolean("admin.enabled") ? daemonkit.getInt("admin.max-connections") : 0;
        Object configured = daemonkit.getValue("connections.budget").unwrapped();
        int reserveWanted = daemonkit.getInt("connections.reserve");
        if (!"auto".equals(configured)) {
            int n = daemonkit.getInt("connections.budget");
            if (n <= admin) {
                throw new ConfigError("daemonkit.connections.budget = " + n + " ("
                        + Origins.of(daemonkit.getValue("connections.budget"))
                        + ") must be more than daemonkit.admin.max-connections (" + admin + "), or auto.");
            }
            return new Budget(n, -1, reserveWanted, admin);
        }
        long limit = descriptorLimit();
        if (limit <= 0) {
            return new Budget(Integer.MAX_VALUE / 2, -1, reserveWanted, admin); // no limit known (not Unix)
        }
        // A low ulimit (1024 is common) must still leave room for daemons: the reserve takes at most a quarter.
        int reserve = (int) Math.min(reserveWanted, limit / 4);
        int connections = (int) Math.min(Integer.MAX_VALUE / 2, limit - reserve);
        if (connections <= admin) {
            throw new ConfigError("the file descriptor limit (ulimit -n) is " + limit + ": too low to run daemons."
                    + " Raise it (e.g. ulimit -n 20000, or LimitNOFILE= in the systemd unit).");
        }
        return new Budget(connections, limit, reserve, admin);
    }

    /** The process's file descriptor limit, or -1 where the JVM cannot tell. */
    public static long descriptorLimit() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }

    /**
     * Gives every {@code auto} daemon its share, or throws a {@link ConfigError} naming the numbers when
     * the explicit limits leave less than one connection per {@code auto} daemon or add up to more than
     * the budget.
     */
    public static List<DaemonSpec> share(List<DaemonSpec> daemons, Budget budget) {
        long explicit = 0;
        int auto = 0;
        Map<String, Integer> fixed = new LinkedHashMap<>();
        for (DaemonSpec d : daemons) {
            if (d.settings().maxConnections() == DaemonSettings.AUTO) {
                auto++;
            } else {
                explicit += d.settings().maxConnections();
                fixed.put(d.name(), d.settings().maxConnections());
            }
        }
        long left = budget.forDaemons() - explicit;
        if (left < 0 || auto > 0 && left < auto) {
            throw new ConfigError("the daemons' max-connections add up to " + explicit + " " + fixed
                    + (auto > 0 ? " plus " + auto + " daemon(s) on auto" : "") + ", but " + budget.explain()
                    + ", leaving " + budget.forDaemons()
                    + " for daemons. Lower daemons.NAME.max-connections, set some to"
                    + " auto, or raise the descriptor limit (ulimit -n).");
        }
        if (auto == 0) {
            return daemons;
        }
        int share = (int) Math.min(Integer.MAX_VALUE / 2, left / auto);
        List<DaemonSpec> out = new ArrayList<>(daemons.size());
        for (DaemonSpec d : daemons) {
            out.add(
                    d.settings().maxConnections() == DaemonSettings.AUTO
                            ? new DaemonSpec(d.settings().withMaxConnections(share), d.block())
                            : d);
        }
        return out;
    }
}
