#!/usr/bin/env bash
# The GPU machine's run, in two calls of a few minutes each (docs/GPU.md says what each prints,
# how long it takes and what to do when a step fails):
#   bench/gpu_check.sh check OUT   deps, build (sm_90, -lineinfo), the CUDA tests with
#                                  BERTC_CUDA_SYNC=1, compute-sanitizer memcheck / racecheck /
#                                  initcheck / synccheck on bertc's kernel tests (bertc's kernels
#                                  only), the Hugging Face comparison (tools/hf_compare.py)
#   bench/gpu_check.sh bench OUT   deps and build (a no-op on a warm machine, or the binaries
#                                  check left in OUT: docs/GPU.md), the model benchmarks f16 and
#                                  bf16 (+ the attention paths, graphs off, --profile at 32x128,
#                                  --check of every batch), PyTorch eager f16 with SDPA, the
#                                  trimmed kernel benchmarks, one table with the goals
# Every step has a timeout and a deadline for the whole call (DEADLINE_S: 330 for check, 300 for
# bench); a step that would start past it is skipped. Writes at most 4 files into OUT (what comes
# back from the GPU machine is limited): <call>.txt (the summary, also printed last), <call>-logs.tgz
# (every step's log), and, from check, bin.tgz (bertc and bertc_bench, for a bench call on a fresh
# machine) and for bench table.txt.
# Needs: nvidia-smi, nvcc, cmake, a C++ compiler, python3 with torch + transformers (hf_compare,
# the peer), and the .debs of tools/gpu_deps.sh in GPU_DEPS (default .gpu-deps).
# Env: BUILD (build-gpu), GPU_DEPS (.gpu-deps), GPU_PREFIX (/tmp/bertc-deps), JOBS (nproc),
#      DEADLINE_S, SANITIZER (compute-sanitizer).
set -uo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-}
OUT=${2:-}
case "$MODE" in check|bench) ;; *) sed -n '2,26p' "$0"; exit 2 ;; esac
[ -n "$OUT" ] || { echo "gpu_check: give the output folder (OUT)"; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
START=$SECONDS
BUILD=${BUILD:-build-gpu}
DEPS=${GPU_DEPS:-.gpu-deps}
PREFIX=${GPU_PREFIX:-/tmp/bertc-deps}
JOBS=${JOBS:-$(nproc)}
if [ "$MODE" = check ]; then DEADLINE_S=${DEADLINE_S:-330}; else DEADLINE_S=${DEADLINE_S:-300}; fi
LOGS=/tmp/bertc-gpu-logs-$MODE
rm -rf "$LOGS"
mkdir -p "$LOGS"
SUMMARY=$OUT/$MODE.txt
: > "$SUMMARY"
SANITIZER=${SANITIZER:-$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
FAILED=0

note() { echo "$*" | tee -a "$SUMMARY"; }

# step NAME TIMEOUT_S COMMAND...: runs it (under `timeout`, never past the deadline) with its
# output in $LOGS/NAME.log; one summary line: ok / FAIL (exit status) / TIMEOUT / SKIPPED.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((DEADLINE_S - (SECONDS - START)))
  if [ "$left" -lt 10 ]; then
    note "$(printf '%-16s SKIPPED   (the call'"'"'s %ss deadline)' "$name" "$DEADLINE_S")"
    FAILED=1
    return 1
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  local t0=$SECONDS rc=0
  echo "== $name (<= ${limit}s): $*"
  timeout --kill-after=5 "$limit" "$@" > "$LOGS/$name.log" 2>&1 || rc=$?
  local dt=$((SECONDS - t0))
  if [ $rc -eq 0 ]; then
    note "$(printf '%-16s ok       %4ds' "$name" "$dt")"
  else
    local what="FAIL($rc)"
    [ $rc -eq 124 ] || [ $rc -eq 137 ] && what=TIMEOUT
    note "$(printf '%-16s %-8s %4ds  (last lines below; %s-logs.tgz: %s.log)' "$name" "$what" "$dt" "$MODE" "$name")"
    tail -15 "$LOGS/$name.log" | sed 's/^/    /' | tee -a "$SUMMARY"
    FAILED=1
  fi
  return $rc
}

