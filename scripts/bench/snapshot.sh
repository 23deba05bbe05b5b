#!/usr/bin/env bash
# The snapshot phase (issue 28): for each size in SIZES and parallelism in
# PARALLELISMS, run scenarios/snapshot.toml with [snapshot] rows = size and
# the CDC jobs at that JOB_PARALLELISM, on a fresh native stack each time
# (FRESH=1, the default: `scripts/stack.sh down`, its directory deleted, `up`;
# a snapshot reads every row MySQL holds, so a stack that kept earlier runs'
# rows would time a bigger table). Prints a Markdown table per run (for
# docs/RESULTS.md) and `tpcds-bench compare` of each size's first parallelism
# against the others.
#
#   scripts/bench/snapshot.sh                                   # 1 M and 5 M rows, parallelism 1 and 2
#   SIZES=1000000 PARALLELISMS="1 2" scripts/bench/snapshot.sh  # one size
#   DURATION_1000000=4m DURATION_5000000=8m …                   # load length per size (default 4m, 8m for ≥ 5 M)
#   FRESH=0 scripts/bench/snapshot.sh                           # on the stack as it is
#
# Writes OUT (default reports/snapshot-<time>/): one run directory per run
# under OUT/<size>-p<parallelism>/, stack.log, table.md, compare-<size>.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${SIZES:=1000000 5000000}"
: "${PARALLELISMS:=1 2}"
: "${FRESH:=1}"
: "${OUT:=reports/snapshot-$(date -u +%Y%m%dT%H%M%SZ)}"
# shellcheck source=harness-bin.sh
. scripts/bench/harness-bin.sh
mkdir -p "$OUT"

fresh_stack() {
  [ "$FRESH" = 1 ] || return 0
  echo "   fresh stack (down, delete ${TPCDS_STACK_DIR:-.stack}, up)" >&2
  scripts/stack.sh down >>"$OUT/stack.log" 2>&1 || true
  rm -rf "${TPCDS_STACK_DIR:-.stack}"
  scripts/stack.sh up >>"$OUT/stack.log" 2>&1
}

for size in $SIZES; do
  default=4m
  [ "$size" -ge 5000000 ] && default=8m
  var=DURATION_$size
  duration=${!var:-$default}
  for par in $PARALLELISMS; do
    echo "== $size rows, parallelism $par, load $duration" >&2
    fresh_stack
    dir=$OUT/$size-p$par
    mkdir -p "$dir"
    t0=$SECONDS
    rc=0
    JOB_PARALLELISM=$par "$BIN" run scenarios/snapshot.toml --allow-faults --quiet --out "$dir" \
      --set "snapshot.rows=$size" --set "duration=$duration" --set "name=snapshot-$size-p$par" \
      >"$dir.stdout" 2>"$dir.stderr" || rc=$?
    echo "   exit $rc after $((SECONDS - t0)) s (stderr: $dir.stderr)" >&2
  done
  # The jobs the last run left at its parallelism go back to the stack's default.
  if [ "$FRESH" != 1 ]; then scripts/stack.sh restart-jobs mysql-cdc-to-kafka mysql-cdc-to-cloudberry >>"$OUT/stack.log" 2>&1; fi
done

python3 - "$OUT" <<'PY' | tee "$OUT/table.md"
import glob, json, os, sys
out = sys.argv[1]
print("| rows | parallelism | preload rows/s | sink | snapshot done (s after the jobs ran) | rows/s | first streamed row (s) | p99 during (median / max ms) | steady p99 (ms) | p99 < 2× steady after (s) | duplicates | preload audit | MySQL CPU s / rows read |")
print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
f = lambda v, d=0: "–" if v is None else f"{v:,.{d}f}"
for s in sorted(glob.glob(f"{out}/*-p*/*/summary.json")):
    j = json.load(open(s))
    snap = j.get("snapshot")
    if not snap:
        continue
    size, par = os.path.basename(os.path.dirname(os.path.dirname(s))).split("-p")
    audit = snap.get("audit") or {}
    bad = sum(x.get("mismatched", 0) for x in audit.get("sinks", {}).values())
    my = snap.get("mysql") or {}
    for sink, x in snap["sinks"].items():
        print(f"| {int(size):,} | {par} | {snap['preload_rows_per_s']:,.0f} | {sink} | {f(x.get('duration_s'),1)} | {f(x.get('rows_per_s'))} "
              f"| {f(x.get('first_streamed_s'))} | {f(x.get('p99_during_ms'))} / {f(x.get('p99_during_max_ms'))} | {f(x.get('p99_steady_ms'))} "
              f"| {f(x.get('steady_after_s'))} | {x.get('duplicates', 0)} | {bad} differ | {f(my.get('cpu_s'),1)} / {f(my.get('rows_read'))} |")
PY

for size in $SIZES; do
  # shellcheck disable=SC2086 # the list splits into the positional parameters
  set -- $PARALLELISMS
  base=$(ls -d "$OUT/$size-p$1"/*/ 2>/dev/null | head -n 1) || true
  shift
  for par in "$@"; do
    cur=$(ls -d "$OUT/$size-p$par"/*/ 2>/dev/null | head -n 1) || true
    [ -n "$base" ] && [ -n "$cur" ] || continue
    "$BIN" compare "$base" "$cur" >"$OUT/compare-$size-p$par.md" 2>&1 || true
    echo "compare $size rows p$1 → p$par: $OUT/compare-$size-p$par.md" >&2
  done
done
