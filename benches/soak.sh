#!/usr/bin/env bash
# Writes that are never lost: `kale serve --allow-update` killed with SIGKILL at random moments,
# KILLS times (default 200), while a client commits numbered updates and another reads; after
# every restart each acknowledged update is there whole, none is half there, and the path
# service agrees (tests/python/kill_soak.py says exactly what is checked). CI runs 12 kills.
#
#   benches/soak.sh [OUT_DIR]     (default bench-results/soak; KALE, KILLS, SEED can be set)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-bench-results/soak}
. "$root/benches/common.sh"
kale_binary
mkdir -p "$out"
rm -rf "$out/store"
"$kale" load "$out/store" queries/tests/data/people.trig --quiet
"$root/.venv/bin/python" tests/python/kill_soak.py "$kale" "$out/store" \
    --kills "${KILLS:-200}" --seed "${SEED:-1}" | tee "$out/soak.json"
