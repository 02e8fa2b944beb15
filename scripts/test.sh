#!/usr/bin/env bash
# The one command that runs the whole test suite, on a fresh machine too:
# installs redis-server when missing (the fleet tests start their own servers on free
# ports), builds every binary (the fleet tests run target/<profile>/fleetd), then runs
# every test of the workspace. Exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() {
    printf '\n==== %s ====\n' "$*"
}

if ! command -v redis-server >/dev/null 2>&1; then
    section "installing redis-server (apt-get)"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server
fi
section "redis-server"
command -v redis-server
redis-server --version

section "cargo build --workspace --bins"
cargo build --workspace --bins

section "cargo test --workspace --no-fail-fast"
cargo test --workspace --no-fail-fast
