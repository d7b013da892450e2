"""deploy/Dockerfile: multi-stage, a build stage that builds as development does, and a runtime
stage with nothing but what the services need."""
import re
import unittest

from support import DOCKERFILE, ROOT, apt_packages, parse_dockerfile, resolve

# What must never reach the runtime stage.
BUILD_ONLY_PACKAGE = re.compile(
    r"(-dev$|^swift|^gcc|^g\+\+|^clang|^build-essential$|^make$|^binutils$|^pkg-config$|^python3-pip$|^libc6-dev$)")
COMPILERS = re.compile(r"\b(swift|swiftc|gcc|g\+\+|clang|cc|ld|make)\b")


def dockerfile_problems(text):
    """Every broken invariant of a Dockerfile's text, as readable lines (empty: fine)."""
    problems = []
    global_args, stages = parse_dockerfile(text)
    if len(stages) < 2:
        return [f"not multi-stage: {len(stages)} stage(s)"]
    build, runtime = stages[0], stages[-1]
    build_base = resolve(build.base, global_args)
    runtime_base = resolve(runtime.base, global_args)
    if not build_base.startswith("swift:"):
        problems.append(f"build stage is FROM {build_base}, not a Swift toolchain image")
    if not re.fullmatch(r"debian:[a-z]+-slim", runtime_base):
        problems.append(f"runtime stage is FROM {runtime_base}, not a slim Debian image")
    if ":latest" in build_base + runtime_base or ":" not in runtime_base:
        problems.append("base images must carry an explicit tag")

    # Build stage: the development install steps, a static release build.
    build_runs = build.text("RUN")
    if "libzmq3-dev" not in apt_packages(build_runs):
        problems.append("build stage does not install libzmq3-dev")
    if "scripts/install-onnxruntime.sh" not in build_runs:
        problems.append("build stage does not run scripts/install-onnxruntime.sh")
    builds = [r for r in build.all("RUN") if "swift build" in r]
    if not any("-c release" in r and "--static-swift-stdlib" in r and "--product chronos" in r for r in builds):
        problems.append("build stage has no `swift build -c release --product chronos --static-swift-stdlib`")

    # Runtime stage: runtime libraries only, nothing left behind.
    for run in runtime.all("RUN"):
        for package in apt_packages(run):
            if BUILD_ONLY_PACKAGE.search(package):
                problems.append(f"runtime stage installs the build-time package {package}")
        if "apt-get install" in run:
            if "--no-install-recommends" not in run:
                problems.append("runtime apt-get install without --no-install-recommends")
            if "rm -rf /var/lib/apt/lists" not in run:
                problems.append("runtime apt-get install leaves /var/lib/apt/lists behind (same RUN)")
        if COMPILERS.search(run.replace("ldconfig", "")):
            problems.append(f"runtime stage runs a build tool: {run[:80]}")
    runtime_packages = [p for run in runtime.all("RUN") for p in apt_packages(run)]
    for needed in ("libzmq5", "libstdc++6", "libsqlite3-0"):
        if needed not in runtime_packages:
            problems.append(f"runtime stage does not install {needed}")
    copies = runtime.all("COPY")
    for copy in copies:
        source = copy.split()[-2] if len(copy.split()) >= 2 else ""
        if "--from=" in copy and ("/include" in source or source.endswith(".h") or "/.build" in source):
            problems.append(f"runtime stage copies build files: {copy}")
    ort = [c for c in copies if "libonnxruntime" in c]
    if len(ort) != 1:
        problems.append(f"runtime stage copies ONNX Runtime {len(ort)} times (expected once)")
    elif not re.search(r"libonnxruntime\.so\.(\$\{ORT_VERSION\}|\d+\.\d+\.\d+)\s", ort[0]) or "*" in ort[0]:
        problems.append(f"runtime stage must copy only the real versioned ORT file: {ort[0]}")
    keywords = [k for k, _ in runtime.instructions]
    if ort and "RUN" in keywords:
        ort_index = next(i for i, (k, a) in enumerate(runtime.instructions) if k == "COPY" and "libonnxruntime" in a)
        if not any(k == "RUN" and "ldconfig" in a for k, a in runtime.instructions[ort_index:]):
            problems.append("no ldconfig after copying ONNX Runtime (the SONAME link)")
    if not any("chronos" in c and "--from=" in c for c in copies):
        problems.append("runtime stage does not copy the chronos binary from the build stage")
    if not any("models/spoofing-v1.onnx" in c for c in copies):
        problems.append("runtime stage does not copy the model models/spoofing-v1.onnx")
    if not any("deploy/config/chronos.toml" in c for c in copies):
        problems.append("runtime stage does not copy the default config")

    # Who runs it and how it is checked.
    users = runtime.all("USER")
    if not users:
        problems.append("runtime stage has no USER (would run as root)")
    else:
        user = users[-1].split(":")[0]
        if user in ("root", "0"):
            problems.append(f"runtime USER is {users[-1]}")
        last_user = max(i for i, (k, _) in enumerate(runtime.instructions) if k == "USER")
        if any(k == "RUN" for k, _ in runtime.instructions[last_user:]):
            problems.append("a RUN after the last USER (root-owned work after the switch is a smell)")
    health = runtime.all("HEALTHCHECK")
    if not health or "chronos status" not in health[-1]:
        problems.append("no HEALTHCHECK running `chronos status`")
    entry = runtime.all("ENTRYPOINT")
    if not entry or entry[-1] != '["chronos"]':
        problems.append("ENTRYPOINT must be the chronos binary (the command chooses the service)")
    return problems


