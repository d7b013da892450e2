"""deploy/k8s/configmap.yaml from deploy/config/chronos.toml: the two must carry the same text.

    python3 Tests/Deployment/configmap.py          # rewrite deploy/k8s/configmap.yaml
"""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "config" / "chronos.toml"
CONFIGMAP = ROOT / "deploy" / "k8s" / "configmap.yaml"

HEADER = """\
# The shard map and shared settings of every Chronos container: the same text as
# deploy/config/chronos.toml (Tests/Deployment checks that they are identical; after editing
# that file, run `python3 Tests/Deployment/configmap.py` to rewrite this one). Mounted read-only
# at /etc/chronos/chronos.toml. A change reaches running pods on their next start:
# `kubectl -n chronos rollout restart deployment` (docs/operations.md).
apiVersion: v1
kind: ConfigMap
metadata:
  name: chronos-config
  namespace: chronos
  labels:
    app.kubernetes.io/name: chronos
    app.kubernetes.io/component: config
data:
  chronos.toml: |
"""


def render(toml_text: str) -> str:
    """The ConfigMap manifest whose `chronos.toml` key is exactly `toml_text` (a literal block)."""
    lines = [("    " + line) if line.strip() else "" for line in toml_text.splitlines()]
    return HEADER + "\n".join(lines) + "\n"


if __name__ == "__main__":
    CONFIGMAP.write_text(render(CONFIG.read_text()))
    print(f"wrote {CONFIGMAP.relative_to(ROOT)}")
