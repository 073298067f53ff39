package dev.daemonkit.distribution;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The sample daemons are written the way a plugin author must write one: the plugin class loader delegates only
 * {@code dev.daemonkit.api.} and the shared libraries, so anything else would fail at run time with
 * NoClassDefFoundError, unless the plugin bundles the library in its folder (presence bundles Lettuce). Here because
 * this module ships every sample, so a new one is checked without being listed.
 */
@AnalyzeClasses(packages = "dev.daemonkit.samples", importOptions = ImportOption.DoNotIncludeTests.class)
class SampleLayeringTest {

    @ArchTest
    static final ArchRule samplesUseOnlyTheApiAndTheSharedLibraries = classes()
            .that()
            .resideInAPackage("dev.daemonkit.samples..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage(
                    "dev.daemonkit.samples..",
                    "dev.daemonkit.api..",
                    "java..",
                    "com.sun.management..", // the JDK's management extension (process CPU time)
                    "io.netty..",
                    "com.google.inject..",
                    "jakarta.inject..",
                    "com.typesafe.config..",
                    "org.slf4j..",
                    // Not shared: the presence plugin bundles Lettuce in its own folder (plugins/presence/).
                    "io.lettuce..");

    @ArchTest
    static final ArchRule samplesDoNotUseEachOther =
            slices().matching("dev.daemonkit.samples.(*)..").should().notDependOnEachOther();
}
