package dev.daemonkit.internal.lifecycle;

import com.google.inject.Injector;
import dev.daemonkit.internal.config.LauncherSettings;
import dev.daemonkit.internal.transport.ConnectionBudget;
import dev.daemonkit.internal.transport.Transport;
import dev.daemonkit.timers.EventLoopTimerWheels;
import java.util.concurrent.Executor;

/**
 * The framework's shared services, handed to every daemon instance. {@code lifecycle} runs the
 * blocking steps of starting and stopping (waiting for channels to close), which must never run on an
 * event loop. {@code connections} is the process's connection budget, shared by every daemon's connections.
 */
public record FrameworkServices(LauncherSettings settings, Transport transport, EventLoopTimerWheels wheels,
                                Injector rootInjector, Executor lifecycle, ConnectionBudget connections) {
}
