"""The deployment against the built `chronos` binary: the config it mounts is valid, every command
it runs exists with the flags it passes, and the engines and a gateway started with the compose
commands come up healthy by `chronos status`, the image's health check."""
import pathlib
import re
import signal
import subprocess
import tempfile
import time
import unittest

from support import (
    CHRONOS_SERVICES, CONFIG, PENDING_SUBCOMMANDS, chronos_binary, flags, help_options, help_subcommands,
    load_compose, load_k8s, pod_spec, run, workloads)


def require_binary(case):
    binary = chronos_binary()
    if binary is None:
        case.fail("no chronos binary: run `swift build --product chronos` (make test builds it) or set CHRONOS_BIN")
    return binary


def service_commands():
    """(where, service, arguments) for every chronos command of compose and Kubernetes."""
    commands = [("compose", name, service["command"]) for name, service in load_compose()["services"].items()
                if name in CHRONOS_SERVICES]
    for workload in workloads(load_k8s()):
        for container in pod_spec(workload)["containers"]:
            if container["image"].startswith("chronos"):
                commands.append(("k8s", workload["metadata"]["name"], container["args"]))
    return commands


class ConfigurationTests(unittest.TestCase):
    def test_the_mounted_configuration_is_valid(self):
        binary = require_binary(self)
        # `chronos replay --config FILE` loads and validates the whole file (every table, the shard
        # map) before reading stdin; with empty stdin it exits 0 and prints nothing.
        result = run([str(binary), "replay", "--config", str(CONFIG)])
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        self.assertEqual(result.stdout, b"")

    def test_a_broken_configuration_is_refused(self):
        binary = require_binary(self)
        broken = CONFIG.read_text().replace('symbols = ["GOOG", "AMZN"]', 'symbols = ["GOOG", "NOPE"]')
        self.assertNotEqual(broken, CONFIG.read_text())
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as file:
            file.write(broken)
            file.flush()
            result = run([str(binary), "replay", "--config", file.name])
        self.assertEqual(result.returncode, 2, result.stderr.decode())
        self.assertIn(b"invalid configuration", result.stderr)

    def test_the_shard_map_is_complete(self):
        import tomllib
        config = tomllib.loads(CONFIG.read_text())
        symbols = [s["name"] for s in config["symbols"]]
        routed = [name for shard in config["shards"] for name in shard["symbols"]]
        self.assertEqual(sorted(routed), sorted(symbols), "every symbol on exactly one shard")
        self.assertEqual([s["id"] for s in config["shards"]], list(range(len(config["shards"]))))
        for shard in config["shards"]:
            self.assertNotIn("cpu", shard, "the container's cpuset pins the engine; a cpu number may lie outside it")
        self.assertEqual(config["gateway"]["binary_sessions"], [], "no credentials in the shared file")


class CommandTests(unittest.TestCase):
    def test_every_service_command_exists_with_the_flags_it_passes(self):
        binary = require_binary(self)
        available = help_subcommands(run([str(binary), "--help"]).stdout.decode())
        self.assertIn("status", available)
        pending_seen = set()
        for where, service, arguments in service_commands():
            subcommand = arguments[0]
            with self.subTest(where=where, service=service, subcommand=subcommand):
                if subcommand not in available:
                    self.assertIn(subcommand, PENDING_SUBCOMMANDS,
                                  f"`chronos {subcommand}` ({where} {service}) is not a subcommand of the built binary")
                    pending_seen.add(subcommand)
                    continue
                options = help_options(run([str(binary), subcommand, "--help"]).stdout.decode())
                for flag in flags(arguments[1:]):
                    self.assertIn(flag, options, f"`chronos {subcommand}` has no --{flag}")
        # The pending list names only what is really pending and really deployed.
        self.assertEqual(pending_seen, set(PENDING_SUBCOMMANDS) - available)

    def test_the_checker_notices_a_made_up_subcommand_or_flag(self):
        binary = require_binary(self)
        available = help_subcommands(run([str(binary), "--help"]).stdout.decode())
        self.assertNotIn("matchmaker", available)
        options = help_options(run([str(binary), "engine", "--help"]).stdout.decode())
        self.assertIn("shard", options)
        self.assertNotIn("shards", options)


class ComposeCommandsRunTests(unittest.TestCase):
    """engine-0, engine-1 and gateway-1 started with their compose commands on this machine: each
    becomes healthy by the image's health check and stops cleanly on SIGTERM."""

    SERVICES = ("engine-0", "engine-1", "gateway-1")

    def test_engines_and_a_gateway_start_healthy_with_the_deployment_commands(self):
        binary = require_binary(self)
        services = load_compose()["services"]
        with tempfile.TemporaryDirectory(prefix="chronos-deploy-") as directory:
            directory = pathlib.Path(directory)
            # The deployment file, with the host paths and listen addresses of this machine's test:
            # state under the temporary directory, everything on loopback only.
            config = CONFIG.read_text()
            config = config.replace('state_dir = "/var/lib/chronos/gateway"', f'state_dir = "{directory}/state"')
            self.assertIn('dir = "/var/lib/chronos/journal"', config)
            config = config.replace('dir = "/var/lib/chronos/journal"', f'dir = "{directory}/journal"')
            config = re.sub(r'(?m)^host = "0\.0\.0\.0"', 'host = "127.0.0.1"', config)
            self.assertEqual(config.count('"127.0.0.1"') - CONFIG.read_text().count('"127.0.0.1"'), 2)
            (directory / "chronos.toml").write_text(config)
            processes, logs = {}, []
            try:
                for name in self.SERVICES:
                    arguments = [a.replace("/etc/chronos/chronos.toml", str(directory / "chronos.toml"))
                                 for a in services[name]["command"]]
                    log = open(directory / f"{name}.log", "wb")
                    logs.append(log)
                    processes[name] = subprocess.Popen([str(binary), *arguments], stdout=log, stderr=log)
                for name in self.SERVICES:
                    port = services[name]["environment"]["CHRONOS_METRICS_PORT"]
                    deadline = time.monotonic() + 30
                    while True:
                        result = run([str(binary), "status", "--port", port, "--timeout", "2"])
                        if result.returncode == 0:
                            break
                        if processes[name].poll() is not None or time.monotonic() > deadline:
                            self.fail(f"{name} not healthy: {result.stderr.decode()}"
                                      f"{(directory / f'{name}.log').read_text()}")
                        time.sleep(0.1)
                    self.assertIn(b"up (200 OK", result.stdout)
                # The gateway found both shards over the loopback endpoints of the shard map.
                gateway_log = ""
                deadline = time.monotonic() + 10
                while "ready" not in gateway_log and time.monotonic() < deadline:
                    gateway_log = (directory / "gateway-1.log").read_text()
                    time.sleep(0.05)
                self.assertIn("chronos gateway: ready fix=127.0.0.1:9881 binary=127.0.0.1:9882 udp=127.0.0.1:9883",
                              gateway_log)
            finally:
                for process in processes.values():
                    if process.poll() is None:
                        process.send_signal(signal.SIGTERM)
                codes = {}
                for name, process in processes.items():
                    try:
                        codes[name] = process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        codes[name] = process.wait()
                for log in logs:
                    log.close()
            self.assertEqual(codes, {name: 0 for name in self.SERVICES})
            # Down after the stop: the health check says so.
            port = services["engine-0"]["environment"]["CHRONOS_METRICS_PORT"]
            self.assertEqual(run([str(binary), "status", "--port", port]).returncode, 1)


if __name__ == "__main__":
    unittest.main()
