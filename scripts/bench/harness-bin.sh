# shellcheck shell=bash
# Sourced by scripts/bench/capacity.sh and scripts/bench/results.sh: builds the harness and
# sets BIN to its path, wherever CARGO_TARGET_DIR puts it.
# CARGO_PROFILE=dev measures the unoptimised harness crate (dependencies stay
# optimised); figures worth publishing come from the release build. BIN set
# beforehand (a binary built elsewhere) skips the build.
if [ -z "${BIN:-}" ]; then
: "${CARGO_PROFILE:=release}"
cargo build --profile "$CARGO_PROFILE" --quiet --bin tpcds-bench
PROFILE_DIR=$CARGO_PROFILE
[ "$PROFILE_DIR" = dev ] && PROFILE_DIR=debug
BIN=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/$PROFILE_DIR/tpcds-bench
fi
export BIN
