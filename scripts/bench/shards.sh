#!/usr/bin/env bash
# Issue 24's comparison: one scenario as one process and as N shards (N
# processes on this machine, started together with --start-at), merged; prints
# rows committed and seen per sink, achieved rate, p50/p99 per sink, the
# harness's CPU seconds per 1,000 rows (all processes' user + system time, from
# /usr/bin/time), and the gate between the two in both directions.
#
#   scripts/bench/shards.sh                       # 600 rows/s, 60 s, 3 shards
#   SHARDS=2 RATE=1000 DURATION=30s scripts/bench/shards.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${SHARDS:=3}"
: "${RATE:=600}"
: "${DURATION:=60s}"
: "${WORKERS:=6}"
: "${OUT:=reports/shards-$(date -u +%Y%m%dT%H%M%SZ)}"
# shellcheck source=harness-bin.sh
. scripts/bench/harness-bin.sh
SETS=(--set "load.workers=$WORKERS" --set "load.rate.per_second=$RATE" --set "duration=$DURATION"
      --set "warmup=10s" --set "drain_timeout=60s")
mkdir -p "$OUT/single" "$OUT/shards" "$OUT/merged"

echo "== one process, $RATE rows/s" >&2
/usr/bin/time -f "%U %S" -o "$OUT/single.cpu" \
  "$BIN" run scenarios/quickstart.toml --quiet --out "$OUT/single" "${SETS[@]}" >/dev/null || echo "(one process: exit $?, an SLO breach is still a comparison)" >&2

echo "== $SHARDS shards, $RATE rows/s in all" >&2
at=$(date -u -d "+20 seconds" +%Y-%m-%dT%H:%M:%SZ)
pids=()
for i in $(seq 0 $((SHARDS - 1))); do
  /usr/bin/time -f "%U %S" -o "$OUT/shard$i.cpu" \
    "$BIN" run scenarios/quickstart.toml --quiet --out "$OUT/shards" "${SETS[@]}" \
    --shard "$i/$SHARDS" --start-at "$at" >"$OUT/shard$i.out" 2>"$OUT/shard$i.err" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || echo "(a shard exited $?)" >&2; done
"$BIN" merge "$OUT"/shards/*-shard*of"$SHARDS" --out "$OUT/merged" >/dev/null || echo "(merge exited $?)" >&2

single=$(ls -d "$OUT"/single/*/)
merged=$(ls -d "$OUT"/merged/*/)
for pair in "$single $merged" "$merged $single"; do
  set -- $pair
  if "$BIN" gate --baseline "$1" --current "$2" >"$OUT/gate.md" 2>&1; then g=passed; else g="failed (exit $?)"; fi
  echo "gate --baseline $(basename "$1") --current $(basename "$2"): $g" >>"$OUT/gates.txt"
done
python3 - "$OUT" "$SHARDS" <<'PY'
import json, pathlib, sys
out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def cpu(names):
    return sum(sum(map(float, (out / f).read_text().split()[-2:])) for f in names)
runs = {
    "1 process": (next((out / "single").iterdir()), cpu(["single.cpu"])),
    f"{n} shards, merged": (next((out / "merged").iterdir()), cpu([f"shard{i}.cpu" for i in range(n)])),
}
sinks = ["binlog", "kafka", "path1", "path2"]
print("| run | committed | achieved rows/s | " + " | ".join(f"{s} seen / missing" for s in sinks)
      + " | " + " | ".join(f"{s} p50 / p99 ms" for s in sinks) + " | harness CPU s / 1000 rows |")
print("|" + ":--|" * (3 + 2 * len(sinks) + 1))
for name, (d, secs) in runs.items():
    s = json.loads((d / "summary.json").read_text())
    cells = [f"{s['sinks'][k]['seen']} / {s['sinks'][k]['missing']}" for k in sinks]
    lat = [f"{s['sinks'][k]['latency_us']['p50']/1000:.0f} / {s['sinks'][k]['latency_us']['p99']/1000:.0f}" for k in sinks]
    print(f"| {name} | {s['achieved_rows']} | {s['achieved_rate']:.1f} | " + " | ".join(cells + lat)
          + f" | {secs / s['achieved_rows'] * 1000:.3f} |")
print()
print((out / "gates.txt").read_text())
PY
