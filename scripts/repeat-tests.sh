#!/usr/bin/env bash
# Runs the test suite N times in a row (default 20) and reports every run that
# failed, with the failing tests' names; exits 1 if any run failed.
#   scripts/repeat-tests.sh [N] [test globs...]   (globs default to the whole suite)
# Logs of failed runs are kept in ${REPEAT_LOG_DIR:-/tmp/clusterdns-repeat}.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
shift || true
globs=("$@")
[ ${#globs[@]} -eq 0 ] && globs=("src/**/*.test.ts" "test/**/*.test.ts")
logdir="${REPEAT_LOG_DIR:-/tmp/clusterdns-repeat}"
mkdir -p "$logdir"
node=./node_modules/.bin/node
failed=0
for i in $(seq 1 "$runs"); do
  log="$logdir/run-$i.log"
  start=$(date +%s)
  if "$node" --test --test-concurrency=2 --test-timeout=300000 "${globs[@]}" >"$log" 2>&1; then
    echo "run $i/$runs: pass ($(( $(date +%s) - start )) s, $(grep -m1 '^ℹ pass' "$log"))"
    rm -f "$log"
  else
    failed=$((failed + 1))
    echo "run $i/$runs: FAIL ($(( $(date +%s) - start )) s, $(grep -m1 '^ℹ fail' "$log")), log: $log"
    grep -E '^\s*✖' "$log" | sort -u | sed 's/^/    /'
  fi
done
echo "$((runs - failed)) of $runs runs passed"
[ "$failed" -eq 0 ]
