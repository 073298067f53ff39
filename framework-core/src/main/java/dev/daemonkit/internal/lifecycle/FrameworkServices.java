package dev.daemonkit.internal.lifecycle;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import dev.daemonkit.internal.config.LauncherSettings;
import dev.daemonkit.internal.timers.ScopedTimers;
import dev.daemonkit.internal.transport.ConnectionBudget;
import dev.daemonkit.internal.transport.SocketActivation;
import dev.daemonkit.internal.transport.TlsWatch;
import dev.daemonkit.internal.transport.Transport;
import dev.daemonkit.timers.EventLoopTimerWheels;
import dev.daemonkit.timers.TimerWheelSettings;
import java.util.concurrent.Executor;

/**
 * The framework's shared services, handed to every daemon instance. {@code lifecycle} runs the
 * blocking steps of starting and stopping (waiting for channels to close), which must never run on an
 * event loop. {@code connections} is the process's connection budget, shared by every daemon's connections.
 * {@code tls} watches the certificate files of every TLS listener.
 */
public record FrameworkServices(
        LauncherSettings settings,
        Transport transport,
        EventLoopTimerWheels wheels,
        Injector rootInjector,
        Executor lifecycle,
        ConnectionBudget connections,
        TlsWatch tls) {

    /** Creates the event loops, their timer wheels and the root injector; the caller {@link #close closes} them. */
    static FrameworkServices create(LauncherSettings settings, ConnectionBudget connections, Executor lifecycle) {
        Transport transport = Transport.create(
                settings.transport().kind(),
                settings.transport().ioThreads(),
                SocketActivation.passesSockets(System.getenv()),
                settings.transport().ringBuffers(),
                settings.timers().loopSlack());
        try {
            EventLoopTimerWheels wheels = EventLoopTimerWheels.create(
                    transport.workers(),
                    new TimerWheelSettings(
                            settings.timers().tick(), settings.timers().wheelSize()),
                    ScopedTimers.NODES);
            Injector root = Guice.createInjector(Stage.PRODUCTION, new AbstractModule() {
                @Override
                protected void configure() {
                    bind(LauncherSettings.class).toInstance(settings);
                }
            });
            return new FrameworkServices(settings, transport, wheels, root, lifecycle, connections, new TlsWatch());
        } catch (RuntimeException | Error e) {
            transport.close();
            throw e;
        }
    }

    /** Stops watching certificate files, the timer wheels, then the event loops. */
    void close() {
        tls.close();
        wheels.close();
        transport.close();
    }
}
