package dev.daemonkit.samples.presence;

import io.netty.util.AttributeKey;
import io.netty.util.ConstantPool;
import java.lang.reflect.Field;
import java.util.Map;

/**
 * Lets Lettuce be loaded by more than one class loader in a process: a second launcher in a test's JVM, or a new
 * version of this plugin deployed while the old one drains (each plugin version has its own class loader).
 *
 * <p>Lettuce 7.7 creates the Netty attribute key {@code "rebindAddress"} with {@code AttributeKey.newInstance} in a
 * static initializer ({@code MaintenanceAwareConnectionWatchdog.REBIND_ATTRIBUTE}). Netty's constant pool is one per
 * process (Netty is shared by the framework), so the second class loader's initializer throws "'rebindAddress' is
 * already in use" and every connection fails. Before Lettuce initializes in this class loader, the name is taken out
 * of the pool: the first loader keeps its key object (keys are compared by identity, so both work side by side).
 * Lettuce should use {@code AttributeKey.valueOf}, as it does for its other keys.
 */
final class LettuceOnce {
    static final String KEY = "rebindAddress";
    private static final String HOLDER = "io.lettuce.core.protocol.MaintenanceAwareConnectionWatchdog";

    private LettuceOnce() {}

    /** Initializes Lettuce's key holder in this plugin's class loader. Idempotent; any thread. */
    static void prepare() {
        synchronized (AttributeKey.class) { // shared by every plugin: one class loader at a time does this
            try {
                if (AttributeKey.exists(KEY)) {
                    Field pool = AttributeKey.class.getDeclaredField("pool");
                    pool.setAccessible(true);
                    Field constants = ConstantPool.class.getDeclaredField("constants");
                    constants.setAccessible(true);
                    ((Map<?, ?>) constants.get(pool.get(null))).remove(KEY);
                }
                Class.forName(HOLDER, true, LettuceOnce.class.getClassLoader());
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                throw new IllegalStateException(
                        "cannot prepare Lettuce for this class loader (Netty attribute key '" + KEY + "'): " + e
                                + ". Restart the launcher to load the presence plugin with broker = redis afresh",
                        e);
            }
        }
    }
}
