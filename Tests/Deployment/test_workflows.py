""".github/workflows: valid workflows, actions pinned to full commit SHAs, CI running make test,
and the security workflow doing what docs/operations.md says it does."""
import re
import shutil
import subprocess
import unittest

import yaml

from support import WORKFLOWS

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def workflow(name):
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(document):
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


class WorkflowTests(unittest.TestCase):
    def test_both_workflows_exist_and_match_the_workflow_schema(self):
        files = [WORKFLOWS / "ci.yml", WORKFLOWS / "security.yml"]
        for path in files:
            self.assertTrue(path.exists(), path)
        checker = shutil.which("check-jsonschema")
        if checker is None:
            self.skipTest("check-jsonschema is not installed (scripts/install-deps.sh installs it)")
        result = subprocess.run([checker, "--builtin-schema", "vendor.github-workflows", *map(str, files)],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_every_action_is_pinned_to_a_commit_with_its_release_named(self):
        for path in sorted(WORKFLOWS.glob("*.yml")):
            lines = path.read_text().splitlines()
            for number, line in enumerate(lines, 1):
                match = re.match(r"\s*(?:-\s*)?uses:\s*(\S+)(.*)$", line)
                if not match:
                    continue
                with self.subTest(file=path.name, line=number):
                    self.assertRegex(match.group(1), PINNED, "pin actions to a full commit SHA")
                    self.assertRegex(match.group(2), r"#\s*v\d", "name the release in a comment")

    def test_the_pin_check_rejects_tags_and_short_shas(self):
        for reference in ("actions/checkout@v6", "actions/checkout@de0fac2", "aquasecurity/trivy-action@master"):
            self.assertNotRegex(reference, PINNED)

    def test_ci_runs_the_projects_test_command(self):
        document = workflow("ci.yml")
        self.assertIn("pull_request", document["on"])
        runs = " ".join(step.get("run", "") for step in steps(document))
        self.assertIn(".ci/run", runs)
        job = next(iter(document["jobs"].values()))
        self.assertIn("bookworm", job["container"]["image"])

    def test_security_scans_the_image_the_repository_and_the_code(self):
        document = workflow("security.yml")
        jobs = document["jobs"]
        image_steps = jobs["image"]["steps"]
        build = next(i for i, s in enumerate(image_steps) if "docker build -f deploy/Dockerfile" in s.get("run", ""))
        scans = [i for i, s in enumerate(image_steps) if "trivy-action" in s.get("uses", "")]
        self.assertTrue(scans and min(scans) > build, "the image is scanned after it is built")
        gate = image_steps[max(scans)]["with"]
        self.assertEqual(str(gate["exit-code"]), "1")
        self.assertEqual(gate["severity"], "HIGH,CRITICAL")
        repository = [s["with"] for s in jobs["repository"]["steps"] if "trivy-action" in s.get("uses", "")]
        self.assertIn("fs", [w.get("scan-type") for w in repository])
        self.assertIn("config", [w.get("scan-type") for w in repository])
        self.assertTrue(all(str(w.get("exit-code")) == "1" for w in repository))
        languages = {entry["language"]: entry for entry in jobs["codeql"]["strategy"]["matrix"]["include"]}
        self.assertIn("swift", languages)
        self.assertTrue(languages["swift"]["runner"].startswith("macos"), "CodeQL extracts Swift on macOS only")
        uses = [s.get("uses", "") for s in jobs["codeql"]["steps"]]
        self.assertTrue(any("codeql-action/init" in u for u in uses))
        self.assertTrue(any("codeql-action/analyze" in u for u in uses))
        self.assertEqual(document["env"]["TRIVY_IGNOREFILE"], ".trivyignore.yaml")


if __name__ == "__main__":
    unittest.main()
