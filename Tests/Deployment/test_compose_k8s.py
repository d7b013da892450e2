"""deploy/compose.yaml and deploy/k8s: the topology the issue asks for, the security settings, and
the two describing the same services with the same commands."""
import re
import shutil
import subprocess
import unittest

import yaml

from configmap import render
from support import (
    CHRONOS_SERVICES, COMPOSE, CONFIG, HAPROXY, K8S, component, flags, instance, load_compose, load_config,
    load_k8s, pod_spec, workloads, yaml_files)

LATENCY_CRITICAL = {"engine", "gateway", "risk"}


def cpuset_cores(spec):
    """The cores of a compose `cpuset` such as "2", "0-1" or "4,6"."""
    cores = set()
    for part in str(spec).split(","):
        low, _, high = part.partition("-")
        cores.update(range(int(low), int(high or low) + 1))
    return cores


def quantity_is_whole_cpus(value):
    return re.fullmatch(r"[1-9]\d*", str(value)) is not None


class YamlTests(unittest.TestCase):
    def test_every_yaml_file_parses(self):
        files = yaml_files()
        self.assertGreaterEqual(len(files), 12, files)
        for path in files:
            with self.subTest(path=path.name):
                documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
                self.assertTrue(documents, f"{path} is empty")

    def test_a_broken_yaml_file_would_be_noticed(self):
        with self.assertRaises(yaml.YAMLError):
            yaml.safe_load("services:\n  a: [1, 2\n")


