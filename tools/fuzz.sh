#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cc, clang + ASan + UBSan) in build-fuzz and runs
# each for a bounded time with a seed corpus made from the fixtures. Exits 1 if any target crashes.
#   tools/fuzz.sh [SECONDS_PER_TARGET=60] [STEM...]     e.g. tools/fuzz.sh 30 safetensors bertc_file
# Crash inputs land in build-fuzz/artifacts/<stem>/; reproduce with build-fuzz/tests/fuzz/fuzz_<stem> FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
shift || true
build=$root/build-fuzz
fixture=$root/tests/data/models/tiny-st/model

stems=("$@")
if [ ${#stems[@]} -eq 0 ]; then
  for f in tests/fuzz/*_fuzz.cc; do s=$(basename "$f" _fuzz.cc); stems+=("$s"); done
fi
targets=()
for s in "${stems[@]}"; do targets+=("fuzz_$s"); done

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTC_FUZZ=ON \
  -DBERTC_CUDA=OFF -DBERTC_BUILD_TESTS=OFF -DBERTC_BUILD_BENCH=OFF > /dev/null
# bertc (instrumented too) only converts the seed model below.
nice cmake --build "$build" -j"${JOBS:-2}" --target "${targets[@]}" bertc

# ---- seeds ------------------------------------------------------------------------------------
# st_write OUT "NAME DTYPE DIMS NBYTES"...: a valid safetensors file (DIMS comma-separated), the
# header space-padded to 8 bytes as the reference writer does, data all 0x3d bytes.
st_write() {
  local out=$1 header='{"__metadata__":{"format":"pt"}' off=0 spec name dtype dims nbytes
  shift
  for spec in "$@"; do
    read -r name dtype dims nbytes <<< "$spec"
    header+=",\"$name\":{\"dtype\":\"$dtype\",\"shape\":[$dims],\"data_offsets\":[$off,$((off + nbytes))]}"
    off=$((off + nbytes))
  done
  header+='}'
  while (( ${#header} % 8 )); do header+=' '; done
  local n=${#header}
  {
    printf "$(printf '\\x%02x' $((n & 255)) $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24 & 255)) 0 0 0 0)"
    printf '%s' "$header"
    printf '%*s' "$off" '' | tr ' ' '\075'  # '=' bytes: f32 0x3d3d3d3d = 0.046
  } > "$out"
}

seeds=$build/seeds
rm -rf "$seeds"
mkdir -p "$seeds/safetensors" "$seeds/bertc_file" "$seeds/model"
# A BERT small enough to fuzz quickly (H 4, I 8, 1 layer), with the first 110 tokens of the
# fixture's vocabulary (they include [PAD], [UNK], [CLS], [SEP], [MASK]).
H=4 I=8 P=8 V=110
tensors=("embeddings.word_embeddings.weight F32 $V,$H $((V * H * 4))"
         "embeddings.position_embeddings.weight F32 $P,$H $((P * H * 4))"
         "embeddings.token_type_embeddings.weight F32 2,$H $((2 * H * 4))"
         "embeddings.LayerNorm.weight F32 $H $((H * 4))" "embeddings.LayerNorm.bias F32 $H $((H * 4))")
l=encoder.layer.0
for m in query key value; do
  tensors+=("$l.attention.self.$m.weight F32 $H,$H $((H * H * 4))" "$l.attention.self.$m.bias F32 $H $((H * 4))")
done
tensors+=("$l.attention.output.dense.weight F32 $H,$H $((H * H * 4))" "$l.attention.output.dense.bias F32 $H $((H * 4))"
          "$l.attention.output.LayerNorm.weight F32 $H $((H * 4))" "$l.attention.output.LayerNorm.bias F32 $H $((H * 4))"
          "$l.intermediate.dense.weight F32 $I,$H $((I * H * 4))" "$l.intermediate.dense.bias F32 $I $((I * 4))"
          "$l.output.dense.weight F32 $H,$I $((H * I * 4))" "$l.output.dense.bias F32 $H $((H * 4))"
          "$l.output.LayerNorm.weight BF16 $H $((H * 2))" "$l.output.LayerNorm.bias F16 $H $((H * 2))"
          "pooler.dense.weight F32 $H,$H $((H * H * 4))" "pooler.dense.bias F32 $H $((H * 4))"
          "embeddings.position_ids I64 1,$P $((P * 8))")
st_write "$seeds/model/model.safetensors" "${tensors[@]}"
sed -e "s/\"hidden_size\": 128/\"hidden_size\": $H/" -e "s/\"intermediate_size\": 512/\"intermediate_size\": $I/" \
    -e "s/\"num_hidden_layers\": 2/\"num_hidden_layers\": 1/" -e "s/\"max_position_embeddings\": 512/\"max_position_embeddings\": $P/" \
    -e "s/\"vocab_size\": 30522/\"vocab_size\": $V/" "$fixture/config.json" > "$seeds/model/config.json"
head -n $V "$fixture/vocab.txt" > "$seeds/model/vocab.txt"

cp "$seeds/model/model.safetensors" "$seeds/safetensors/tiny_bert"
st_write "$seeds/safetensors/mixed" "a F32 2,3 24" "b F16 3 6" "c BF16 1 2" "empty F32 0,4 0" "ids I64 2 16"
header_nbytes=$(od -An -t u8 -N 8 "$fixture/model.safetensors" | tr -d ' ')
head -c $((8 + header_nbytes)) "$fixture/model.safetensors" > "$seeds/safetensors/tiny_st_header_only"
"$build/bertc" convert "$seeds/model" -o "$seeds/bertc_file/tiny_f32.bertc" -q
"$build/bertc" convert "$seeds/model" -o "$seeds/bertc_file/tiny_bf16.bertc" --dtype bf16 -q

# ---- run --------------------------------------------------------------------------------------
status=0
for s in "${stems[@]}"; do
  corpus=$build/corpus/$s
  mkdir -p "$corpus" "$build/artifacts/$s" "$build/logs"
  [ -d "$seeds/$s" ] && cp "$seeds/$s"/* "$corpus"/
  [ -d "$root/tests/fuzz/corpus/$s" ] && cp "$root/tests/fuzz/corpus/$s"/* "$corpus"/
  log=$build/logs/$s.log
  echo "fuzz: $s for ${seconds}s (corpus $corpus, log $log)"
  if nice "$build/tests/fuzz/fuzz_$s" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/$s/" "$corpus" > "$log" 2>&1; then
    echo "fuzz: $s: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1), no crash," \
         "corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz: $s: CRASH, see $log and $build/artifacts/$s/"
    status=1
  fi
done
exit $status
