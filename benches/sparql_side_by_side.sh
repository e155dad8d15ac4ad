#!/usr/bin/env bash
# The SPARQL query set on kale and on an optimised oxigraph store, alternating twice (this machine
# drifts between runs): oxigraph loads the N-Triples file with `benches/oxigraph_load.py` (which
# runs optimize()), then `kale bench sparql` on the kale store of the same file and
# `benches/oxigraph_sparql.py` take turns, median of 5 after a warm-up each.
#
#   benches/sparql_side_by_side.sh [FILE.nt] [KALE_STORE] [OUT] [QUERIES]
#       (defaults: the 10M world and store of benches/scale.sh, bench-results/sparql,
#       benches/queries; the second set is benches/queries-wikidata, see its README)
#
# The kale store is compacted first (`kale compact`, as oxigraph's store is optimised), unless
# NO_COMPACT=1. ROUNDS (default 2) sets how many times the engines take turns, RUNS (default 5)
# the timed runs per query and round.
#
# KALE picks the binary (default: a release build, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
nt=${1:-bench-results/scale/world-1170000.nt}
store=${2:-bench-results/scale/kale-10}
out=${3:-bench-results/sparql}
queries=${4:-benches/queries}
rounds=${ROUNDS:-2}
runs=${RUNS:-5}
. "$root/benches/common.sh"
kale_binary
mkdir -p "$out"
if [ ! -f "$out/oxi.loaded" ]; then
    rm -rf "$out/oxi"
    .venv/bin/python benches/oxigraph_load.py "$nt" "$out/oxi" | tee "$out/load-oxigraph.json"
    touch "$out/oxi.loaded"
fi
if [ "${NO_COMPACT:-0}" != 1 ]; then
    "$kale" compact "$store"
fi
# The path service's pair belongs to the first set's world.
pair=()
if [ "$queries" = benches/queries ]; then
    pair=(--path-from http://kale.example/entity/Q616450 --path-to http://kale.example/entity/Q120)
fi
for round in $(seq 1 "$rounds"); do
    "$kale" bench sparql "$store" --queries "$queries" --runs "$runs" "${pair[@]}" \
        --json > "$out/kale-$round.json"
    .venv/bin/python benches/oxigraph_sparql.py "$out/oxi" "$queries" "$runs" > "$out/oxigraph-$round.json"
done
.venv/bin/python benches/sparql_compare.py "$out" "$rounds" | tee "$out/summary.md"
echo "results in $out/" >&2
