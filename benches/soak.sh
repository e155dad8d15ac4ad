#!/usr/bin/env bash
# Writes that are never lost: `kale serve --allow-update` killed with SIGKILL at random moments,
# KILLS times (default 200), while a client commits numbered updates and another reads; after
# every restart each acknowledged update is there whole, none is half there, none refused is
# there, and the path service agrees (tests/python/kill_soak.py says exactly what is checked).
# CI runs 12 kills.
#
#   benches/soak.sh [OUT_DIR]     (default bench-results/soak; KALE, KILLS, SEED can be set)
#
# LOAD=N also puts the server under a load generator for the whole soak: wrk with N
# connections (half label lookups, half path-service calls, benches/serve/mix.lua) against a
# generated world of ENTITIES entities (default 20000) that the updates land in, on one port
# across restarts so that wrk keeps hitting each new process. wrk's connect and read errors are
# the kills; its summaries go into the JSON line (OUT_DIR/soak.json) and OUT_DIR/wrk-*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-bench-results/soak}
load=${LOAD:-0}
. "$root/benches/common.sh"
kale_binary
mkdir -p "$out"
rm -rf "$out/store"
if [ "$load" -eq 0 ]; then
    "$kale" load "$out/store" queries/tests/data/people.trig --quiet
    "$root/.venv/bin/python" tests/python/kill_soak.py "$kale" "$out/store" \
        --kills "${KILLS:-200}" --seed "${SEED:-1}" | tee "$out/soak.json"
    exit 0
fi

command -v wrk >/dev/null || { echo "wrk is missing: run scripts/setup.sh --bench" >&2; exit 1; }
entities=${ENTITIES:-20000}
"$kale" gen world --out "$out/world.nt" --entities "$entities" --quiet
"$kale" load "$out/store" "$out/world.nt" --quiet
"$root/.venv/bin/python" tests/python/kill_soak.py "$kale" "$out/store" --load "$load" \
    --entities "$entities" --wrk-out "$out" --kills "${KILLS:-200}" --seed "${SEED:-1}" \
    | tee "$out/soak.json"
