#!/usr/bin/env bash
# The quickstart under every Kafka changelog format the stack writes: for each
# format, switch the running native stack to it (KAFKA_FORMAT, scripts/stack.sh
# restart-jobs of the jobs that use path 1's topics), run
# scenarios/quickstart.toml with targets.kafka.format set to it, and tabulate
# per sink what was seen and missing and Kafka's p50/p99 (Markdown, for
# docs/RESULTS.md). json carries no deletes, so its run has
# mix.delete_probability = 0. Restores debezium-json at the end, also on failure.
#
#   scripts/bench/formats.sh                                # every format, ~4-6 min each on 2 cores
#   FORMATS="canal-json json" scripts/bench/formats.sh      # some
#   DURATION=30s WARMUP=10s scripts/bench/formats.sh        # shorter runs
#   CARGO_PROFILE=dev scripts/bench/formats.sh              # the debug harness (optimised dependencies)
#   CAPTURE=1 CHECK=1 scripts/bench/formats.sh              # also refresh tests/fixtures/kafka/ and run
#                                                     # tests/stack/kafka_formats.rs under each format
#                                                     # on the way (one switch per format for all)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FORMATS:=debezium-json canal-json maxwell-json ogg-json upsert-kafka json}"
# The format the stack's topics hold now (scripts/stack/format.sh records it).
FORMAT_RECORD=${TPCDS_STACK_DIR:-.stack}/kafka/format
: "${DURATION:=60s}"
: "${WARMUP:=30s}"
: "${OUT:=reports/formats-$(date -u +%Y%m%dT%H%M%SZ)}"
JOBS=(mysql-cdc-to-kafka kafka-to-cloudberry streaming-analytics)
# shellcheck source=harness-bin.sh
. scripts/bench/harness-bin.sh
mkdir -p "$OUT"

restore() {
  [ "$(cat "$FORMAT_RECORD" 2>/dev/null || echo debezium-json)" = debezium-json ] && return
  echo "== restoring KAFKA_FORMAT=debezium-json" >&2
  KAFKA_FORMAT=debezium-json scripts/stack.sh restart-jobs "${JOBS[@]}" >>"$OUT/stack.log" 2>&1
}
trap restore EXIT

for f in $FORMATS; do
  echo "== $f" >&2
  # Already running it (the record says so): no restart.
  if [ "$(cat "$FORMAT_RECORD" 2>/dev/null || echo debezium-json)" != "$f" ]; then
    t0=$SECONDS
    KAFKA_FORMAT=$f scripts/stack.sh restart-jobs "${JOBS[@]}" >>"$OUT/stack.log" 2>&1
    echo "   $f: switched in $((SECONDS - t0)) s (cancel, empty the topics, submit, RUNNING)" >&2
    # The fresh CDC job snapshots both tables first; until it streams, a
    # change reaches Kafka merged into the snapshot's row and a run would
    # time the snapshot, not the format.
    t0=$SECONDS
    cargo test --quiet --test stack -- --ignored --exact observe_kafka::cdc_streams >>"$OUT/streams.log" 2>&1 ||
      { echo "   $f: the CDC job did not start streaming (see $OUT/streams.log)" >&2; exit 1; }
    echo "   $f: streaming $((SECONDS - t0)) s later (its snapshot done)" >&2
  fi
  if [ -n "${CAPTURE:-}" ]; then
    TPCDS_CAPTURE_FORMAT=$f cargo test --quiet --test stack -- --ignored --exact observe_kafka::capture_fixtures \
      >>"$OUT/capture.log" 2>&1 || echo "   $f: capturing the fixture failed (see $OUT/capture.log)" >&2
  fi
  if [ -n "${CHECK:-}" ]; then
    TPCDS_TEST_FORMATS=$f cargo test --quiet --test stack kafka_formats:: >>"$OUT/check.log" 2>&1 &&
      echo "   $f: tests/stack/kafka_formats.rs passed" >&2 ||
      echo "   $f: tests/stack/kafka_formats.rs FAILED (see $OUT/check.log)" >&2
  fi
  sets=(--set "name=quickstart-$f" --set "duration=$DURATION" --set "warmup=$WARMUP" --set "targets.kafka.format=$f")
  [ "$f" = json ] && sets+=(--set "mix.delete_probability=0")
  # A just-submitted pipeline is slow for its first seconds: one short run first.
  "$BIN" run scenarios/quickstart.toml --quiet --out "$OUT/warmup" "${sets[@]}" --set duration=10s --set warmup=0s \
    >/dev/null 2>&1 || true
  "$BIN" run scenarios/quickstart.toml --quiet --out "$OUT/$f" "${sets[@]}" >"$OUT/$f.stdout" 2>"$OUT/$f.stderr" ||
    echo "   $f: run exited $? (see $OUT/$f.stderr)" >&2
done

python3 - "$OUT" $FORMATS <<'PY' | tee "$OUT/formats.md"
import glob, json, sys
out, formats = sys.argv[1], sys.argv[2:]
print("| format | rows written | kafka seen / missing | path1 seen / missing | path2 seen / missing | Kafka p50 ms | Kafka p99 ms | path1 p50 ms | path1 p99 ms |")
print("|:--|--:|--:|--:|--:|--:|--:|--:|--:|")
for f in formats:
    runs = glob.glob(f"{out}/{f}/*/summary.json")
    if not runs:
        print(f"| {f} | (no run) | | | | | | | |")
        continue
    s = json.load(open(runs[0]))
    k = s["sinks"]
    def seen(n):
        x = k.get(n)
        return f"{x['seen']} / {x['missing']}" if x else "-"
    def ms(n, q):
        x = (k.get(n) or {}).get("latency_us") or {}
        return f"{x[q] / 1000:.0f}" if q in x else "-"
    print(f"| {f} | {s['achieved_rows']} | {seen('kafka')} | {seen('path1')} | {seen('path2')} | "
          f"{ms('kafka', 'p50')} | {ms('kafka', 'p99')} | {ms('path1', 'p50')} | {ms('path1', 'p99')} |")
PY
