#!/usr/bin/env bash
# Issue 19's check that the warehouse figures no longer depend on the poll:
# the quickstart scenario at the default 100 ms poll and at a 5 ms poll, ROUNDS
# times each, alternating, back to back on the running stack (scripts/stack.sh
# up); prints path 1 and path 2 p50/p99 (headline: commit ack → commit
# timestamp) and the poll's own `detected` figures per run, then the median of
# each setting and their difference.
#
#   scripts/bench/poll-independence.sh                  # 3 rounds, ~10 min
#   ROUNDS=1 RATE=1000 scripts/bench/poll-independence.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${ROUNDS:=3}"
: "${RATE:=200}"
: "${OUT:=reports/poll-independence-$(date -u +%Y%m%dT%H%M%SZ)}"
# shellcheck source=harness-bin.sh
. scripts/bench/harness-bin.sh
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for poll in 100ms 5ms; do
    echo "== round $round, poll $poll" >&2
    "$BIN" run scenarios/quickstart.toml --quiet --out "$OUT/$poll" \
      --set "observe.poll_interval=$poll" --set "load.rate.per_second=$RATE" >/dev/null
  done
done
python3 - "$OUT" <<'PY'
import json, pathlib, statistics, sys
out = pathlib.Path(sys.argv[1])
rows = {}
print("| poll | run | path1 p50 | path1 p99 | path2 p50 | path2 p99 | detected path1 p50/p99 | detected path2 p50/p99 |")
print("|:--|:--|--:|--:|--:|--:|--:|--:|")
for poll in ["100ms", "5ms"]:
    for d in sorted((out / poll).iterdir()):
        s = json.loads((d / "summary.json").read_text())["sinks"]
        v = [s[p]["latency_us"][q] / 1000 for p in ("path1", "path2") for q in ("p50", "p99")]
        det = [s[p].get("detected_us") or {} for p in ("path1", "path2")]
        rows.setdefault(poll, []).append(v)
        dt = " | ".join(f"{x.get('p50', 0)/1000:.0f}/{x.get('p99', 0)/1000:.0f}" for x in det)
        print(f"| {poll} | {d.name} | " + " | ".join(f"{x:.1f}" for x in v) + f" | {dt} |")
med = {p: [statistics.median(col) for col in zip(*r)] for p, r in rows.items()}
print()
print("| median | path1 p50 | path1 p99 | path2 p50 | path2 p99 |")
print("|:--|--:|--:|--:|--:|")
for p, m in med.items():
    print(f"| {p} | " + " | ".join(f"{x:.1f}" for x in m) + " |")
print("| 100ms − 5ms | " + " | ".join(f"{a - b:+.1f}" for a, b in zip(med["100ms"], med["5ms"])) + " |")
PY
