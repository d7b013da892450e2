#!/usr/bin/env bash
# Installs the ONNX Runtime C API (shared library, C header, pkg-config file) into $PREFIX
# (default /usr/local) for the COnnxRuntime module. Recipe and reasons: native-deps.md section 2.
#
# - The runtime .so comes from the PyPI `onnxruntime` wheel (pip is used only to download it;
#   every cp3xx manylinux x86_64 wheel carries the same .so, which needs only glibc >= 2.28).
#   Debian's own libonnxruntime cannot run on bookworm (it needs GLIBC_2.38 and trixie libraries).
# - The wheel has no headers: the C header comes from Debian trixie's libonnxruntime-dev (API
#   version 21), fetched with a private apt state so the system's sources stay untouched. An older
#   header against a newer runtime is supported by the C API (GetApi(N) for N <= the runtime's).
# - With PREFIX=/usr/local SwiftPM finds the .pc file and ldconfig resolves the .so at run time,
#   so builds need no environment variables and no rpath.
#
# Idempotent: exits at once when this version's .so, the header and the .pc file are present.
# Runs as root, or as a user with sudo (only the install steps use it; nothing when PREFIX is
# writable by the user).
set -euo pipefail

ORT_VERSION="${ORT_VERSION:-1.32.0}"
PREFIX="${PREFIX:-/usr/local}"
lib="$PREFIX/lib/libonnxruntime.so.$ORT_VERSION"
header="$PREFIX/include/onnxruntime/onnxruntime_c_api.h"
pc="$PREFIX/lib/pkgconfig/libonnxruntime.pc"

if [ -f "$lib" ] && [ -f "$header" ] && [ -f "$pc" ] && grep -qx "Version: $ORT_VERSION" "$pc"; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$PREFIX" 2>/dev/null || true
    if [ ! -w "$PREFIX" ]; then
        command -v sudo >/dev/null || { echo "install-onnxruntime: not root, no sudo, $PREFIX not writable" >&2; exit 1; }
        SUDO="sudo"
    fi
fi
python3 -m pip --version >/dev/null 2>&1 || { echo "install-onnxruntime: python3 with pip is needed" >&2; exit 1; }
command -v dpkg >/dev/null && command -v apt-get >/dev/null \
    || { echo "install-onnxruntime: apt-get and dpkg are needed for the C header" >&2; exit 1; }

echo "install-onnxruntime: installing ONNX Runtime $ORT_VERSION into $PREFIX"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# 1. The runtime .so from the wheel (download only; no Python import of onnxruntime).
python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --python-version 3.11 --implementation cp "onnxruntime==$ORT_VERSION" -d whl
python3 -m zipfile -e whl/onnxruntime-*.whl whl/x
[ -f "whl/x/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" ] \
    || { echo "install-onnxruntime: the wheel has no libonnxruntime.so.$ORT_VERSION" >&2; exit 1; }

# 2. The C header from trixie's -dev package, through a private apt state on the mirror the
#    system already uses (deb822 sources first, then a one-line sources.list).
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror="$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit } $1 == "deb" { print $3; exit }' /etc/apt/sources.list)"
fi
[ -n "$mirror" ] || { echo "install-onnxruntime: no Debian mirror found in the apt sources" >&2; exit 1; }
mkdir -p apt/lists/partial apt/cache/archives/partial
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ -f "$keyring" ]; then
    echo "deb [signed-by=$keyring] $mirror trixie main" >apt/sources.list
else
    echo "deb $mirror trixie main" >apt/sources.list
fi
apt_options=(
    -o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache"
    -o Debug::NoLocking=1
)
# As root apt drops to the _apt user for downloads, which cannot write into this private directory.
[ "$(id -u)" -eq 0 ] && apt_options+=(-o APT::Sandbox::User=root)
apt-get "${apt_options[@]}" update -qq
apt-get "${apt_options[@]}" download -qq libonnxruntime-dev
dpkg -x libonnxruntime-dev_*.deb deb
[ -f deb/usr/include/onnxruntime/onnxruntime_c_api.h ] \
    || { echo "install-onnxruntime: libonnxruntime-dev has no onnxruntime_c_api.h" >&2; exit 1; }

# 3. Install: library and its two links, header, pkg-config file.
printf 'prefix=%s\nName: libonnxruntime\nDescription: ONNX Runtime C API\nVersion: %s\nLibs: -L${prefix}/lib -lonnxruntime\nCflags: -I${prefix}/include/onnxruntime\n' \
    "$PREFIX" "$ORT_VERSION" >libonnxruntime.pc
$SUDO install -d "$PREFIX/lib/pkgconfig" "$PREFIX/include/onnxruntime"
$SUDO install -m755 "whl/x/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "$PREFIX/lib/"
$SUDO ln -sf "libonnxruntime.so.$ORT_VERSION" "$PREFIX/lib/libonnxruntime.so.1"
$SUDO ln -sf libonnxruntime.so.1 "$PREFIX/lib/libonnxruntime.so"
$SUDO install -m644 deb/usr/include/onnxruntime/onnxruntime_c_api.h "$header"
$SUDO install -m644 libonnxruntime.pc "$pc"
if [ "$PREFIX" = /usr/local ]; then
    $SUDO ldconfig
fi
echo "install-onnxruntime: ok ($lib)"
