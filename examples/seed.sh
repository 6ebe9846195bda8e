#!/usr/bin/env bash
# The seed notebook end to end, natively: the cosine matrices of its 4 "bank" sentences (BERT
# pooled, BERT mean, word2vec) and the top-2 corpus sentences for each of its 3 queries in the
# three modes side by side. Runs tools/setup.sh first (idempotent, quiet when there is nothing to
# do, its messages on stderr), so it can be the first command on a fresh clone; BERTC=path uses
# that bertc instead and skips the setup.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
if [ -z "${BERTC:-}" ]; then
  "$root/tools/setup.sh" >&2 || { echo "seed: setup failed (tools/setup.sh)" >&2; exit 1; }
fi
bertc=${BERTC:-$root/build/bertc}

# word2vec: GloVe twitter 25d (PDDL, 11,925 words), converted by tools/setup.sh or here.
w2v=$root/models/glove-twitter-25d.bertc
if [ ! -f "$w2v" ]; then
  mkdir -p "$root/models"
  "$bertc" convert "$root/tests/data/glove/glove_twitter_25d.w2v.bin" -o "$w2v" -q
fi

# BERT: $BERTC_MODEL or the installed default; else all-MiniLM-L6-v2 converted from models/.
model=()
default=$("$bertc" --help | sed -n '/default installed by/{n;s/^ *//;p}')
if [ -z "${BERTC_MODEL:-}" ] && [ ! -f "$default" ]; then
  m=$root/models/all-MiniLM-L6-v2.bertc
  [ -f "$m" ] || "$bertc" convert "$root/models/all-MiniLM-L6-v2" -o "$m" -q
  model=(-m "$m")
fi

echo "== Cosine similarity of the bank sentences"
"$bertc" similarity "${model[@]}" --w2v "$w2v" --pool pooled,mean,w2v -i "$here/bank.txt" -q
echo
echo "== Top 2 corpus sentences per query"
"$bertc" search "${model[@]}" --w2v "$w2v" --pool pooled,mean,w2v -k 2 \
  --corpus "$here/corpus.txt" --queries "$here/queries.txt" -q
