#!/usr/bin/env bash
# The main job end to end on a fresh machine: install, bring the native stack up,
# build the harness, run the quickstart scenario, and point at the report.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-deps.sh
scripts/stack.sh up
# `cargo run` finds the binary wherever CARGO_TARGET_DIR puts it.
cargo run --release --quiet -- run scenarios/quickstart.toml "$@"
