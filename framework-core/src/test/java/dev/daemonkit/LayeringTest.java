package dev.daemonkit;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.junit.LocationProvider;
import com.tngtech.archunit.lang.ArchRule;
import dev.daemonkit.cli.Main;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;

/**
 * The layering of framework-core's own classes (its main output only: not its tests, nor the timers and
 * logging modules on the class path). The samples' rules are in distribution's {@code SampleLayeringTest},
 * the timers' and logging's in their modules.
 */
@AnalyzeClasses(locations = LayeringTest.CoreClasses.class)
class LayeringTest {

    /**
     * Plugins see only {@code dev.daemonkit.api.} through the plugin class loader, so an api type that names
     * a runtime type would fail in a plugin with NoClassDefFoundError.
     */
    @ArchTest
    static final ArchRule apiNeverReachesTheRuntimeOrTheCommandLine = noClasses()
            .that()
            .resideInAPackage("dev.daemonkit.api..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("dev.daemonkit.internal..", "dev.daemonkit.cli..");

    /** Each package of framework-core is a slice; an edge between two of them goes one way only. */
    @ArchTest
    static final ArchRule packagesAreFreeOfCycles =
            slices().matching("dev.daemonkit.(**)").should().beFreeOfCycles();

    /** framework-core's main classes: the folder or jar that holds {@link Main}. */
    static final class CoreClasses implements LocationProvider {
        @Override
        public Set<Location> get(Class<?> testClass) {
            try {
                return Set.of(Location.of(Path.of(Main.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                        .toURI())));
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
