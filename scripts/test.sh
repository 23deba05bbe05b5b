#!/usr/bin/env bash
# Runs every test of tpcds-bench against the real native stack: installs what is
# missing, brings the stack up (idempotent; see scripts/stack.sh), then format,
# lint, the docker-compose consistency check, and `cargo test` (unit, CLI, and
# stack-backed integration tests). A stack that cannot start fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-deps.sh
scripts/stack.sh up

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings
echo "== docker-compose consistency (no engine needed)"
python3 scripts/check-compose.py --self-test
echo "== Kubernetes manifests (no cluster needed)"
python3 scripts/check-k8s.py --self-test
echo "== cargo test"
cargo test --all-targets
