#!/usr/bin/env bash
# Builds deploy/Dockerfile with buildah (daemonless, no Docker engine) and checks the image:
# runtime contents, user, and that its HEALTHCHECK passes against a running service and fails
# once the service is gone. `make test-image`; docs/operations.md, "Image test".
#
# Usage: Tests/Deployment/build-image.sh [CONTEXT]     (default: the repository root)
#
# Base images: the Dockerfile's SWIFT_IMAGE and RUNTIME_IMAGE come from a registry. Where none is
# reachable (this project's development machines reach only Debian's archive and PyPI) the script
# assembles local stand-ins once and reuses them:
#   - RUNTIME_IMAGE: Debian bookworm from debootstrap --variant=minbase (what bookworm-slim is);
#   - SWIFT_IMAGE:   that base plus the Swift toolchain's system packages (as the official
#                    swift:bookworm image has them), the toolchain itself bind-mounted from this
#                    machine at build time, and this machine's git URL rewrites (a package mirror),
#                    if any, so that `swift build` resolves packages as it does here.
# CHRONOS_SWIFT_IMAGE / CHRONOS_RUNTIME_IMAGE force given images instead (e.g. on a machine with a
# registry: CHRONOS_SWIFT_IMAGE=swift:6.3.1-bookworm CHRONOS_RUNTIME_IMAGE=debian:bookworm-slim).
# Needs root, buildah and debootstrap (scripts/install-deps.sh installs them).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
context="$(cd "${1:-$root}" && pwd)"
image="localhost/chronos:image-test"
base_prefix="localhost/chronos-base"
runtime_standin="$base_prefix/debian:bookworm-slim"
swift_standin="$base_prefix/swift:bookworm"
toolchain_mount="/opt/swift-toolchain"
# Docker image format: OCI images have no HEALTHCHECK or SHELL, and both matter here.
buildah_common=(--isolation chroot)
build_format=(--format docker)
started=$SECONDS
say() { printf 'build-image [%4ss]: %s\n' "$((SECONDS - started))" "$*"; }
fail() { printf 'build-image: FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (buildah with chroot isolation)"
command -v buildah >/dev/null || fail "buildah missing (apt-get install buildah; scripts/install-deps.sh)"

# What the Dockerfile copies in must exist: two of them come from other issues.
for input in scripts/install-onnxruntime.sh models/spoofing-v1.onnx deploy/config/chronos.toml; do
    [ -e "$context/$input" ] || fail "$input is missing from the build context ($context):" \
        "the Dockerfile copies it (install-onnxruntime.sh and the model come with issue 5)"
done

work="$(mktemp -d -t chronos-image.XXXXXX)"
containers=()
cleanup() {
    for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
    # The tested image and the untagged stage images of this build: ~1.6 GB a run otherwise.
    # The base images (tagged) stay for the next run.
    buildah rmi "$image" >/dev/null 2>&1 || true
    buildah rmi --prune >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- base images ------------------------------------------------------------------------------
image_exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }

runtime_image="${CHRONOS_RUNTIME_IMAGE:-}"
swift_image="${CHRONOS_SWIFT_IMAGE:-}"
volumes=()
pull=true   # given images: pull them if missing or newer
if [ -z "$runtime_image" ] && [ -z "$swift_image" ]; then
    pull=never   # local stand-ins only
    command -v debootstrap >/dev/null || fail "debootstrap missing (scripts/install-deps.sh)"
    if ! image_exists "$runtime_standin"; then
        say "no registry: assembling $runtime_standin with debootstrap (once per machine)"
        mirror=""
        [ -f /etc/apt/sources.list.d/debian.sources ] \
            && mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
        [ -n "$mirror" ] || mirror="$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
        [ -n "$mirror" ] || fail "no Debian mirror in the apt sources"
        debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
            || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
        rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin
        c="$(buildah from scratch)"
        containers+=("$c")
        mnt="$(buildah mount "$c")"
        tar -C "$work/rootfs" -cf - . | tar -C "$mnt" -xf -
        buildah umount "$c" >/dev/null
        buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            --cmd /bin/bash "$c"
        buildah commit -q "$c" "$runtime_standin" >/dev/null
        rm -rf "$work/rootfs"
    fi
    swift_bin="$(dirname "$(readlink -f "$(command -v swift)")")"
    toolchain="$(dirname "$(dirname "$swift_bin")")"   # …/usr/bin/swift → the toolchain root
    [ -x "$toolchain/usr/bin/swift" ] || fail "cannot find the Swift toolchain root from $(command -v swift)"
    volumes+=(--volume "$toolchain:$toolchain_mount:ro")
    if ! image_exists "$swift_standin"; then
        say "assembling $swift_standin (the toolchain's system packages; the toolchain is mounted)"
        cat >"$work/Swift.Dockerfile" <<EOF
FROM $runtime_standin
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        binutils ca-certificates git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev \\
        libncurses6 libpython3.11 libsqlite3-0 libstdc++-12-dev libxml2 libz3-4 pkg-config tzdata \\
        unzip zlib1g-dev \\
    && rm -rf /var/lib/apt/lists/*
ENV PATH=$toolchain_mount/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
        buildah bud "${buildah_common[@]}" "${build_format[@]}" --network host --pull=never -q -f "$work/Swift.Dockerfile" \
            -t "$swift_standin" "$work" >"$work/swift-image.log" 2>&1 \
            || { tail -20 "$work/swift-image.log" >&2; fail "building $swift_standin"; }
    fi
    # A package mirror through git URL rewrites (url.<mirror>.insteadOf): the same inside.
    : >"$work/gitconfig"
    while read -r key value; do
        [ -n "$key" ] || continue
        mirror_dir="${key#url.}"
        mirror_dir="${mirror_dir%.insteadof}"
        git config --file "$work/gitconfig" --add "url.$mirror_dir.insteadOf" "$value"
        if [ -d "$mirror_dir" ] && [[ " ${volumes[*]} " != *" $mirror_dir:$mirror_dir:ro "* ]]; then
            volumes+=(--volume "$mirror_dir:$mirror_dir:ro")
        fi
    done < <(git config --get-regexp '^url\..*\.insteadof$' || true)
    [ -s "$work/gitconfig" ] && volumes+=(--volume "$work/gitconfig:/etc/gitconfig:ro")
    # The certificate authorities this machine trusts for HTTPS (a TLS-inspecting proxy's among
    # them, where there is one): pip in the build stage downloads the ONNX Runtime wheel with them.
    ca_bundle="${PIP_CERT:-$(python3 -c 'import ssl; print(ssl.get_default_verify_paths().cafile or "")')}"
    if [ -n "$ca_bundle" ] && [ -f "$ca_bundle" ]; then
        printf '[global]\ncert = /etc/chronos-build-ca.crt\n' >"$work/pip.conf"
        volumes+=(--volume "$ca_bundle:/etc/chronos-build-ca.crt:ro" --volume "$work/pip.conf:/etc/pip.conf:ro")
    fi
    runtime_image="$runtime_standin"
    swift_image="$swift_standin"
elif [ -z "$runtime_image" ] || [ -z "$swift_image" ]; then
    fail "set both CHRONOS_SWIFT_IMAGE and CHRONOS_RUNTIME_IMAGE, or neither"
fi

# --- the image --------------------------------------------------------------------------------
say "building $image from deploy/Dockerfile (SWIFT_IMAGE=$swift_image RUNTIME_IMAGE=$runtime_image)"
buildah bud "${buildah_common[@]}" "${build_format[@]}" --network host --pull="$pull" \
    --build-arg "SWIFT_IMAGE=$swift_image" --build-arg "RUNTIME_IMAGE=$runtime_image" \
    "${volumes[@]}" -f "$context/deploy/Dockerfile" -t "$image" "$context" >"$work/build.log" 2>&1 \
    || { tail -40 "$work/build.log" >&2; fail "buildah bud deploy/Dockerfile"; }
say "built: $(buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$image" | head -n1)"

# --- what the image is ------------------------------------------------------------------------
buildah inspect --type image "$image" >"$work/inspect.json"
python3 - "$work/inspect.json" <<'EOF' || fail "image configuration"
import json, sys
config = json.load(open(sys.argv[1]))["Docker"]["config"]
problems = []
if config.get("User") not in ("10001:10001", "10001"):
    problems.append(f"User is {config.get('User')!r}, not the non-root 10001")
if config.get("Entrypoint") != ["chronos"]:
    problems.append(f"Entrypoint is {config.get('Entrypoint')!r}")
health = (config.get("Healthcheck") or {}).get("Test") or []
if not health or "chronos status" not in " ".join(health):
    problems.append(f"Healthcheck is {health!r}, not chronos status")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
EOF
healthcheck="$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["Docker"]["config"]["Healthcheck"]["Test"]))' "$work/inspect.json")"

c="$(buildah from --pull=never "$image")"
containers+=("$c")
mnt="$(buildah mount "$c")"
problems=()
[ -x "$mnt/usr/local/bin/chronos" ] || problems+=("no /usr/local/bin/chronos")
[ -f "$mnt/opt/chronos/models/spoofing-v1.onnx" ] || problems+=("no model")
[ -f "$mnt/etc/chronos/chronos.toml" ] || problems+=("no default config")
for tool in swift swiftc gcc cc c++ clang ld as make pkg-config pip pip3; do
    for dir in usr/bin usr/local/bin bin sbin usr/sbin; do
        [ -e "$mnt/$dir/$tool" ] && problems+=("build tool in the runtime image: /$dir/$tool")
    done
done
headers="$(find "$mnt/usr/include" "$mnt/usr/local/include" -name '*.h' 2>/dev/null | head -n 5)"
[ -z "$headers" ] || problems+=("headers in the runtime image: ${headers//$mnt/}")
lists="$(find "$mnt/var/lib/apt/lists" -type f ! -name lock 2>/dev/null | head -n 3)"
[ -z "$lists" ] || problems+=("apt lists left in the runtime image: ${lists//$mnt/}")
debs="$(find "$mnt/var/cache/apt" -name '*.deb' 2>/dev/null | head -n 3)"
[ -z "$debs" ] || problems+=("package files left in the runtime image: ${debs//$mnt/}")
ort_files="$(find "$mnt/usr/local/lib" -maxdepth 1 -name 'libonnxruntime.so*' -type f | wc -l)"
[ "$ort_files" -eq 1 ] || problems+=("expected exactly one real libonnxruntime file, found $ort_files")
[ -L "$mnt/usr/local/lib/libonnxruntime.so.1" ] || problems+=("no libonnxruntime.so.1 link (ldconfig)")
buildah umount "$c" >/dev/null
[ ${#problems[@]} -eq 0 ] || fail "$(printf '%s; ' "${problems[@]}")"
say "runtime contents ok: binary, model, config, one ORT library, no build tools, headers or apt caches"

# --- run it: libraries, user, and the health check up and down ----------------------------------
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$work/run-check.sh" <<EOF
set -u
ldd /usr/local/bin/chronos | grep -q 'not found' && { ldd /usr/local/bin/chronos; echo "missing libraries"; exit 1; }
ldd /usr/local/bin/chronos | grep -q libswiftCore && { echo "Swift runtime linked dynamically"; exit 1; }
[ "\$(id -u)" = 10001 ] || { echo "runs as uid \$(id -u)"; exit 1; }
chronos --help | grep -q 'status' || { echo "no status subcommand"; exit 1; }
export CHRONOS_METRICS_PORT=$port
health() { $(python3 -c 'import json, sys, shlex; t = json.loads(sys.argv[1]); print(" ".join(shlex.quote(a) for a in t[1:]) if t[0] == "CMD" else t[1])' "$healthcheck"); }
# As deploy/compose.yaml starts engine-0, on a free metrics port.
chronos engine --config=/etc/chronos/chronos.toml --shard=0 --metrics-port=$port >/tmp/engine.log 2>&1 &
engine=\$!
up=1
for _ in \$(seq 100); do if health >/tmp/health.out 2>&1; then up=0; break; fi; sleep 0.1; done
cat /tmp/health.out
[ \$up -eq 0 ] || { echo "health check failed while the engine runs"; cat /tmp/engine.log; kill \$engine; exit 1; }
kill -TERM \$engine; wait \$engine; rc=\$?
[ \$rc -eq 0 ] || { echo "engine exited \$rc on SIGTERM"; cat /tmp/engine.log; exit 1; }
if health >/tmp/health.out 2>&1; then echo "health check passed with the engine stopped"; exit 1; fi
cat /tmp/health.out
echo "health check: up while serving, down once stopped"
EOF
buildah run "${buildah_common[@]}" --network host --volume "$work/run-check.sh:/tmp/run-check.sh:ro" \
    "$c" -- /bin/bash /tmp/run-check.sh || fail "running the image"
say "ok"
