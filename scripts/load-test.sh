#!/usr/bin/env bash
# Builds semslo and the load test in release mode, then runs the load test against
# a server it starts on 127.0.0.1 with a temporary store. Extra arguments go to the
# load test (e.g. `--seconds 5 --concurrency 1,8`); it stops by itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --locked --release --bin semslo --example load_test
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
release="${CARGO_TARGET_DIR:-target}/release"
exec "$release/examples/load_test" --binary "$release/semslo" "$@"
