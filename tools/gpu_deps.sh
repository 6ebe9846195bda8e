#!/usr/bin/env bash
# bertc's build dependencies for a machine that cannot download them (the GPU machine), as Debian
# packages fetched here and unpacked there into a prefix, never into /. docs/GPU.md says how they
# travel and how bench/gpu_check.sh uses them.
#   tools/gpu_deps.sh fetch [DIR]            here: apt-get download the .debs into DIR (.gpu-deps)
#   tools/gpu_deps.sh unpack DIR PREFIX      there: dpkg -x each into PREFIX; prints the env to use
#   tools/gpu_deps.sh env PREFIX             prints that env again (sh syntax, for eval)
# The .debs are Debian 12's (glibc 2.36): they run on any newer glibc. Runtime libraries that a
# minimal image may lack (libssl3, libbz2, zlib: libzip's) are unpacked into PREFIX/fallback and
# used only when the system has none (ldconfig says), never in front of the system's own.
set -euo pipefail

# Headers and CMake/pkg-config files for the build, the shared libraries bertc links, and
# pkg-config itself (CMake's FindPkgConfig needs the executable).
BUILD_PACKAGES=(libeigen3-dev nlohmann-json3-dev libcli11-dev libutf8proc-dev libutf8proc2
                libzip-dev libzip4 libgtest-dev libgmock-dev libbenchmark-dev libbenchmark1debian
                pkgconf pkgconf-bin libpkgconf3)
FALLBACK_PACKAGES=(libssl3 libbz2-1.0 zlib1g)
# Each fallback package's library, as ldconfig -p names it.
FALLBACK_SONAMES=(libssl.so.3 libbz2.so.1.0 libz.so.1)
MAX_BYTES=$((8 << 20))  # what travels is capped at 64 MiB in all; these should stay far below

usage() { sed -n '2,11p' "$0" >&2; exit 2; }

fetch() {
  local dir=${1:-.gpu-deps}
  mkdir -p "$dir"
  (cd "$dir" && rm -f ./*.deb && apt-get download "${BUILD_PACKAGES[@]}" "${FALLBACK_PACKAGES[@]}")
  local bytes
  bytes=$(du -cb "$dir"/*.deb | tail -1 | cut -f1)
  echo "gpu_deps: $(ls "$dir"/*.deb | wc -l) packages, $bytes bytes in $dir"
  [ "$bytes" -le "$MAX_BYTES" ] || { echo "gpu_deps: over $MAX_BYTES bytes: check the list" >&2; exit 1; }
}

# Unpacks one .deb into a directory with dpkg-deb, or with ar + tar where dpkg is missing.
extract() {
  local deb=$1 into=$2
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$deb" "$into"
  else
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && ar x "$deb" && tar -xf data.tar.* -C "$into")
    rm -rf "$tmp"
  fi
}

print_env() {
  local prefix=$1 lib="$1/usr/lib/x86_64-linux-gnu"
  echo "export CMAKE_PREFIX_PATH='$prefix/usr'"
  echo "export PKG_CONFIG_PATH='$lib/pkgconfig:$prefix/usr/share/pkgconfig'"
  echo "export BERTC_PKG_CONFIG='$prefix/bin/pkg-config'"
  # Runtime: the carried shared libraries (libutf8proc, libzip, libbenchmark) are found through
  # the RUNPATH CMake writes into build-tree binaries; the fallback folder only if it was needed.
  if [ -n "$(ls -A "$prefix/fallback" 2>/dev/null)" ]; then
    echo "export LD_LIBRARY_PATH='$prefix/fallback${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}'"
    echo "export BERTC_LINK_FLAGS='-Wl,-rpath-link,$prefix/fallback'"
  fi
}

# True when the system's dynamic linker finds the library `soname` (ldconfig's cache, or the usual
# directories where there is no ldconfig).
system_has() {
  local ldconfig
  ldconfig=$(command -v ldconfig || ls /sbin/ldconfig /usr/sbin/ldconfig 2>/dev/null | head -1 || true)
  if [ -n "$ldconfig" ]; then
    # grep -c reads to the end: grep -q would stop early and, under pipefail, fail the pipe
    "$ldconfig" -p 2>/dev/null | grep -c "$1" >/dev/null
  else
    ls /lib/x86_64-linux-gnu/"$1" /usr/lib/x86_64-linux-gnu/"$1" /lib64/"$1" /usr/lib64/"$1" >/dev/null 2>&1
  fi
}

unpack() {
  local dir=$1 prefix=$2
  case "$prefix" in /|/usr|/usr/*) echo "gpu_deps: refusing to unpack into $prefix" >&2; exit 2 ;; esac
  [ -n "$(ls "$dir"/*.deb 2>/dev/null)" ] || { echo "gpu_deps: no .deb files in $dir (run fetch here first)" >&2; exit 1; }
  mkdir -p "$prefix/bin" "$prefix/fallback"
  prefix=$(cd "$prefix" && pwd)
  for p in "${BUILD_PACKAGES[@]}"; do
    local deb
    deb=$(ls "$dir"/"${p}"_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { echo "gpu_deps: $p missing from $dir" >&2; exit 1; }
    extract "$deb" "$prefix"
  done
  # .pc files name /usr: point them into the prefix.
  find "$prefix/usr" -name '*.pc' -exec sed -i "s#/usr#$prefix/usr#g" {} +
  # pkgconf finds its own library through a wrapper, so nothing else sees this LD_LIBRARY_PATH.
  cat > "$prefix/bin/pkg-config" <<EOF
#!/bin/sh
LD_LIBRARY_PATH='$prefix/usr/lib/x86_64-linux-gnu' exec '$prefix/usr/bin/pkgconf' "\$@"
EOF
  chmod +x "$prefix/bin/pkg-config"
  local i
  for i in "${!FALLBACK_PACKAGES[@]}"; do
    if ! system_has "${FALLBACK_SONAMES[$i]}"; then
      local deb tmp
      deb=$(ls "$dir"/"${FALLBACK_PACKAGES[$i]}"_*.deb 2>/dev/null | head -1)
      [ -n "$deb" ] || { echo "gpu_deps: the system lacks ${FALLBACK_SONAMES[$i]} and $dir has no ${FALLBACK_PACKAGES[$i]}" >&2; exit 1; }
      tmp=$(mktemp -d)
      extract "$deb" "$tmp"
      find "$tmp" -name "${FALLBACK_SONAMES[$i]%%.so*}.so*" -exec cp -P {} "$prefix/fallback/" \;
      [ "${FALLBACK_PACKAGES[$i]}" = libssl3 ] && find "$tmp" -name 'libcrypto.so*' -exec cp -P {} "$prefix/fallback/" \;
      rm -rf "$tmp"
      echo "gpu_deps: the system has no ${FALLBACK_SONAMES[$i]}: using the carried one" >&2
    fi
  done
  "$prefix/bin/pkg-config" --exists libzip libutf8proc ||
    { echo "gpu_deps: pkg-config cannot find libzip / libutf8proc in $prefix" >&2; exit 1; }
  print_env "$prefix"
}

case "${1:-}" in
  fetch) shift; fetch "$@" ;;
  unpack) [ $# -eq 3 ] || usage; unpack "$2" "$3" ;;
  env) [ $# -eq 2 ] || usage; print_env "$(cd "$2" && pwd)" ;;
  *) usage ;;
esac
