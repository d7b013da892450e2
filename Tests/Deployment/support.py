"""Shared readers for the deployment tests: the Dockerfile, compose file, manifests, config."""
import os
import pathlib
import re
import shlex
import subprocess
import tomllib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
CONFIG = DEPLOY / "config" / "chronos.toml"
HAPROXY = DEPLOY / "haproxy" / "haproxy.cfg"
WORKFLOWS = ROOT / ".github" / "workflows"

# Compose services that run the chronos image, and the subcommands that do not exist yet (none).
CHRONOS_SERVICES = {"gateway-1", "gateway-2", "risk", "engine-0", "engine-1", "persist"}
PENDING_SUBCOMMANDS = {}


# --- Dockerfile ---------------------------------------------------------------------------------
class Stage:
    """One FROM … section: its base (as written), name and instructions (keyword, arguments)."""

    def __init__(self, base, name):
        self.base = base
        self.name = name
        self.instructions = []

    def all(self, keyword):
        return [args for key, args in self.instructions if key == keyword]

    def text(self, keyword):
        return "\n".join(self.all(keyword))


def dockerfile_instructions(text):
    """(keyword, arguments) pairs: comments dropped, continuation lines joined."""
    instructions, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, arguments = current.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def parse_dockerfile(text):
    """Global ARG defaults and the stages, in order."""
    global_args, stages = {}, []
    for keyword, arguments in dockerfile_instructions(text):
        if keyword == "FROM":
            parts = arguments.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif not stages:
            if keyword == "ARG" and "=" in arguments:
                key, _, value = arguments.partition("=")
                global_args[key.strip()] = value.strip()
        else:
            stages[-1].instructions.append((keyword, arguments))
    return global_args, stages


def resolve(value, args):
    """`${NAME}` / `$NAME` replaced by the ARG defaults in `args`."""
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), value)


def apt_packages(run_text):
    """Package names that `apt-get install` lines in `run_text` install."""
    packages = []
    for command in re.split(r"&&|;|\|\|", run_text):
        words = shlex.split(command.replace("\\", " "))
        if "apt-get" in words and "install" in words:
            after = words[words.index("install") + 1:]
            packages += [w.split("=")[0] for w in after if not w.startswith("-")]
    return packages


# --- YAML, compose, manifests ------------------------------------------------------------------
def yaml_files():
    """Every YAML file the deployment and CI consist of."""
    files = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    files += sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    files += [p for p in (ROOT / ".trivyignore.yaml", ROOT / ".hadolint.yaml") if p.exists()]
    return files


def load_compose():
    return yaml.safe_load(COMPOSE.read_text())


def load_k8s():
    """(file name, document) for every object in deploy/k8s, kustomization included."""
    objects = []
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                objects.append((path.name, document))
    return objects


def workloads(objects):
    return [o for _, o in objects if o.get("kind") in ("Deployment", "StatefulSet", "DaemonSet")]


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def instance(obj):
    return obj.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/instance")


def component(obj):
    return obj.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/component")


def flags(arguments):
    """`--name=value` / `--name value` arguments as a dict (values as strings)."""
    result, pending = {}, None
    for argument in arguments:
        if pending:
            result[pending] = argument
            pending = None
        elif argument.startswith("--"):
            name, equals, value = argument[2:].partition("=")
            if equals:
                result[name] = value
            else:
                result[name] = None
                pending = name
    return result


def load_config():
    return tomllib.loads(CONFIG.read_text())


# --- the built binary ---------------------------------------------------------------------------
def chronos_binary():
    """$CHRONOS_BIN, else the debug build, else the release build; None when not built."""
    candidates = [os.environ.get("CHRONOS_BIN")] if os.environ.get("CHRONOS_BIN") else []
    candidates += [ROOT / ".build" / "debug" / "chronos", ROOT / ".build" / "release" / "chronos"]
    for candidate in candidates:
        path = pathlib.Path(candidate)
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def run(arguments, stdin=b"", timeout=60):
    return subprocess.run(arguments, input=stdin, capture_output=True, timeout=timeout)


def help_subcommands(help_text):
    """Subcommand names of an ArgumentParser `--help` page (its SUBCOMMANDS section)."""
    names, inside = set(), False
    for line in help_text.splitlines():
        if line.strip() == "SUBCOMMANDS:":
            inside = True
            continue
        if inside:
            if line and not line.startswith(" "):
                break
            match = re.match(r"  ([a-z][a-z0-9-]*)(\s|$)", line)  # continuation lines are indented deeper
            if match:
                names.add(match.group(1))
    return names


def help_options(help_text):
    """Long option names in the OPTIONS section of a `--help` page (not ones its prose mentions)."""
    names, inside = set(), False
    for line in help_text.splitlines():
        if line.strip() == "OPTIONS:":
            inside = True
            continue
        if inside:
            if line and not line.startswith(" "):
                break
            match = re.match(r"\s+(?:-\w, )?--([a-z][a-z0-9-]*)", line)
            if match:
                names.add(match.group(1))
    return names
