"""One test per scenario file: the FIX session layer, ported from QuickFIX's fix44
acceptance suite (see README.md for the mapping), plus a few Chronos scenarios.
Each scenario runs against its own fresh `chronos run` process and state_dir."""

import re
import unittest
from pathlib import Path

import scenario

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


class SessionScenarios(unittest.TestCase):
    maxDiff = None


def _make_test(path: Path):
    def test(self):
        scenario.run_file(path)

    parsed = scenario.parse(path)
    test.__doc__ = f"{path.name} ({parsed.mirrors})" if parsed.mirrors else path.name
    return test


for _path in sorted(SCENARIO_DIR.glob("*.fixscenario")):
    _name = "test_" + re.sub(r"\W", "_", _path.stem.replace("-", "_"))
    setattr(SessionScenarios, _name, _make_test(_path))


if __name__ == "__main__":
    unittest.main()