finish() {
  local total=$((SECONDS - START))
  tar -czf "$OUT/$MODE-logs.tgz" -C "$LOGS" . 2>/dev/null
  note "== $MODE: ${total}s in all; $( [ $FAILED -eq 0 ] && echo 'every step ok' || echo 'SOME STEPS FAILED' )"
  echo
  echo "================ summary ($SUMMARY) ================"
  cat "$SUMMARY"
  exit $FAILED
}

# ---- both calls: the GPU, the dependencies, the build -------------------------------------------
note "== bertc gpu_check $MODE, commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo '?'), $(date -u +%FT%TZ)"
if ! nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader \
     > "$LOGS/gpu.log" 2>&1; then
  note "gpu: nvidia-smi failed: $(tail -1 "$LOGS/gpu.log")"
  FAILED=1
  finish
fi
note "gpu: $(cat "$LOGS/gpu.log")"

step deps 60 bash -c "tools/gpu_deps.sh unpack '$DEPS' '$PREFIX' > '$LOGS/deps.env'" || finish
eval "$(cat "$LOGS/deps.env")"

# A bench call on a fresh machine may start from the binaries a check call left (bin.tgz, copied
# back into the checkout and carried): used when they are of this commit, else it builds.
BIN_TGZ=${BIN_TGZ:-.gpu-bin/bin.tgz}
use_bin=0
if [ "$MODE" = bench ] && [ ! -f "$BUILD/CMakeCache.txt" ] && [ -f "$BIN_TGZ" ]; then
  mkdir -p "$BUILD"
  tar -xzf "$BIN_TGZ" -C "$BUILD"
  if [ "$(cat "$BUILD/commit" 2>/dev/null)" = "$(git rev-parse HEAD 2>/dev/null)" ]; then
    use_bin=1
    note "build: using $BIN_TGZ (built by a check call at this commit)"
  else
    note "build: $BIN_TGZ is of another commit: building"
    rm -rf "$BUILD"
  fi
fi
if [ $use_bin -eq 0 ]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    step configure 120 cmake "${generator[@]}" -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
      -DBERTC_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_FLAGS=-lineinfo \
      -DPKG_CONFIG_EXECUTABLE="$BERTC_PKG_CONFIG" \
      ${BERTC_LINK_FLAGS:+-DCMAKE_EXE_LINKER_FLAGS="$BERTC_LINK_FLAGS"} || finish
  fi
  targets=(bertc bertc_bench)
  [ "$MODE" = check ] && targets+=(bertc_tests)
  # On a warm machine (the same checkout, a build left by the last call) this only rebuilds what
  # changed.
  step build 300 cmake --build "$BUILD" -j"$JOBS" --target "${targets[@]}" || finish
  git rev-parse HEAD > "$BUILD/commit" 2>/dev/null
fi
if ldd "$BUILD/bertc" | grep -q 'not found'; then
  note "build: missing libraries: $(ldd "$BUILD/bertc" | grep 'not found' | tr -s ' \n' ' ')"
fi
"$BUILD/bertc" --version > "$LOGS/version.log" 2>&1
note "bertc: $(head -1 "$LOGS/version.log")"

