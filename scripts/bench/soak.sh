#!/usr/bin/env bash
# The harness's own memory over a long run, and how fast an interrupt turns into
# a report (issue 6): runs the release build against the running stack
# (scripts/stack.sh up) with scenarios/quickstart.toml's mix at RATE rows/s,
# samples the harness's RSS every SAMPLE_S seconds, and after MINUTES sends
# SIGTERM and times how long the partial report takes.
#
#   scripts/bench/soak.sh                      # 60 min at 1000 rows/s
#   MINUTES=5 RATE=500 scripts/bench/soak.sh   # a short check
#
# Writes SOAK_DIR (default reports/soak-<time>/): the run directory, rss.csv
# (elapsed_s,rss_kib) and soak.md: RSS at 1 min and every 5 min with each
# one's ratio to the 5-min value, the range after minute 5 (the issue's
# "flat within ±10 %"), the peak, and the time from SIGTERM to exit. Exit 0 when the run ended with a partial report
# (exit code 130), 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${MINUTES:=60}"
: "${RATE:=1000}"
: "${SAMPLE_S:=30}"
: "${SOAK_DIR:=reports/soak-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$SOAK_DIR/run"

# shellcheck source=harness-bin.sh
. scripts/bench/harness-bin.sh

# The scenario runs longer than the soak, so the SIGTERM lands under load.
"$BIN" run scenarios/quickstart.toml --quiet --out "$SOAK_DIR/run" \
  --set name=soak --set "duration=$((MINUTES + 5))m" --set warmup=30s \
  --set "load.rate.per_second=$RATE" \
  >"$SOAK_DIR/run.stdout" 2>"$SOAK_DIR/run.stderr" &
PID=$!
echo "soak: harness pid $PID, $RATE rows/s for $MINUTES min; RSS every $SAMPLE_S s in $SOAK_DIR/rss.csv" >&2

echo "elapsed_s,rss_kib" >"$SOAK_DIR/rss.csv"
START=$(date +%s)
END=$((START + MINUTES * 60))
while kill -0 "$PID" 2>/dev/null && [ "$(date +%s)" -lt "$END" ]; do
  rss=$(ps -o rss= -p "$PID" | tr -d ' ' || true)
  [ -n "$rss" ] && echo "$(($(date +%s) - START)),$rss" >>"$SOAK_DIR/rss.csv"
  sleep "$SAMPLE_S"
done

rc=0
if kill -0 "$PID" 2>/dev/null; then
  echo "$(($(date +%s) - START)),$(ps -o rss= -p "$PID" | tr -d ' ')" >>"$SOAK_DIR/rss.csv"
  T0=$(date +%s.%N)
  kill -TERM "$PID"
  wait "$PID" || rc=$?
  T1=$(date +%s.%N)
  TERM_S=$(python3 -c "print(f'{$T1 - $T0:.2f}')")
else
  wait "$PID" || rc=$?
  TERM_S=""
  echo "soak: the harness ended before the soak did (exit $rc); see $SOAK_DIR/run.stderr" >&2
fi

python3 - "$SOAK_DIR" "$RATE" "$MINUTES" "$rc" "$TERM_S" <<'PY'
import csv, glob, json, sys
d, rate, minutes, rc, term_s = sys.argv[1:6]
rows = [(int(r["elapsed_s"]), int(r["rss_kib"])) for r in csv.DictReader(open(f"{d}/rss.csv"))]
mib = lambda k: f"{k / 1024:.0f} MiB"
def at(sec):
    return min(rows, key=lambda r: abs(r[0] - sec))
lines = [f"# Soak: {rate} rows/s for {minutes} min", ""]
if rows:
    peak = max(rows, key=lambda r: r[1])
    last = rows[-1][0]
    base = at(300)[1] if last >= 300 else None
    lines += ["| elapsed | RSS | vs 5 min |", "|---|---|---|"]
    shown = []
    for sec in [60] + list(range(300, last + 1, 300)) + [last]:
        e, k = at(sec)
        if sec <= last and e not in shown:
            shown.append(e)
            vs = f"{(k / base - 1) * 100:+.1f} %" if base else ""
            lines.append(f"| {e // 60} min {e % 60:02d} s | {mib(k)} | {vs} |")
    lines += ["", f"Peak RSS {mib(peak[1])} at {peak[0] // 60} min."]
    after = [k for e, k in rows if e >= 300]
    if base and len(after) > 1:
        lo, hi = (min(after) / base - 1) * 100, (max(after) / base - 1) * 100
        flat = "yes" if lo >= -10 and hi <= 10 else "no"
        lines.append(
            f"After 5 min: {mib(min(after))} … {mib(max(after))}, {lo:+.1f} % … {hi:+.1f} % "
            f"of the 5-min value ({mib(base)}); flat within ±10 %: {flat}."
        )
runs = glob.glob(f"{d}/run/*/summary.json")
if runs:
    s = json.load(open(runs[0]))
    lines.append(f"Rows committed {s.get('achieved_rows')}; interrupted {s.get('interrupted')}.")
lines.append(f"SIGTERM to exit (partial report written): {term_s} s, exit code {rc}." if term_s else f"The harness exited by itself with code {rc}.")
open(f"{d}/soak.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
[ "$rc" -eq 130 ]
