#!/usr/bin/env bash
# The fuzz smoke of the test suite (see fuzz/README.md). Two modes:
#
#   scripts/fuzz-smoke.sh          replays every file of fuzz/corpus/TARGET/
#                                  through its target with a plain
#                                  `cargo test` (stable toolchain, no
#                                  libFuzzer): what scripts/test.sh runs.
#   scripts/fuzz-smoke.sh --run    installs cargo-fuzz when missing, builds
#                                  the targets and fuzzes each for
#                                  FUZZ_SECONDS (20) seconds, from a copy of
#                                  its corpus (the repo's stays as it is).
#
# Exits non-zero on any crash or failed property.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${1:-}" != "--run" ]; then
    # fuzz/ is its own workspace: build in the project's target directory
    # so the replay reuses the dependencies `cargo test --workspace` built.
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
    exec cargo test --manifest-path fuzz/Cargo.toml --no-default-features --locked
fi

seconds="${FUZZ_SECONDS:-20}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# cargo fuzz needs nightly flags (-Z sanitizer, sancov passes): the stable
# compiler takes them under RUSTC_BOOTSTRAP=1.
export RUSTC_BOOTSTRAP=1
cargo fuzz build
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for target in $(cargo fuzz list); do
    mkdir -p "$work/$target"
    cp fuzz/corpus/"$target"/* "$work/$target"/
    echo "==== fuzzing $target for ${seconds}s ===="
    cargo fuzz run "$target" "$work/$target" -- \
        -max_total_time="$seconds" -artifact_prefix="$work/$target-"
done
