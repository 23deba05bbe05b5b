#!/usr/bin/env bash
# ci.sh: what CI runs for the pipeline, from a fresh clone:
#   1. the engine-free docker-compose check (with its self-test),
#   2. a native stack of its own (own data dir and ports, so a developer's
#      stack on the default ports does not get in the way), brought up,
#   3. the end-to-end pipeline test against it (time-to-visible per sink),
#   4. that stack stopped again, whatever happened.
# Downloads go to a machine-wide cache (TPCDS_CACHE_DIR, default
# ~/.cache/tpcds-bench) so a second CI run on the same machine starts warm.
# Exit status: the first failing step's.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1

export TPCDS_CACHE_DIR=${TPCDS_CACHE_DIR:-$HOME/.cache/tpcds-bench}
export TPCDS_STACK_DIR=${TPCDS_CI_STACK_DIR:-$ROOT/.stack/ci}
export MYSQL_PORT=${CI_MYSQL_PORT:-23306} KAFKA_PORT=${CI_KAFKA_PORT:-29092}
export KAFKA_CONTROLLER_PORT=${CI_KAFKA_CONTROLLER_PORT:-29093} FLINK_PORT=${CI_FLINK_PORT:-28081}
export FLINK_RPC_PORT=${CI_FLINK_RPC_PORT:-26123} WAREHOUSE_PORT=${CI_WAREHOUSE_PORT:-25432}
export PROMETHEUS_PORT=${CI_PROMETHEUS_PORT:-29090} HARNESS_METRICS_PORT=${CI_HARNESS_METRICS_PORT:-29464}
export FLINK_METRICS_PORT=${CI_FLINK_METRICS_PORT:-29249} KAFKA_METRICS_PORT=${CI_KAFKA_METRICS_PORT:-29404}
export MYSQL_EXPORTER_PORT=${CI_MYSQL_EXPORTER_PORT:-29104} WAREHOUSE_EXPORTER_PORT=${CI_WAREHOUSE_EXPORTER_PORT:-29187}

python3 scripts/check-compose.py --self-test || exit $?

cleanup() { scripts/stack.sh down || true; }
trap cleanup EXIT
scripts/stack.sh up || exit $?
cargo test --test stack pipeline:: -- --nocapture || exit $?
