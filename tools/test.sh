#!/usr/bin/env bash
# The test command (README, .ci/run): does whatever set-up is missing first (tools/setup.sh is
# idempotent and quiet when there is nothing to do), then runs every test step below, each with
# its own timing line. Every step runs even when an earlier one fails; the exit status is 1 when
# any failed. Usage: tools/test.sh [STEP...]   (no STEP: all of them; --list names them)
set -uo pipefail
cd "$(dirname "$0")/.."

# One entry per step, "NAME|COMMAND", run in this order from the repository root; add new steps
# after ctest. A step that cannot run on this machine (no emulator, no GPU) says so and exits 0:
# it must not fail for that reason.
steps=(
  "ctest|ctest --test-dir build --output-on-failure -j2"
)

if [ "${1:-}" = --list ]; then
  for s in "${steps[@]}"; do echo "${s%%|*}"; done
  exit 0
fi
wanted=" $* "
for name in "$@"; do
  found=0
  for s in "${steps[@]}"; do [ "${s%%|*}" = "$name" ] && found=1; done
  [ $found = 1 ] || { echo "test: unknown step '$name' (tools/test.sh --list)" >&2; exit 2; }
done

start=$SECONDS
tools/setup.sh || { echo "test: setup failed (tools/setup.sh)" >&2; exit 1; }
[ $((SECONDS - start)) -gt 1 ] && echo "test: setup took $((SECONDS - start)) s"

failed=()
for s in "${steps[@]}"; do
  name=${s%%|*} cmd=${s#*|}
  [ $# -eq 0 ] || [[ "$wanted" == *" $name "* ]] || continue
  echo "test: $name: $cmd"
  t0=$SECONDS
  if bash -c "$cmd"; then
    echo "test: $name passed in $((SECONDS - t0)) s"
  else
    echo "test: $name FAILED in $((SECONDS - t0)) s"
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "test: FAILED: ${failed[*]} (total $((SECONDS - start)) s)"
  exit 1
fi
echo "test: all passed in $((SECONDS - start)) s"
