#!/usr/bin/env bash
# Load benchmark of `bertc serve` with the default model, loopback only, bounded in time:
#   1. offline baseline: `bertc embed` on sentences drawn as the clients draw them;
#   2. closed-loop clients (bertc_serve_load) at each of $CLIENTS, $RUN_SECONDS each;
#   3. an overload run: --max-concurrent-requests $OVERLOAD_LIMIT under $OVERLOAD_CLIENTS clients
#      (every rejection must be a prompt 429, every accepted request a 200, nothing else);
#   4. with RSS_SECONDS > 0, one long run at 64 clients sampling the server's RSS every 10 s.
# Prints JSON lines (one per run) and RSS samples; the figures go to docs/PERFORMANCE.md.
# usage: bench/serve_load.sh [BUILD_DIR]   env: CLIENTS="1 8 64 256" RUN_SECONDS=20
#        OVERLOAD_LIMIT=16 OVERLOAD_CLIENTS=64 RSS_SECONDS=0 OFFLINE_SENTENCES=4000
#        MODEL=... ENDPOINT=/embed
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bertc="$build/bertc"
load="$build/bench/bertc_serve_load"
clients=${CLIENTS:-"1 8 64 256"}
run_s=${RUN_SECONDS:-20}
endpoint=${ENDPOINT:-/embed}
model=(); [ -n "${MODEL:-}" ] && model=(-m "$MODEL")
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# A real corpus: 1 MB of English text from the Debian documentation on this machine.
bash ../shared/peers/make_corpus.sh "$work/corpus.txt" 1 > /dev/null
echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"

# 1. Offline: the same kind of sentences in one `bertc embed` run (its own timer, excluding
# loading), before and after the client runs, since the machine's load moves.
"$load" --corpus "$work/corpus.txt" --dump "${OFFLINE_SENTENCES:-4000}" > "$work/sample.txt"
offline() {
  "$bertc" embed "${model[@]}" -i "$work/sample.txt" -o "$work/offline.npy" 2> "$work/offline.log"
  # "bertc embed: N texts, T tokens, ..., R tokens/s, ..." -> sentences/s = N * R / T
  awk -v when="$1" '/bertc embed: [0-9]+ texts/ { n=$3; t=$5; for (i=1;i<=NF;i++) if ($i=="tokens/s,") r=$(i-1);
       printf "{\"label\":\"offline bertc embed (%s)\",\"sentences\":%d,\"tokens\":%d,\"sentences_per_s\":%.1f}\n", when, n, t, n*r/t }' "$work/offline.log"
}
offline before

start_server() {  # extra flags...; sets pid and port
  "$bertc" serve "${model[@]}" --port 0 "$@" 2> "$work/serve.log" &
  pid=$!
  for _ in $(seq 1 600); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.log")
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  echo "serve did not start: $(cat "$work/serve.log")" >&2; exit 1
}
rss_kb() { awk '/VmRSS/ {print $2}' /proc/"$pid"/status; }
stop_server() {
  kill -TERM "$pid"; local rc=0; wait "$pid" || rc=$?
  echo "{\"label\":\"server exit on SIGTERM\",\"exit_code\":$rc}"
}

# 2. Clients at each concurrency against the default limits.
start_server
echo "{\"label\":\"server idle\",\"rss_mb\":$(( $(rss_kb) / 1024 ))}"
for c in $clients; do
  "$load" --port "$port" --corpus "$work/corpus.txt" --clients "$c" --seconds "$run_s" \
          --endpoint "$endpoint" --label "serve, $c clients"
  echo "{\"label\":\"server after $c clients\",\"rss_mb\":$(( $(rss_kb) / 1024 ))}"
done
stop_server
offline after
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"

# 3. Limits below the offered load.
start_server --max-concurrent-requests "${OVERLOAD_LIMIT:-16}"
"$load" --port "$port" --corpus "$work/corpus.txt" --clients "${OVERLOAD_CLIENTS:-64}" \
        --seconds "$run_s" --endpoint "$endpoint" \
        --label "overload: --max-concurrent-requests ${OVERLOAD_LIMIT:-16}, ${OVERLOAD_CLIENTS:-64} clients"
stop_server

# 4. RSS over a long run.
if [ "${RSS_SECONDS:-0}" -gt 0 ]; then
  start_server
  "$load" --port "$port" --corpus "$work/corpus.txt" --clients 64 --seconds "$RSS_SECONDS" \
          --endpoint "$endpoint" --label "rss run, 64 clients, ${RSS_SECONDS}s" > "$work/rss_run.json" &
  lp=$!
  for t in $(seq 0 10 "$RSS_SECONDS"); do
    echo "{\"label\":\"rss\",\"t_s\":$t,\"rss_mb\":$(( $(rss_kb) / 1024 ))}"
    sleep 10
  done
  wait "$lp"; cat "$work/rss_run.json"
  stop_server
fi