class ComposeTests(unittest.TestCase):
    def setUp(self):
        self.compose = load_compose()
        self.services = self.compose["services"]

    def command(self, name):
        return self.services[name]["command"]

    def test_the_topology(self):
        self.assertEqual(set(self.services), CHRONOS_SERVICES | {"lb", "postgres"})
        self.assertEqual(self.command("gateway-1")[0], "gateway")
        self.assertEqual(self.command("gateway-2")[0], "gateway")
        self.assertEqual(self.command("risk")[0], "risk")
        self.assertEqual(self.command("persist")[0], "persist")
        self.assertIn("haproxy", self.services["lb"]["image"])
        self.assertIn("postgres", self.services["postgres"]["image"])
        self.assertIn("postgres", self.services["persist"]["depends_on"])

    def test_one_engine_per_shard_each_on_its_own_core(self):
        shards = load_config()["shards"]
        engines = {n: s for n, s in self.services.items() if s.get("command", [None])[0] == "engine"}
        self.assertEqual(sorted(int(flags(s["command"])["shard"]) for s in engines.values()),
                         [shard["id"] for shard in shards])
        engine_cores = {}
        for name, service in engines.items():
            cores = cpuset_cores(service["cpuset"])
            self.assertEqual(len(cores), 1, f"{name}: one whole core, got {service['cpuset']}")
            engine_cores[name] = cores
        all_engine_cores = set().union(*engine_cores.values())
        self.assertEqual(len(all_engine_cores), len(engines), "engines share a core")
        for name, service in self.services.items():
            if name not in engines and "cpuset" in service:
                overlap = cpuset_cores(service["cpuset"]) & all_engine_cores
                self.assertFalse(overlap, f"{name} runs on an engine's core {overlap}")

    def test_the_shard_map_is_mounted_from_deploy_config(self):
        self.assertTrue(CONFIG.exists())
        for name in CHRONOS_SERVICES:
            with self.subTest(service=name):
                service = self.services[name]
                self.assertIn("./config:/etc/chronos:ro", service["volumes"])
                self.assertEqual(flags(service["command"]).get("config"), "/etc/chronos/chronos.toml")

    def test_gateways_are_distinct_instances(self):
        gateways = [flags(self.command(n)) for n in ("gateway-1", "gateway-2")]
        for key in ("name", "id", "fix-port", "binary-port", "udp-port", "metrics-port"):
            self.assertEqual(len({g[key] for g in gateways}), 2, f"gateways share --{key}")
        volumes = [v for n in ("gateway-1", "gateway-2") for v in self.services[n]["volumes"]
                   if v.endswith(":/var/lib/chronos/gateway")]
        self.assertEqual(len(set(volumes)), 2, "each gateway needs its own state volume")

    def test_the_load_balancer_puts_both_gateways_behind_one_vip(self):
        config = HAPROXY.read_text()
        binds = re.findall(r"^\s*bind\s+\"?([^\s\"]+)\"?", config, re.M)
        self.assertEqual({b.rsplit(":", 1)[0] for b in binds}, {"${CHRONOS_VIP}"}, binds)
        self.assertIn("CHRONOS_VIP", self.services["lb"]["environment"])
        self.assertIn("./haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro", self.services["lb"]["volumes"])
        self.assertRegex(config, r"(?m)^\s*mode tcp")
        servers = set(re.findall(r"^\s*server\s+\S+\s+(\S+)", config, re.M))
        expected = {f"127.0.0.1:{flags(self.command(n))[p]}" for n in ("gateway-1", "gateway-2")
                    for p in ("fix-port", "binary-port")}
        self.assertEqual(servers, expected)

    def test_haproxy_accepts_its_configuration(self):
        haproxy = shutil.which("haproxy")
        if haproxy is None:
            self.skipTest("haproxy is not installed (scripts/install-deps.sh installs it)")
        result = subprocess.run([haproxy, "-c", "-f", str(HAPROXY)], capture_output=True, text=True,
                                env={"CHRONOS_VIP": "127.0.0.1", "PATH": "/usr/bin:/bin"})
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_services_are_locked_down(self):
        for name in CHRONOS_SERVICES:
            with self.subTest(service=name):
                service = self.services[name]
                self.assertEqual(service["network_mode"], "host")
                self.assertIs(service["read_only"], True)
                self.assertEqual(service["user"], "10001:10001")
                self.assertEqual(service["cap_drop"], ["ALL"])
                self.assertIn("no-new-privileges:true", service["security_opt"])
        for name in ("lb", "postgres"):
            self.assertEqual(self.services[name]["cap_drop"], ["ALL"], name)
            self.assertIs(self.services[name]["read_only"], True, name)

    def test_each_health_check_asks_the_port_its_service_serves(self):
        ports = {}
        for name in CHRONOS_SERVICES:
            service = self.services[name]
            port = service["environment"]["CHRONOS_METRICS_PORT"]
            ports[name] = port
            given = flags(service["command"]).get("metrics-port")
            if given is not None:
                self.assertEqual(given, port, f"{name}: --metrics-port and the health check differ")
        self.assertEqual(len(set(ports.values())), len(ports), f"metrics ports collide: {ports}")

    def test_the_compose_file_matches_the_compose_specification(self):
        checker = shutil.which("check-jsonschema")
        if checker is None:
            self.skipTest("check-jsonschema is not installed (scripts/install-deps.sh installs it)")
        result = subprocess.run([checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class KubernetesTests(unittest.TestCase):
    def setUp(self):
        self.objects = load_k8s()
        self.workloads = workloads(self.objects)

    def by_instance(self):
        return {instance(w): w for w in self.workloads}

    def test_the_kustomization_lists_every_manifest(self):
        kustomization = next(o for f, o in self.objects if f == "kustomization.yaml")
        files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
        self.assertEqual(set(kustomization["resources"]), files)

    def test_every_compose_service_has_a_kubernetes_counterpart(self):
        compose = load_compose()["services"]
        workloads = self.by_instance()
        for name in compose:
            with self.subTest(service=name):
                if name == "lb":  # the L4 load balancer is the gateways' LoadBalancer Service
                    services = [o for _, o in self.objects if o.get("kind") == "Service"
                                and o["spec"].get("type") == "LoadBalancer"]
                    self.assertEqual(len(services), 1)
                    continue
                self.assertIn(name, workloads, f"no workload labelled app.kubernetes.io/instance={name}")
                if name in CHRONOS_SERVICES:
                    container = pod_spec(workloads[name])["containers"][0]
                    self.assertEqual(container["args"], compose[name]["command"],
                                     f"{name}: the k8s args and the compose command differ")
                    env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
                    self.assertEqual(env.get("CHRONOS_METRICS_PORT"),
                                     compose[name]["environment"]["CHRONOS_METRICS_PORT"])
        self.assertEqual(set(workloads), set(compose) - {"lb"})

    def test_latency_critical_pods_use_the_host_network_and_whole_cores(self):
        critical = [w for w in self.workloads if component(w) in LATENCY_CRITICAL]
        self.assertEqual(sorted(instance(w) for w in critical),
                         ["engine-0", "engine-1", "gateway-1", "gateway-2", "risk"])
        for workload in critical:
            with self.subTest(workload=instance(workload)):
                spec = pod_spec(workload)
                self.assertIs(spec.get("hostNetwork"), True)
                self.assertEqual(spec.get("dnsPolicy"), "ClusterFirstWithHostNet")
                for container in spec["containers"]:
                    requests = container["resources"]["requests"]
                    limits = container["resources"]["limits"]
                    self.assertTrue(quantity_is_whole_cpus(requests["cpu"]), f"cpu {requests['cpu']}")
                    self.assertEqual(str(requests["cpu"]), str(limits["cpu"]))
                    self.assertEqual(requests["memory"], limits["memory"])

    def test_any_pod_on_the_host_network_still_resolves_cluster_names(self):
        for workload in self.workloads:
            spec = pod_spec(workload)
            if spec.get("hostNetwork"):
                self.assertEqual(spec.get("dnsPolicy"), "ClusterFirstWithHostNet", instance(workload))

    def test_every_container_runs_restricted(self):
        for workload in self.workloads:
            spec = pod_spec(workload)
            pod = spec.get("securityContext", {})
            for container in spec.get("initContainers", []) + spec["containers"]:
                with self.subTest(workload=instance(workload), container=container["name"]):
                    context = container.get("securityContext", {})
                    self.assertIs(context.get("runAsNonRoot", pod.get("runAsNonRoot")), True)
                    self.assertNotEqual(context.get("runAsUser", pod.get("runAsUser")), 0)
                    self.assertIs(context.get("readOnlyRootFilesystem"), True)
                    self.assertIs(context.get("allowPrivilegeEscalation"), False)
                    self.assertEqual(context.get("capabilities", {}).get("drop"), ["ALL"])
                    self.assertNotIn("add", context.get("capabilities", {}))
                    self.assertIn("limits", container.get("resources", {}))
            self.assertEqual(pod.get("seccompProfile", {}).get("type"), "RuntimeDefault")

    def test_the_configmap_carries_the_shard_map_every_chronos_pod_mounts(self):
        configmap = next(o for _, o in self.objects if o.get("kind") == "ConfigMap")
        text = configmap["data"]["chronos.toml"]
        self.assertEqual(text, CONFIG.read_text(),
                         "deploy/k8s/configmap.yaml differs from deploy/config/chronos.toml: "
                         "run python3 Tests/Deployment/configmap.py")
        self.assertEqual(render(CONFIG.read_text()), (K8S / "configmap.yaml").read_text())
        for name in CHRONOS_SERVICES:
            spec = pod_spec(self.by_instance()[name])
            volumes = {v["name"]: v for v in spec["volumes"]}
            mounts = {m["mountPath"]: m for m in spec["containers"][0]["volumeMounts"]}
            mount = mounts["/etc/chronos"]
            self.assertIs(mount.get("readOnly"), True, name)
            self.assertEqual(volumes[mount["name"]]["configMap"]["name"], configmap["metadata"]["name"], name)

    def test_a_service_puts_both_gateways_behind_one_address(self):
        services = [o for _, o in self.objects if o.get("kind") == "Service" and o["spec"].get("type") == "LoadBalancer"]
        self.assertEqual(len(services), 1)
        service = services[0]
        gateways = [w for w in self.workloads if component(w) == "gateway"]
        self.assertEqual(len(gateways), 2)
        for gateway in gateways:
            labels = gateway["spec"]["template"]["metadata"]["labels"]
            self.assertTrue(all(labels.get(k) == v for k, v in service["spec"]["selector"].items()))
            ports = {p["name"]: p for p in pod_spec(gateway)["containers"][0]["ports"]}
            args = flags(pod_spec(gateway)["containers"][0]["args"])
            for port in service["spec"]["ports"]:
                target = ports[port["targetPort"]]  # a named port each gateway maps to its own number
                self.assertEqual(target.get("protocol", "TCP"), port.get("protocol", "TCP"))
                self.assertEqual(str(target["containerPort"]), args[f"{port['targetPort']}-port"],
                                 "the named port is not the one the gateway listens on")
        # Nothing else may select the gateways by accident: the selector names the component.
        self.assertEqual(service["spec"]["selector"].get("app.kubernetes.io/component"), "gateway")

    def test_the_store_and_the_gateway_state_live_on_volumes(self):
        claims = {o["metadata"]["name"] for _, o in self.objects if o.get("kind") == "PersistentVolumeClaim"}
        postgres = self.by_instance()["postgres"]
        spec = pod_spec(postgres)
        data = next(m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == "/var/lib/postgresql/data")
        volume = next(v for v in spec["volumes"] if v["name"] == data["name"])
        self.assertIn(volume["persistentVolumeClaim"]["claimName"], claims)
        for name in ("gateway-1", "gateway-2"):
            spec = pod_spec(self.by_instance()[name])
            state = next(m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == "/var/lib/chronos/gateway")
            volume = next(v for v in spec["volumes"] if v["name"] == state["name"])
            self.assertIn(volume["persistentVolumeClaim"]["claimName"], claims, name)

    def test_no_credential_is_written_in_the_manifests(self):
        for path in list(K8S.glob("*.yaml")) + [CONFIG]:
            text = path.read_text()
            self.assertNotRegex(text, r"(?im)^\s*password\s*=", path.name)
            self.assertNotRegex(text, r"(?im)POSTGRES_PASSWORD\s*[:=]\s*\S", path.name)

    def test_the_manifests_match_the_kubernetes_schemas(self):
        validator = shutil.which("kubernetes-validate")
        if validator is None:
            self.skipTest("kubernetes-validate is not installed (scripts/install-deps.sh installs it)")
        files = [str(p) for p in sorted(K8S.glob("*.yaml")) if p.name != "kustomization.yaml"]
        result = subprocess.run([validator, "--strict", "--quiet", *files], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class CheckersCatchBreakage(unittest.TestCase):
    """The structural checks above are not vacuous: a weakened manifest fails them."""

    def test_a_burstable_engine_is_caught(self):
        objects = load_k8s()
        engine = next(w for w in workloads(objects) if instance(w) == "engine-0")
        engine["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "500m"
        tests = KubernetesTests("test_latency_critical_pods_use_the_host_network_and_whole_cores")
        tests.objects, tests.workloads = objects, workloads(objects)
        with self.assertRaises(AssertionError):
            with _no_subtests(tests):
                tests.test_latency_critical_pods_use_the_host_network_and_whole_cores()

    def test_a_shared_engine_core_is_caught(self):
        tests = ComposeTests("test_one_engine_per_shard_each_on_its_own_core")
        tests.setUp()
        tests.services["engine-1"]["cpuset"] = tests.services["engine-0"]["cpuset"]
        with self.assertRaises(AssertionError):
            tests.test_one_engine_per_shard_each_on_its_own_core()

    def test_an_invalid_manifest_fails_schema_validation(self):
        validator = shutil.which("kubernetes-validate")
        if validator is None:
            self.skipTest("kubernetes-validate is not installed")
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as broken:
            broken.write((K8S / "engine-0.yaml").read_text().replace("hostNetwork: true", "hostNetwrk: true"))
            broken.flush()
            result = subprocess.run([validator, "--strict", "--quiet", broken.name], capture_output=True, text=True)
        self.assertNotEqual(result.returncode, 0, result.stdout)


class _no_subtests:
    """Runs a test method's subTest blocks as plain blocks, so that their failures propagate."""

    def __init__(self, case):
        self.case = case

    def __enter__(self):
        import contextlib
        self.original = self.case.subTest
        self.case.subTest = lambda *a, **k: contextlib.nullcontext()

    def __exit__(self, *exc):
        self.case.subTest = self.original
        return False


if __name__ == "__main__":
    unittest.main()
