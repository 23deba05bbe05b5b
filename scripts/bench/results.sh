#!/usr/bin/env bash
# The published results (docs/RESULTS.md), reproducibly: runs the release build against
# the running stack (scripts/stack.sh up) and writes a markdown report.
#
#   scripts/bench/results.sh [latency] [fidelity] [memory]   # default: all three
#   RESULTS_DIR=reports/results scripts/bench/results.sh latency
#
#   latency   p50/p99 per sink at 500 and 2,000 rows/s: scenarios/quickstart.toml's mix,
#             all four sinks, 80 s with 20 s warmup (60 s measured)            ~4 min
#   fidelity  schedule fidelity at 1k, 5k, 20k rows/s: 30 s each (5 s warmup), all four
#             sinks; achieved/target and lateness p99 (`client.lateness_us`)    ~3 min
#   memory    the harness's peak RSS (/usr/bin/time -v) at 20k rows/s for 30 s while the
#             pipeline lags: the Flink TaskManager is stopped (SIGSTOP) for 5 s from
#             second 10, so every Kafka/warehouse row of those seconds stays in flight  ~1.5 min
#
# Each run's directory stays under RESULTS_DIR; results.md there has the tables,
# the flush/checkpoint settings (scripts/stack/flink-sql.env) and MariaDB's durability
# settings the numbers were measured with.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=$(pwd)

: "${MYSQL_HOST:=127.0.0.1}"
: "${MYSQL_PORT:=3306}"
: "${MYSQL_USER:=root}"
: "${MYSQL_PASSWORD:=root123}"
: "${RESULTS_DIR:=reports/results-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$RESULTS_DIR"
MD=$RESULTS_DIR/results.md
WHAT=("$@")
[ "${#WHAT[@]}" -gt 0 ] || WHAT=(latency fidelity memory)

# shellcheck source=harness-bin.sh
. scripts/bench/harness-bin.sh

