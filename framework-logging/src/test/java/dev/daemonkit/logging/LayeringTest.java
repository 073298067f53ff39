package dev.daemonkit.logging;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.junit.LocationProvider;
import com.tngtech.archunit.lang.ArchRule;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;

/**
 * framework-logging knows nothing of the core. Maven already refuses the dependency (the core depends on this
 * module), so the way to break it is to put a core package into this module; both rules catch that.
 */
@AnalyzeClasses(locations = LayeringTest.ModuleClasses.class)
class LayeringTest {

    @ArchTest
    static final ArchRule everyClassIsInTheLoggingPackages =
            classes().should().resideInAPackage("dev.daemonkit.logging..");

    @ArchTest
    static final ArchRule noClassDependsOnTheCore = noClasses()
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("dev.daemonkit.internal..", "dev.daemonkit.api..", "dev.daemonkit.cli..");

    /** This module's main classes (not its tests): the folder or jar that holds {@link LoggingSystem}. */
    static final class ModuleClasses implements LocationProvider {
        @Override
        public Set<Location> get(Class<?> testClass) {
            try {
                return Set.of(Location.of(Path.of(LoggingSystem.class
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
