/** Plugins that tests pack into jars at run time (see PluginJar); never loaded from the test class path. */
package dev.daemonkit.testplugins;
