#!/usr/bin/env bash
# How the store's costs grow with size: generated worlds of about 1M, 10M and 100M triples, each
# bulk-loaded into a fresh store (`kale bench load`: triples/s, peak memory under the default
# --memory-limit, bytes per triple, index build), then path queries at the fixed hub cap (random
# and connected pairs), KI synthesis over generated questions, a 1,000-triple load into the
# store (wall time until it answers a path query through the new triples) and a full `kale
# index`, which is what every load cost before small loads went in place. oxigraph loads the 10M
# and 100M files afterwards, alone on the machine, with its optimize() timed apart.
#
#   benches/scale.sh [OUT_DIR] [SIZES]     (default bench-results/scale, "1 10 100" million)
#
# Needs about 12 GB of disk per 100M triples for the N-Triples file, 4 GB for kale's store and
# 11 GB for oxigraph's (removed after it is measured). KALE=path/to/kale picks the binary
# (default: a release build, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-bench-results/scale}
sizes=${2:-1 10 100}
. "$root/benches/common.sh"
kale_binary
py="$root/.venv/bin/python"
mkdir -p "$out"
cd "$out"
seconds() { awk "BEGIN { printf \"%.3f\", $2 - $1 }"; }

for m in $sizes; do
    entities=$((m * 117000))
    nt=world-$entities.nt
    store=kale-$m
    echo "== $m M: world ($entities entities)" >&2
    [ -f "$nt" ] || "$kale" gen world --quiet --out "$nt" --entities "$entities" --seed 42
    rm -rf "$store"
    "$kale" bench load "$nt" --store "$store" --json --quiet | tee "load-$m.json"
    "$kale" bench paths "$store" --pairs 10000 --json --quiet | tee "paths-random-$m.json"
    "$kale" bench paths "$store" --pairs 10000 --sample walk --json --quiet | tee "paths-walk-$m.json"
    "$kale" gen qa --out "qa-$m.jsonl" --entities "$entities" --seed 42 --questions 2000 --quiet
    "$kale" synth "$store" --dataset "qa-$m.jsonl" --out "synth-$m.jsonl" --json-summary --quiet \
        | tee "synth-$m.json"

    echo "== $m M: a 1,000-triple load into the store, then a full index rebuild" >&2
    small=small-$m.nt
    : > "$small"
    for i in $(seq 1 500); do
        echo "<http://kale.example/entity/NEW$i> <http://kale.example/prop/P19> <http://kale.example/entity/Q$((i * 7 + 100))> ." >> "$small"
        echo "<http://kale.example/entity/NEW$i> <http://www.w3.org/2000/01/rdf-schema#label> \"New place $i\"@en ." >> "$small"
    done
    started=$(date +%s.%N)
    "$kale" load "$store" "$small" --quiet 2> "small-load-$m.log"
    loaded=$(date +%s.%N)
    "$kale" paths "$store" --from http://kale.example/entity/NEW1 \
        --to http://kale.example/entity/Q107 --quiet > "small-paths-$m.txt"
    answered=$(date +%s.%N)
    grep -q "NEW1" "small-paths-$m.txt" || { echo "the new triples are not found" >&2; exit 1; }
    "$kale" index "$store" --quiet
    indexed=$(date +%s.%N)
    grep -q "in place" "small-load-$m.log" && in_place=true || in_place=false
    printf '{"size_millions": %s, "small_load_seconds": %s, "small_load_until_answered_seconds": %s, "in_place": %s, "full_index_seconds": %s}\n' \
        "$m" "$(seconds "$started" "$loaded")" "$(seconds "$started" "$answered")" \
        "$in_place" "$(seconds "$answered" "$indexed")" | tee "small-$m.json"
done

for m in $sizes; do
    [ "$m" -ge 10 ] || continue
    echo "== $m M: oxigraph's bulk load" >&2
    rm -rf "oxi-$m"
    "$py" "$root/benches/oxigraph_load.py" "world-$((m * 117000)).nt" "oxi-$m" | tee "load-oxigraph-$m.json"
    rm -rf "oxi-$m"
done
echo "results in $out/" >&2
