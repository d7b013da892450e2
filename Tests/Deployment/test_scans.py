"""The scanners of `make scan` (hadolint, trivy config) are live, offline, and every accepted
finding is written down with its reason and still exists."""
import json
import pathlib
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

from support import DEPLOY, ROOT

TRIVY_OFFLINE = ["--skip-check-update", "--skip-version-check", "--quiet"]
IGNORE_FILE = ROOT / ".trivyignore.yaml"
HADOLINT_CONFIG = ROOT / ".hadolint.yaml"


def tool(case, name):
    path = shutil.which(name)
    if path is None:
        case.fail(f"{name} is not installed: scripts/install-deps.sh (make deps) installs it")
    return path


def trivy_findings(trivy, target, ignore_file=""):
    """(relative path, check id) of every HIGH or CRITICAL misconfiguration under `target`."""
    result = subprocess.run(
        [trivy, "config", *TRIVY_OFFLINE, "--severity", "HIGH,CRITICAL", "--format", "json",
         "--ignorefile", ignore_file, str(target)],
        capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise AssertionError(result.stderr)
    report = json.loads(result.stdout)
    return {(r["Target"], m["ID"]) for r in report.get("Results", []) for m in r.get("Misconfigurations", [])
            if m.get("Status") == "FAIL"}


class HadolintTests(unittest.TestCase):
    def test_the_dockerfile_passes(self):
        hadolint = tool(self, "hadolint")
        result = subprocess.run([hadolint, "--config", str(HADOLINT_CONFIG), str(DEPLOY / "Dockerfile")],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_hadolint_fails_a_bad_dockerfile(self):
        hadolint = tool(self, "hadolint")
        bad = "FROM debian:latest\nRUN apt-get update && apt-get install -y curl\nCMD curl example.org\n"
        result = subprocess.run([hadolint, "--config", str(HADOLINT_CONFIG), "-"], input=bad,
                                capture_output=True, text=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("DL3007", result.stdout)  # :latest

    def test_every_ignored_rule_has_its_reason(self):
        lines = HADOLINT_CONFIG.read_text().splitlines()
        ignored = yaml.safe_load(HADOLINT_CONFIG.read_text()).get("ignored", [])
        for rule in ignored:
            index = next(i for i, line in enumerate(lines) if re.match(rf"\s*-\s*{rule}\b", line))
            self.assertTrue(lines[index - 1].strip().startswith("#"), f"{rule} has no reason above it")


class TrivyTests(unittest.TestCase):
    def test_the_deployment_has_no_unaccepted_high_or_critical_finding(self):
        trivy = tool(self, "trivy")
        self.assertEqual(trivy_findings(trivy, DEPLOY, str(IGNORE_FILE)), set())

    def test_trivy_fails_a_bad_manifest_and_a_bad_dockerfile_offline(self):
        trivy = tool(self, "trivy")
        with tempfile.TemporaryDirectory() as directory:
            directory = pathlib.Path(directory)
            (directory / "Dockerfile").write_text("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n")
            (directory / "pod.yaml").write_text(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n"
                "    - name: c\n      image: debian:bookworm-slim\n      securityContext:\n        privileged: true\n")
            result = subprocess.run([trivy, "config", *TRIVY_OFFLINE, "--severity", "HIGH,CRITICAL", "--exit-code",
                                     "1", "--ignorefile", "", str(directory)], capture_output=True, text=True)
            findings = trivy_findings(trivy, directory)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        ids = {check for _, check in findings}
        self.assertIn("KSV-0017", ids)  # privileged container
        self.assertIn("DS-0029", ids)  # apt-get without --no-install-recommends

    def test_every_accepted_finding_has_a_reason_and_still_occurs(self):
        trivy = tool(self, "trivy")
        accepted = yaml.safe_load(IGNORE_FILE.read_text())["misconfigurations"]
        raw = trivy_findings(trivy, DEPLOY)
        for entry in accepted:
            with self.subTest(id=entry["id"]):
                self.assertGreater(len(entry.get("statement", "").split()), 10, "a reason, not a word")
                self.assertTrue(entry.get("paths"), "an accepted finding names the files it covers")
                scanned = {p for p in entry["paths"] if not p.startswith("deploy/")}
                self.assertEqual({p for p, check in raw if check == entry["id"]}, scanned,
                                 "the ignore list and the findings disagree (stale or missing paths)")


if __name__ == "__main__":
    unittest.main()
