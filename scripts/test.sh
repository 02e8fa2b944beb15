#!/usr/bin/env bash
# The one command that runs the whole test suite, on a fresh machine too:
# installs redis-server and the other tools the tests run when missing (the fleet tests
# start their own servers on free ports), builds every binary (the fleet tests run target/<profile>/fleetd), then runs
# every test of the workspace. Exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() {
    printf '\n==== %s ====\n' "$*"
}

# What the tests run besides the workspace's binaries: command -> Debian package.
needed=(
    "redis-server:redis-server"    # every fleet test starts its own servers
    "redis-cli:redis-tools"        # Redis Cluster and Sentinel fixtures
    "openssl:openssl"              # certificates for the TLS tests
    "mkfs.ext4:e2fsprogs"          # the read-only data dir test (a loop-mounted image)
    "findmnt:util-linux"           # the disk-full tests' mounts
)
missing=()
for pair in "${needed[@]}"; do
    if ! command -v "${pair%%:*}" >/dev/null 2>&1; then
        missing+=("${pair#*:}")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    section "installing ${missing[*]} (apt-get)"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
section "redis-server"
command -v redis-server
redis-server --version

section "cargo build --workspace --bins"
cargo build --workspace --bins

section "cargo test --workspace --no-fail-fast"
cargo test --workspace --no-fail-fast

section "fuzz corpus replay (scripts/fuzz-smoke.sh)"
scripts/fuzz-smoke.sh
