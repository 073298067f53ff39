package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.internal.config.Addresses;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A declared socket, for the launcher's check that no two listeners share an address. */
record DeclaredAddress(String transport, InetSocketAddress address, String where) {
    String label() {
        return transport + " " + Addresses.format(address);
    }

    /** One message per address two of {@code instances}' listeners declare (an ephemeral port never clashes). */
    static List<String> clashes(List<DaemonInstance> instances) {
        Map<String, DeclaredAddress> claimed = new HashMap<>();
        List<String> errors = new ArrayList<>();
        for (DaemonInstance i : instances) {
            for (DeclaredAddress a : i.declaredAddresses()) {
                DeclaredAddress other = a.address().getPort() == 0 ? null : claimed.putIfAbsent(a.label(), a);
                if (other != null) {
                    errors.add("two listeners on " + a.label() + ": " + other.where() + " and " + a.where()
                            + ". Give each its own port.");
                }
            }
        }
        return errors;
    }
}