# run NAME ARGS...: one run of the quickstart scenario with --set overrides, into
# RESULTS_DIR/NAME; prints the run directory. Exit 1 (an SLO breach) is a result, not an error.
run() {
  local name=$1 rc=0
  shift
  local sets=()
  for s in "$@"; do sets+=(--set "$s"); done
  mkdir -p "$RESULTS_DIR/$name"
  echo "results: $name: $*" >&2
  "$BIN" run scenarios/quickstart.toml --quiet --out "$RESULTS_DIR/$name" --set "name=$name" "${sets[@]}" \
    >"$RESULTS_DIR/$name.stdout" 2>"$RESULTS_DIR/$name.stderr" || rc=$?
  if [ "$rc" -gt 1 ]; then
    cat "$RESULTS_DIR/$name.stderr" >&2
    echo "results: $name exited $rc" >&2
    exit "$rc"
  fi
  ls -d "$RESULTS_DIR/$name"/*/ | head -1
}

# summary.json → one markdown row per sink: seen, missing, p50, p99, resolution.
sink_rows() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
ms = lambda us: f"{us / 1000:.1f} ms" if us < 10_000 else f"{us / 1000:.0f} ms"
for name, k in s["sinks"].items():
    lat = k["latency_us"]
    res = k.get("resolution_us")
    src = (k.get("visibility") or {}).get("source", "detected")
    if not res:
        res = "push"
    elif src == "detected":
        res = f"≤ {ms(res)} (poll)"
    else:
        res = f"{src} ± {ms(res)}"
    print(f"| {sys.argv[2]} | {name} | {k['seen']} | {k['missing']} | {ms(lat['p50'])} | {ms(lat['p99'])} | {res} |")
EOF
}

fidelity_row() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
late = s["client"]["lateness_us"]
ratio = s["achieved_rate"] / s["target_rate"]
worst = max((k["latency_us"]["p99"] for k in s["sinks"].values()), default=0)
print(f"| {sys.argv[2]} | {s['achieved_rate']:.0f} | {ratio:.3f} | {late['p99'] / 1000:.1f} ms | "
      f"{s['late']} / {s['dropped']} | {worst / 1000:.0f} ms |")
EOF
}

settings() {
  # shellcheck source=stack/flink-sql.env
  (. "$HERE/scripts/stack/flink-sql.env" && echo "JDBC flush ${PATH1_JDBC_FLUSH_INTERVAL}/${PATH1_JDBC_FLUSH_MAX_ROWS} rows (path 1), ${PATH2_JDBC_FLUSH_INTERVAL}/${PATH2_JDBC_FLUSH_MAX_ROWS} rows (path 2); checkpoint ${CHECKPOINT_INTERVAL}; Kafka ${KAFKA_DELIVERY_GUARANTEE}, linger ${KAFKA_LINGER_MS} ms; CDC poll ${CDC_POLL_INTERVAL_MS} ms")
  mariadb --protocol=TCP -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" -p"$MYSQL_PASSWORD" -N -B -e \
    "SELECT CONCAT('MariaDB ', @@version, ': innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit, ', sync_binlog=', @@sync_binlog)"
}

{
  echo "# tpcds-bench results, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load average before the runs $(cut -d' ' -f1-3 /proc/loadavg) (the stack itself idles at ~0.3-0.5)."
  settings | sed 's/^/- /'
  echo
} >"$MD"

for what in "${WHAT[@]}"; do
  case $what in
  latency)
    {
      echo "## Latency per sink (60 s measured after 20 s warmup, quickstart mix)"
      echo
      echo "| rows/s | sink | seen | missing | p50 | p99 | resolution |"
      echo "|---|---|---|---|---|---|---|"
    } >>"$MD"
    for spec in "500 2 5" "2000 4 10"; do
      read -r rate workers batch <<<"$spec"
      dir=$(run "latency-$rate" duration=80s warmup=20s "load.rate.per_second=$rate" \
        "load.workers=$workers" "load.batch_rows=$batch")
      sink_rows "$dir" "$rate" >>"$MD"
    done
    echo >>"$MD"
    ;;
  fidelity)
    {
      echo "## Schedule fidelity (30 s, 5 s warmup, all four sinks)"
      echo
      echo "| target rows/s | achieved | achieved/target | lateness p99 | late / dropped rows | worst sink p99 |"
      echo "|---|---|---|---|---|---|"
    } >>"$MD"
    for spec in "1000 4 10" "5000 4 25" "20000 8 50"; do
      read -r rate workers batch <<<"$spec"
      dir=$(run "fidelity-$rate" duration=30s warmup=5s drain_timeout=120s "load.rate.per_second=$rate" \
        "load.workers=$workers" "load.batch_rows=$batch")
      fidelity_row "$dir" "$rate" >>"$MD"
    done
    echo >>"$MD"
    ;;
  memory)
    TM_PID=$(cat .stack/pids/flink-taskmanager.pid | cut -d' ' -f1)
    mkdir -p "$RESULTS_DIR/memory"
    echo "results: memory: 20k rows/s, TaskManager $TM_PID stopped 5 s from second 10" >&2
    (sleep 10 && kill -STOP "$TM_PID" && sleep 5 && kill -CONT "$TM_PID") &
    pauser=$!
    rc=0
    /usr/bin/time -v "$BIN" run scenarios/quickstart.toml --quiet --out "$RESULTS_DIR/memory" \
      --set name=memory --set duration=30s --set warmup=5s --set drain_timeout=120s \
      --set load.rate.per_second=20000 --set load.workers=8 --set load.batch_rows=50 \
      >"$RESULTS_DIR/memory.stdout" 2>"$RESULTS_DIR/memory.stderr" || rc=$?
    wait "$pauser" || kill -CONT "$TM_PID"
    [ "$rc" -le 1 ] || { cat "$RESULTS_DIR/memory.stderr" >&2; exit "$rc"; }
    dir=$(ls -d "$RESULTS_DIR/memory"/*/ | head -1)
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$RESULTS_DIR/memory.stderr")
    peak=$(awk -F, 'NR > 1 && $2 != "client" && $9 > m { m = $9; s = $2 } END { print m " (" s ")" }' "$dir/timeseries.csv")
    {
      echo "## Peak memory at 20k rows/s with the pipeline stopped for 5 s"
      echo
      echo "- harness peak RSS: $((rss / 1024)) MiB (\`/usr/bin/time -v\`, maximum resident set size)"
      echo "- most rows in flight at one sink: $peak"
      fidelity_row "$dir" 20000 | awk -F'|' '{ print "- achieved " $3 " rows/s (" $4 " of target), lateness p99 " $5 }'
      echo
    } >>"$MD"
    ;;
  *)
    echo "results: unknown part '$what' (latency, fidelity, memory)" >&2
    exit 2
    ;;
  esac
done
cat "$MD"