class DockerfileTests(unittest.TestCase):
    def test_the_dockerfile_keeps_every_invariant(self):
        self.assertEqual(dockerfile_problems(DOCKERFILE.read_text()), [])

    def test_the_health_check_asks_the_port_the_default_command_serves(self):
        global_args, stages = parse_dockerfile(DOCKERFILE.read_text())
        runtime = stages[-1]
        env = dict(re.findall(r"(\w+)=(\S+)", runtime.text("ENV")))
        self.assertEqual(env.get("CHRONOS_METRICS_PORT"), "9464")  # `chronos run`: [metrics] port
        self.assertIn("$CHRONOS_METRICS_PORT", runtime.all("HEALTHCHECK")[-1])
        self.assertIn('"run"', runtime.all("CMD")[-1])

    def test_the_ort_version_is_the_install_scripts(self):
        script = ROOT / "scripts" / "install-onnxruntime.sh"
        if not script.exists():
            self.skipTest("scripts/install-onnxruntime.sh arrives with issue 5")
        default = re.search(r'ORT_VERSION="\$\{ORT_VERSION:-([\d.]+)\}"', script.read_text())
        self.assertIsNotNone(default, "install-onnxruntime.sh has no ORT_VERSION default")
        text = DOCKERFILE.read_text()
        self.assertEqual(set(re.findall(r"ARG ORT_VERSION=([\d.]+)", text)), {default.group(1)})

    def test_development_installs_what_the_build_stage_installs(self):
        # "The same install steps": every -dev package of the build stage is one that
        # scripts/install-deps.sh installs, and install-deps.sh runs the ONNX Runtime script too.
        _, stages = parse_dockerfile(DOCKERFILE.read_text())
        deps = (ROOT / "scripts" / "install-deps.sh").read_text()
        for package in apt_packages(stages[0].text("RUN")):
            if package.endswith("-dev"):
                self.assertRegex(deps, rf"(?m)^\s+{re.escape(package)}\b", f"{package} not in install-deps.sh")
        if (ROOT / "scripts" / "install-onnxruntime.sh").exists():
            self.assertIn("install-onnxruntime.sh", deps)

    def test_the_dockerignore_keeps_build_products_out_of_the_context(self):
        ignored = (ROOT / ".dockerignore").read_text().split()
        for entry in (".git", ".build", "Package.resolved", "deploy/secrets"):
            self.assertIn(entry, ignored)


class DockerfileCheckerCatchesBreakage(unittest.TestCase):
    """The invariants above can fail: each broken Dockerfile is reported for its own reason."""

    GOOD = DOCKERFILE.read_text()

    def assertReported(self, text, fragment):
        problems = dockerfile_problems(text)
        self.assertTrue(any(fragment in p for p in problems), f"{fragment!r} not in {problems}")

    def test_single_stage(self):
        self.assertReported("FROM debian:bookworm-slim\nRUN true\n", "not multi-stage")

    def test_compiler_in_runtime(self):
        broken = self.GOOD.replace("libzmq5 libstdc++6", "libzmq5 libstdc++6 libzmq3-dev gcc")
        self.assertReported(broken, "build-time package libzmq3-dev")
        self.assertReported(broken, "build-time package gcc")

    def test_apt_lists_left_behind(self):
        broken = self.GOOD.replace("&& rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \\\n", "")
        self.assertReported(broken, "leaves /var/lib/apt/lists behind")

    def test_root_user(self):
        self.assertReported(self.GOOD.replace("USER 10001:10001", "USER root"), "runtime USER is root")
        self.assertReported(self.GOOD.replace("USER 10001:10001\n", ""), "no USER")

    def test_ort_glob(self):
        broken = self.GOOD.replace("libonnxruntime.so.${ORT_VERSION} ", "libonnxruntime.so* ")
        self.assertReported(broken, "only the real versioned ORT file")

    def test_no_healthcheck(self):
        broken = re.sub(r"HEALTHCHECK[^\n]*\\\n[^\n]*\n", "", self.GOOD)
        self.assertReported(broken, "no HEALTHCHECK")

    def test_fat_runtime_base(self):
        self.assertReported(self.GOOD.replace("debian:bookworm-slim", "debian:bookworm"), "not a slim Debian")


if __name__ == "__main__":
    unittest.main()
