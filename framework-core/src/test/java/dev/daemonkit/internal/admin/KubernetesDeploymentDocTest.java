package dev.daemonkit.internal.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The Kubernetes Deployment shown in docs/operations.md, parsed as YAML: its probe paths are the
 * admin endpoint's routes, its ports the default admin port, its env names real config keys, and its
 * grace settings leave Kubernetes no reason to KILL a draining launcher.
 */
class KubernetesDeploymentDocTest {
    private static final Config REFERENCE = ConfigFactory.defaultReference().getConfig("daemonkit");

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String... path) {
        Object at = o;
        for (String key : path) {
            at = ((Map<String, Object>) at).get(key);
            assertThat(at).as("the Deployment has " + String.join(".", path)).isNotNull();
        }
        return (Map<String, Object>) at;
    }

    /** The ```yaml block of docs/operations.md that contains {@code marker}. */
    private static String yamlBlock(String marker) throws Exception {
        String doc = Files.readString(Path.of(System.getProperty("daemonkit.docs", "../docs"), "operations.md"));
        Matcher m = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(doc);
        String yaml = null;
        while (m.find()) {
            if (m.group(1).contains(marker)) {
                yaml = m.group(1);
            }
        }
        assertThat(yaml)
                .as("docs/operations.md has a ```yaml block with " + marker)
                .isNotNull();
        return yaml;
    }

    private static Map<String, Object> deploymentContainer() throws Exception {
        String yaml = yamlBlock("kind: Deployment");
        Map<String, Object> deployment = new Yaml().load(yaml);
        assertThat(deployment).containsEntry("kind", "Deployment");
        Map<String, Object> pod = map(deployment, "spec", "template", "spec");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> containers = (List<Map<String, Object>>) pod.get("containers");
        assertThat(containers).hasSize(1);
        Map<String, Object> container = new LinkedHashMap<>(containers.get(0));
        container.put("terminationGracePeriodSeconds", pod.get("terminationGracePeriodSeconds"));
        return container;
    }

    /** The env of the container: name to value ({@code valueFrom} entries as "valueFrom"). */
    @SuppressWarnings("unchecked")
    private static Map<String, String> env(Map<String, Object> container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (Map<String, Object> e : (List<Map<String, Object>>) container.get("env")) {
            env.put((String) e.get("name"), e.containsKey("value") ? (String) e.get("value") : "valueFrom");
        }
        return env;
    }

    private static Duration duration(String hocon) {
        return ConfigFactory.parseString("d = " + hocon).getDuration("d");
    }

    private static int port(String hostPort) {
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    @Test
    void probesUseTheAdminRoutesOnTheDefaultAdminPort() throws Exception {
        Map<String, Object> container = deploymentContainer();
        int adminPort = port(REFERENCE.getString("admin.listen"));
        assertThat(adminPort).isEqualTo(7070);

        assertThat(map(container, "startupProbe", "httpGet"))
                .containsEntry("path", Probes.STARTED)
                .containsEntry("port", adminPort);
        assertThat(map(container, "livenessProbe", "httpGet"))
                .containsEntry("path", Probes.LIVE)
                .containsEntry("port", adminPort);
        assertThat(map(container, "readinessProbe", "httpGet"))
                .containsEntry("path", Probes.READY)
                .containsEntry("port", adminPort);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> ports = (List<Map<String, Object>>) container.get("ports");
        assertThat(ports).anySatisfy(p -> assertThat(p).containsEntry("containerPort", adminPort));
        assertThat(container.get("command")).isEqualTo(List.of("/opt/daemonkit/bin/daemonkit", "run"));

        Map<String, String> env = env(container);
        // Probes come from the node: the admin endpoint listens beyond loopback on the same port, with a token.
        assertThat(env.get("CONFIG_FORCE_daemonkit_admin_listen")).isEqualTo("0.0.0.0:" + adminPort);
        assertThat(env).containsEntry("CONFIG_FORCE_daemonkit_admin_token", "valueFrom");
        for (String name : env.keySet()) {
            assertThat(name).startsWith("CONFIG_FORCE_daemonkit_");
            String key = name.substring("CONFIG_FORCE_daemonkit_".length())
                    .replace("__", "-")
                    .replace('_', '.');
            assertThat(REFERENCE.hasPath(key))
                    .as(name + " names daemonkit." + key)
                    .isTrue();
        }
    }

    @Test
    void terminationGraceCoversTheDelayAndTheDrainAndReadinessFailsWithinTheDelay() throws Exception {
        Map<String, Object> container = deploymentContainer();
        Map<String, String> env = env(container);
        assertThat(REFERENCE.getDuration("shutdown.delay"))
                .as("default for a plain run")
                .isZero();
        Duration delay = duration(env.get("CONFIG_FORCE_daemonkit_shutdown_delay"));
        Duration grace = duration(env.get("CONFIG_FORCE_daemonkit_shutdown_grace"));
        assertThat(delay).isEqualTo(Duration.ofSeconds(5));
        assertThat(grace).isEqualTo(REFERENCE.getDuration("shutdown.grace"));

        int terminationGrace = (Integer) container.get("terminationGracePeriodSeconds");
        assertThat(terminationGrace)
                .as("terminationGracePeriodSeconds leaves room after delay + grace for the last closes and the exit")
                .isGreaterThanOrEqualTo((int) (delay.plus(grace).toSeconds() + 5))
                .isLessThanOrEqualTo(30);

        Map<String, Object> readiness = map(container, "readinessProbe");
        int notReadyWithin = (Integer) readiness.get("periodSeconds") * (Integer) readiness.get("failureThreshold");
        assertThat(notReadyWithin)
                .as("a readiness probe sees 503 within the delay")
                .isLessThanOrEqualTo((int) delay.toSeconds());
    }

    @Test
    @SuppressWarnings("unchecked")
    void theHttpsPatchProbesTheSameRoutesWithSchemeHttpsAndItsEnvMakesAnAdminTlsBlockFromTheMountedSecret()
            throws Exception {
        Map<String, Object> patch = new Yaml().load(yamlBlock("scheme: HTTPS"));
        Map<String, Object> pod = map(patch, "spec", "template", "spec");
        Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).get(0);
        assertThat(container).containsEntry("name", deploymentContainer().get("name"));
        int adminPort = port(REFERENCE.getString("admin.listen"));
        Map<String, String> probes =
                Map.of("startupProbe", Probes.STARTED, "livenessProbe", Probes.LIVE, "readinessProbe", Probes.READY);
        probes.forEach((probe, path) -> assertThat(map(container, probe, "httpGet"))
                .as(probe)
                .containsEntry("path", path)
                .containsEntry("port", adminPort)
                .containsEntry("scheme", "HTTPS"));

        // The env, applied over the Deployment's own, makes a valid daemonkit.admin.tls block.
        Map<String, String> env = new LinkedHashMap<>(env(deploymentContainer()));
        env.putAll(env(container));
        StringBuilder hocon = new StringBuilder();
        for (Map.Entry<String, String> e : env.entrySet()) {
            String key = "daemonkit."
                    + e.getKey()
                            .substring("CONFIG_FORCE_daemonkit_".length())
                            .replace("__", "-")
                            .replace('_', '.');
            hocon.append(key)
                    .append(" = \"")
                    .append(e.getValue().equals("valueFrom") ? "s3cret" : e.getValue())
                    .append("\"\n");
        }
        Config config = ConfigFactory.parseString(hocon.toString()).withFallback(ConfigFactory.defaultReference());
        dev.daemonkit.internal.config.LauncherSettings.Admin admin =
                dev.daemonkit.internal.config.LauncherSettings.from(config.getConfig("daemonkit"))
                        .admin();
        assertThat(admin.https()).isTrue();

        // Its files are in the mounted Secret volume (a kubernetes.io/tls Secret holds tls.crt and tls.key).
        Map<String, Object> mount = ((List<Map<String, Object>>) container.get("volumeMounts")).get(0);
        Path mounted = Path.of((String) mount.get("mountPath"));
        assertThat(admin.tls().certFile().path()).isEqualTo(mounted.resolve("tls.crt"));
        assertThat(admin.tls().keyFile().path()).isEqualTo(mounted.resolve("tls.key"));
        Map<String, Object> volume = ((List<Map<String, Object>>) pod.get("volumes")).get(0);
        assertThat(volume).containsEntry("name", mount.get("name"));
        assertThat(map(volume, "secret")).containsKey("secretName");
    }
}
