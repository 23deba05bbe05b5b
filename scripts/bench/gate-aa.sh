#!/usr/bin/env bash
# The gate's A/A false-alarm rate as the example workflow uses it: RUNS runs of
# one scenario back to back on the running stack (scripts/stack.sh up), then
# each run from the fourth on gated against the three before it pooled, at the
# default floors (+25 %, 20 ms) and confidence (0.95 for the whole gate).
# Nothing changed between the runs, so every failing pair is a false alarm.
#
#   scripts/bench/gate-aa.sh                       # 13 runs of 30 s (5 s warmup): 10 pairs, ~10 min
#   RUNS=23 DURATION=60s scripts/bench/gate-aa.sh  # 20 pairs of the workflow's 60 s runs
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${RUNS:=13}"
: "${DURATION:=30s}"
: "${WARMUP:=5s}"
: "${SCENARIO:=scenarios/quickstart.toml}"
: "${OUT:=reports/gate-aa-$(date -u +%Y%m%dT%H%M%SZ)}"
# shellcheck source=harness-bin.sh
. scripts/bench/harness-bin.sh
mkdir -p "$OUT/runs" "$OUT/warmup"
# A pipeline just started is still catching up: one discarded run first.
"$BIN" run "$SCENARIO" --quiet --out "$OUT/warmup" --set "duration=10s" --set "warmup=0s" >/dev/null || true
for i in $(seq 1 "$RUNS"); do
  echo "== run $i of $RUNS" >&2
  # A run that breaches its SLO is still a run of the A/A series (exit 1).
  "$BIN" run "$SCENARIO" --quiet --out "$OUT/runs" --set "duration=$DURATION" --set "warmup=$WARMUP" >/dev/null ||
    echo "   run $i exited $?" >&2
done
mapfile -t dirs < <(find "$OUT/runs" -mindepth 1 -maxdepth 1 -type d | sort)
pairs=0 alarms=0
echo "| current | verdict | exit |" >"$OUT/aa.md"
echo "|:--|:--|--:|" >>"$OUT/aa.md"
for ((i = 3; i < ${#dirs[@]}; i++)); do
  set +e
  "$BIN" gate --baseline "${dirs[i - 3]}" --baseline "${dirs[i - 2]}" --baseline "${dirs[i - 1]}" \
    --current "${dirs[i]}" >"$OUT/gate-$i.md" 2>&1
  rc=$?
  set -e
  pairs=$((pairs + 1))
  verdict=passed
  if [ "$rc" -ne 0 ]; then
    alarms=$((alarms + 1))
    verdict="FAILED (see gate-$i.md)"
  fi
  echo "| $(basename "${dirs[i]}") | $verdict | $rc |" >>"$OUT/aa.md"
done
echo "" >>"$OUT/aa.md"
echo "A/A: $alarms false alarms in $pairs pairs ($RUNS runs of $DURATION, warmup $WARMUP, 3 pooled baselines, default floors)" >>"$OUT/aa.md"
cat "$OUT/aa.md"
