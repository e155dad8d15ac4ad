#!/usr/bin/env bash
# The SPARQL query set on kale and on an optimised oxigraph store, alternating twice (this machine
# drifts between runs): oxigraph loads the N-Triples file with `benches/oxigraph_load.py` (which
# runs optimize()), then `kale bench sparql` on the kale store of the same file and
# `benches/oxigraph_sparql.py` take turns, median of 5 after a warm-up each.
#
#   benches/sparql_side_by_side.sh [FILE.nt] [KALE_STORE] [OUT]
#       (defaults: the 10M world and store of benches/scale.sh, bench-results/sparql)
#
# KALE picks the binary (default: a release build, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
nt=${1:-bench-results/scale/world-1170000.nt}
store=${2:-bench-results/scale/kale-10}
out=${3:-bench-results/sparql}
. "$root/benches/common.sh"
kale_binary
mkdir -p "$out"
rm -rf "$out/oxi"
.venv/bin/python benches/oxigraph_load.py "$nt" "$out/oxi" | tee "$out/load-oxigraph.json"
for round in 1 2; do
    "$kale" bench sparql "$store" --queries benches/queries --runs 5 \
        --path-from http://kale.example/entity/Q616450 --path-to http://kale.example/entity/Q120 \
        --json > "$out/kale-$round.json"
    .venv/bin/python benches/oxigraph_sparql.py "$out/oxi" benches/queries 5 > "$out/oxigraph-$round.json"
done
echo "results in $out/" >&2
