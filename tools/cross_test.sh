#!/usr/bin/env bash
# tools/cross_test.sh aarch64 [CTEST_ARGS...]: cross-build bertc for arm64 on an x86-64 Debian
# machine and run the test suite under qemu-aarch64 (CI runs it; see the README's Tests section).
# Sets up whatever is missing and is quiet when there is nothing to do:
#   - host packages: g++-aarch64-linux-gnu, qemu-user (apt-get install);
#   - an arm64 sysroot of the dependencies: the Debian arm64 packages, resolved and fetched by
#     apt with a private state directory (the host's apt architectures are left alone) and
#     unpacked with dpkg -x (no root needed for that part; nothing is installed into the host);
#   - build-aarch64/, configured with cmake/aarch64-linux-gnu.cmake and built.
# Then ctest runs every test through qemu-aarch64 (-cpu cortex-a72: armv8.0-A + NEON).
# Environment: BERTC_SYSROOT (default ~/.cache/bertc/sysroot-arm64-CODENAME), BERTC_QEMU_CPU,
# BERTC_APT_LOCK (a file that serialises apt with other users of the machine; default
# /work/apt.lock when it exists), BERTC_DEBIAN_MIRROR (default http://deb.debian.org).
set -euo pipefail
arch=${1:-}
if [ "$arch" != aarch64 ]; then
  echo "usage: tools/cross_test.sh aarch64 [CTEST_ARGS...]" >&2
  exit 2
fi
shift
cd "$(dirname "$0")/.."
root=$(pwd)
log() { echo "cross_test: $*" >&2; }
if [ "$(uname -m)" != x86_64 ] || ! command -v apt-get > /dev/null; then
  log "needs an x86-64 Debian host (apt-get, dpkg); skipped"
  exit 0
fi

lock=${BERTC_APT_LOCK:-}
[ -z "$lock" ] && [ -e /work/apt.lock ] && lock=/work/apt.lock
locked() { if [ -n "$lock" ]; then flock "$lock" "$@"; else "$@"; fi; }
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo

# ---- host tools -------------------------------------------------------------------------------
host_packages=(g++-aarch64-linux-gnu qemu-user cmake pkg-config)
missing=()
for p in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  locked $sudo apt-get update -qq
  locked $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ---- the arm64 sysroot ------------------------------------------------------------------------
# The -dev packages that tools/setup.sh installs (its packages=(...) list), for arm64. Their dependencies are resolved by apt; what the
# cross compiler already provides (libc6, libstdc++6, libgcc-s1, libgomp1, linux-libc-dev: Debian
# ships them as <name>-arm64-cross) is not unpacked, so the one libc is the toolchain's.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:?}")
sysroot=${BERTC_SYSROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/bertc/sysroot-arm64-$codename}
mapfile -t dev_packages < <(sed -n '/^packages=(/,/)/p' tools/setup.sh | tr -d '()' | tr ' ' '\n' |
                            grep -E -- '-dev$')
[ ${#dev_packages[@]} -gt 0 ] || { log "no -dev packages found in tools/setup.sh"; exit 1; }
stamp="$codename ${dev_packages[*]}"
if [ "$(cat "$sysroot/.bertc-sysroot" 2>/dev/null)" != "$stamp" ]; then
  log "making the arm64 sysroot in $sysroot"
  mirror=${BERTC_DEBIAN_MIRROR:-http://deb.debian.org}
  state="$sysroot.apt"
  rm -rf "$state"
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/parts"
  : > "$state/status"
  keyring="signed-by=/usr/share/keyrings/debian-archive-keyring.gpg"
  {
    echo "deb [arch=arm64 $keyring] $mirror/debian $codename main"
    echo "deb [arch=arm64 $keyring] $mirror/debian $codename-updates main"
    echo "deb [arch=arm64 $keyring] $mirror/debian-security $codename-security main"
  } > "$state/sources.list"
  apt_opts=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Acquire::Languages=none
            -o Dir::State="$state" -o Dir::State::Lists="$state/lists"
            -o Dir::State::status="$state/status" -o Dir::Cache="$state/cache"
            -o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts="$state/parts"
            -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$state/parts"
            -o Debug::NoLocking=1)
  # As root, apt downloads as the _apt user, who cannot write to root's cache: not worth a warning.
  [ "$(id -u)" -eq 0 ] && apt_opts+=(-o APT::Sandbox::User=root)
  locked apt-get "${apt_opts[@]}" update -qq
  # Every package of the closure, as "name_version_arch.deb" file names.
  mapfile -t debs < <(apt-get "${apt_opts[@]}" install --print-uris -qq --no-install-recommends \
                        "${dev_packages[@]}" | awk '{print $2}')
  provided=$(dpkg-query -W -f='${Package}\n' '*-arm64-cross' 2>/dev/null | sed 's/-arm64-cross$//')
  wanted=()
  for deb in "${debs[@]}"; do
    name=${deb%%_*}
    grep -qxF "$name" <<< "$provided" || wanted+=("$name")
  done
  (cd "$state/cache/archives" && locked apt-get "${apt_opts[@]}" download -qq "${wanted[@]}")
  rm -rf "$sysroot.tmp"
  mkdir -p "$sysroot.tmp"
  for deb in "$state"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$sysroot.tmp"; done
  echo "$stamp" > "$sysroot.tmp/.bertc-sysroot"
  rm -rf "$sysroot" "$state"
  mv "$sysroot.tmp" "$sysroot"
  log "sysroot ready: ${#wanted[@]} packages"
fi

# ---- cross build ------------------------------------------------------------------------------
build="$root/build-$arch"
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
jobs=$(nproc)
t0=$(date +%s)
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.cmake" \
      -DBERTC_SYSROOT="$sysroot" -DBERTC_CUDA=OFF -DBERTC_NATIVE=OFF -DCMAKE_BUILD_TYPE=Release \
      "${launcher[@]}" > "$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
# An up-to-date build prints only its "Built target" lines: dropped, so that nothing to do is quiet.
nice cmake --build "$build" -j"$jobs" | { grep -v -E '^\[ *[0-9]+%\] Built target ' || true; }
t1=$(date +%s)

# ---- the suite under qemu ---------------------------------------------------------------------
if ! ctest --test-dir "$build" -j"$jobs" --output-on-failure "$@" > "$build/ctest.log" 2>&1; then
  grep -E -A40 '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception)' "$build/ctest.log" | head -200
  tail -25 "$build/ctest.log"
  log "FAILED under qemu-aarch64 (log $build/ctest.log)"
  exit 1
fi
t2=$(date +%s)
log "$(grep -E 'tests passed' "$build/ctest.log"); build $((t1 - t0)) s, tests under qemu-aarch64 $((t2 - t1)) s"