# ---- check: correctness ----------------------------------------------------------------------------
if [ "$MODE" = check ]; then
  tar -czf "$OUT/bin.tgz" -C "$BUILD" bertc bench/bertc_bench commit 2>/dev/null &&
    note "bin.tgz: $(du -h "$OUT/bin.tgz" | cut -f1) (bertc, bertc_bench for a bench call on a fresh machine)"
  # The CUDA tests: Cuda/<Suite>.<Test>/<variant> and the CUDA_CHECK / cuBLAS reference tests.
  TESTS='Cuda/*:CudaCheck.*:CudaGemmCublas.*'
  # bertc's kernel tests (no whole-model or backend-lifecycle tests) for compute-sanitizer.
  KERNEL_TESTS='Cuda/*CudaTest.*:CudaGemmCublas.*'
  step tests 150 env BERTC_CUDA_SYNC=1 "$BUILD/tests/bertc_tests" --gtest_filter="$TESTS" --gtest_brief=1
  passed=$(grep -o '\[  PASSED  \] [0-9]* test' "$LOGS/tests.log" | grep -o '[0-9]*' || echo 0)
  skipped=$(grep -o '\[  SKIPPED \] [0-9]* test' "$LOGS/tests.log" | grep -o '[0-9]*' || echo 0)
  note "tests: $passed passed, $skipped skipped (a skip means no device was seen, or no MiniLM in models/)"
  grep '^\[  SKIPPED \]' "$LOGS/tests.log" | head -5 | sed 's/^/    /' | tee -a "$SUMMARY"
  # Only bertc's kernels are instrumented (their names hold "bertc"): cuBLAS's are not ours to
  # check and would take most of the time.
  filter=(--kernel-name kns=bertc)
  "$SANITIZER" --help 2>/dev/null | grep -q -- '--kernel-name' || filter=(--filter kns=bertc)
  for tool in memcheck racecheck initcheck synccheck; do
    limit=70
    [ $tool = memcheck ] && limit=90
    step "$tool" $limit "$SANITIZER" --tool $tool "${filter[@]}" --error-exitcode 1 \
      "$BUILD/tests/bertc_tests" --gtest_filter="$KERNEL_TESTS" --gtest_brief=1
    grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$LOGS/$tool.log" | tail -1 | sed "s/^/    $tool: /" | tee -a "$SUMMARY"
  done
  step hf_compare 150 python3 tools/hf_compare.py --bertc "$BUILD/bertc" --device cuda \
    --dtype f32,f16,bf16 --attention gemm,flash,simt --ragged
  grep -E 'NO$|^hf_compare' "$LOGS/hf_compare.log" | head -20 | sed 's/^/    /' | tee -a "$SUMMARY"
  finish
fi

# ---- bench: speed -----------------------------------------------------------------------------------
SHAPES=1x128,32x128,128x128,32x512,32x16-128
bench_model() {  # NAME TIMEOUT ENV... -- ARGS...
  local name=$1 limit=$2
  shift 2
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  step "$name" "$limit" env "${envs[@]}" "$BUILD/bertc" bench --device cuda --random bert-base \
    --format jsonl "$@"
}
bench_model model_f16 60 BERTC_CUDA_ATTENTION=gemm -- --dtype f16 --shapes $SHAPES --reps 30 --check
bench_model model_f16_flash 45 BERTC_CUDA_ATTENTION=flash -- --dtype f16 --shapes $SHAPES --reps 30 --check
bench_model model_bf16 45 BERTC_CUDA_ATTENTION=gemm -- --dtype bf16 --shapes $SHAPES --reps 30 --check
bench_model model_f16_simt 45 BERTC_CUDA_ATTENTION=simt -- --dtype f16 --shapes 1x128,32x128,32x512 --reps 10
bench_model model_f16_nographs 45 BERTC_CUDA_GRAPHS=0 BERTC_CUDA_ATTENTION=gemm -- --dtype f16 --shapes 1x128,32x128 --reps 30
bench_model model_f32 45 BERTC_CUDA_ATTENTION=simt -- --dtype f32 --shapes 1x128,32x128 --reps 10
step profile 45 env BERTC_CUDA_ATTENTION=gemm "$BUILD/bertc" bench --device cuda --random bert-base \
  --dtype f16 --shapes 32x128 --reps 10 --profile
step torch_peer 120 python3 bench/peers/torch_cuda_bert.py --dtype f16,bf16 --shapes $SHAPES --reps 30
step kernel_bench 100 "$BUILD/bench/bertc_bench" --benchmark_filter='^cuda_' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$LOGS/kernel_bench.json"
step table 30 python3 bench/gpu_report.py "$LOGS"
cp "$LOGS/table.log" "$OUT/table.txt" 2>/dev/null
cat "$LOGS/table.log" >> "$SUMMARY" 2>/dev/null
finish
