#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU (CI and the dev machine have none): builds with
# CUDA, runs the CUDA tests, compute-sanitizer memcheck and racecheck over them, the Hugging Face
# comparison (tools/hf_compare.py: needs torch + transformers), the whole-model benchmark in f16
# at bert-base shapes plus a ragged batch, and the CUDA kernel benchmarks; ends with a summary.
# Usage: bench/gpu_check.sh [BUILD_DIR]   (env JOBS: build parallelism, default all cores)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-gpu}
JOBS=${JOBS:-$(nproc)}
LOG=$BUILD/gpu_check
SANITIZER=${SANITIZER:-$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)}
# The CUDA tests: this branch's suites are instantiated as Cuda/<Suite>.<Test>/<dtype>, the
# backend tests shared with the CPU as <Prefix>/<Suite>.<Test>/cuda; plus the CUDA_CHECK message
# tests. (CudaBackendSelection is left out: it skips when a GPU is there.)
TESTS='Cuda/*:*/cuda:CudaCheck.*'
declare -a SUMMARY

step() {  # step NAME COMMAND...: runs it with its output in $LOG/NAME.log, records pass/fail
  local name=$1; shift
  local start=$SECONDS
  echo "== $name: $*"
  if "$@" >"$LOG/$name.log" 2>&1; then
    SUMMARY+=("$(printf '%-22s ok    %4ds' "$name" $((SECONDS - start)))")
  else
    SUMMARY+=("$(printf '%-22s FAIL  %4ds  (see %s)' "$name" $((SECONDS - start)) "$LOG/$name.log")")
    tail -20 "$LOG/$name.log"
  fi
}

mkdir -p "$LOG"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || {
  echo "gpu_check: no NVIDIA GPU visible (nvidia-smi failed)"; exit 1; }

step configure cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBERTC_CUDA=ON
step build cmake --build "$BUILD" -j"$JOBS" --target bertc bertc_tests bertc_bench
step tests "$BUILD/tests/bertc_tests" --gtest_filter="$TESTS"
# No test may be skipped here: a skip would mean the device was not seen.
step tests_not_skipped bash -c "! grep -q SKIPPED '$LOG/tests.log'"
step memcheck "$SANITIZER" --tool memcheck --error-exitcode 1 \
  "$BUILD/tests/bertc_tests" --gtest_filter="$TESTS" --gtest_brief=1
step racecheck "$SANITIZER" --tool racecheck --error-exitcode 1 \
  "$BUILD/tests/bertc_tests" --gtest_filter="$TESTS" --gtest_brief=1
step hf_compare python3 tools/hf_compare.py --bertc "$BUILD/bertc" --device cuda --dtype f32,f16,bf16
step model_bench "$BUILD/bertc" bench --device cuda --dtype f16 --random bert-base \
  --shapes 1x128,32x128,128x128,32x512 --format table
# Ragged batch: 256 texts of 8..400 words, length-sorted and packed by bertc embed; its summary
# line reports texts, tokens and tokens/s. Uses the installed real model when there is one.
MODEL=models/all-MiniLM-L6-v2
if [ -d "$MODEL" ]; then
  step convert_minilm "$BUILD/bertc" convert "$MODEL" -o "$LOG/minilm.bertc"
  python3 - "$LOG/ragged.txt" <<'PY'
import random, sys
random.seed(0)
words = "the bank river money sitting near cash closed elephant today food man eating".split()
with open(sys.argv[1], "w") as f:
    for _ in range(256):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(8, 400))) + "\n")
PY
  step ragged_f16 "$BUILD/bertc" embed -m "$LOG/minilm.bertc" -i "$LOG/ragged.txt" \
    --device cuda --dtype f16 --max-length 512 -o "$LOG/ragged.npy"
fi
step kernel_bench "$BUILD/bench/bertc_bench" --benchmark_filter='^cuda_' \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

echo
echo "== model bench (f16)"; grep -v '^$' "$LOG/model_bench.log" | tail -8
[ -f "$LOG/ragged_f16.log" ] && { echo "== ragged batch (f16)"; tail -2 "$LOG/ragged_f16.log"; }
echo "== kernel bench medians"; grep '_median' "$LOG/kernel_bench.log" | head -60
echo "== hf_compare"; cat "$LOG/hf_compare.log" | tail -40
echo
echo "== summary ($BUILD, logs in $LOG)"
printf '%s\n' "${SUMMARY[@]}"
! printf '%s\n' "${SUMMARY[@]}" | grep -q FAIL
