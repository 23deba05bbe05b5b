#!/usr/bin/env bash
# Refreshes the Kafka decoder fixtures (tests/fixtures/kafka/flink-<format>.json)
# from what Flink really writes: for each format, switch the running native
# stack to it (KAFKA_FORMAT, scripts/stack.sh restart-jobs of the jobs that use
# path 1's topics), write inserts, updates and deletes to MySQL and capture the
# messages (tests/stack/observe_kafka.rs, capture_fixtures). Restores debezium-json
# at the end, also on failure. About 2-4 minutes per format on 2 cores.
#
#   scripts/capture-fixtures.sh                    # every format
#   scripts/capture-fixtures.sh canal-json json    # some
set -euo pipefail
cd "$(dirname "$0")/.."
FORMATS=("$@")
[ "${#FORMATS[@]}" -gt 0 ] || FORMATS=(debezium-json canal-json maxwell-json ogg-json upsert-kafka json)
JOBS=(mysql-cdc-to-kafka kafka-to-cloudberry streaming-analytics)

restore() {
  echo "== restoring KAFKA_FORMAT=debezium-json" >&2
  KAFKA_FORMAT=debezium-json scripts/stack.sh restart-jobs "${JOBS[@]}"
}
trap restore EXIT

# Build first, so that no switch waits for the compiler.
cargo test --test stack --no-run --quiet
for f in "${FORMATS[@]}"; do
  echo "== $f" >&2
  KAFKA_FORMAT=$f scripts/stack.sh restart-jobs "${JOBS[@]}"
  TPCDS_CAPTURE_FORMAT=$f cargo test --quiet --test stack -- --ignored --exact observe_kafka::capture_fixtures
done
echo "fixtures refreshed; check them with: cargo test --test offline observe_fixtures::" >&2
