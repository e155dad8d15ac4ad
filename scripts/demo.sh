#!/usr/bin/env bash
# The main job on the built-in world, from a fresh machine: set-up (idempotent), build, demo.
# Extra arguments go to `kale demo` (e.g. --quick, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked --quiet --workspace --all-features --bins
exec target/debug/kale demo "$@"
