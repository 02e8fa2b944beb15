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

# schemathesis (PyPI) checks docs/openapi.yaml against a running fleetd
# (tests/tests/openapi.rs), which fails, never skips, without it. Pinned: v4 changed its
# command line. Where the system Python refuses pip installs (PEP 668), it goes into a
# virtualenv under target/ that the test is pointed at with FLEET_SCHEMATHESIS.
SCHEMATHESIS_VERSION=4.32.5
if [ -z "${FLEET_SCHEMATHESIS:-}" ] && ! schemathesis --version >/dev/null 2>&1; then
    section "installing schemathesis ${SCHEMATHESIS_VERSION} (pip)"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        sudo=()
        if [ "$(id -u)" -ne 0 ]; then
            sudo=(sudo)
        fi
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip python3-venv
    fi
    if ! python3 -m pip install --quiet "schemathesis==${SCHEMATHESIS_VERSION}"; then
        venv="${CARGO_TARGET_DIR:-target}/schemathesis-venv"
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet "schemathesis==${SCHEMATHESIS_VERSION}"
        FLEET_SCHEMATHESIS="$(cd "$venv/bin" && pwd)/schemathesis"
        export FLEET_SCHEMATHESIS
    fi
fi
section "schemathesis"
"${FLEET_SCHEMATHESIS:-schemathesis}" --version

section "cargo build --workspace --bins"
cargo build --workspace --bins

section "cargo test --workspace --no-fail-fast"
cargo test --workspace --no-fail-fast

section "fuzz corpus replay (scripts/fuzz-smoke.sh)"
scripts/fuzz-smoke.sh
