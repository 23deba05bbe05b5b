#!/usr/bin/env bash
# Issue 25: what the live endpoint (--metrics-addr) costs the harness. The
# same run (steady.toml at RATE rows/s, DURATION long) with and without the
# endpoint, PAIRS times, alternating which goes first, back to back on the
# running stack (scripts/stack.sh up, whose Prometheus scrapes the endpoint
# every PROMETHEUS_SCRAPE_INTERVAL s). Prints each run's CPU seconds
# (user + system of the harness process, from getrusage; the end-of-run audit
# off) and the ratio of the medians. The machine may be shared: compare pairs, not single runs.
#
#   scripts/live-overhead.sh                           # 4 pairs of 40 s at 1000 rows/s
#   PAIRS=2 DURATION=20s scripts/live-overhead.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PAIRS:=4}"
: "${RATE:=1000}"
: "${DURATION:=40s}"
: "${HARNESS_METRICS_PORT:=9464}"
: "${OUT:=reports/live-overhead-$(date -u +%Y%m%dT%H%M%SZ)}"
# shellcheck source=harness-bin.sh
. scripts/harness-bin.sh
mkdir -p "$OUT"
python3 - "$BIN" "$OUT" "$PAIRS" "$RATE" "$DURATION" "127.0.0.1:$HARNESS_METRICS_PORT" <<'PY'
import resource, statistics, subprocess, sys
bin_, out, pairs, rate, duration, addr = sys.argv[1:]
base = [bin_, "run", "scenarios/steady.toml", "--quiet", "--out", out,
        "--set", f"load.rate.per_second={rate}", "--set", f"duration={duration}", "--set", "warmup=5s",
        # The end-of-run audit reads back the topics from a minute before the
        # run, so its cost depends on what the previous run left there.
        "--set", "audit.enabled=false"]
cpu = {"without": [], "with": []}
for i in range(int(pairs)):
    order = ["without", "with"] if i % 2 == 0 else ["with", "without"]
    for kind in order:
        args = base + (["--metrics-addr", addr] if kind == "with" else [])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        rc = subprocess.run(args, stdout=subprocess.DEVNULL).returncode
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        cpu[kind].append(used)
        print(f"pair {i + 1} {kind:>7} endpoint: {used:6.2f} CPU s (exit {rc})", flush=True)
m = {k: statistics.median(v) for k, v in cpu.items()}
ratios = [w / wo for w, wo in zip(cpu["with"], cpu["without"])]
print(f"median CPU s: without {m['without']:.2f}, with {m['with']:.2f}; "
      f"ratio of medians {m['with'] / m['without']:.3f}; per-pair ratios "
      + ", ".join(f"{r:.3f}" for r in ratios))
PY
