#!/usr/bin/env bash
# Reproduces the README's benchmark numbers: the 10M-triple world, loads (ours and oxigraph's),
# path queries (ours and oxigraph's, answers compared), the SPARQL query set, synthesis, and
# training throughput (ours and PyTorch's).
# Results go to bench-results/*.json. Needs about 6 GB of disk and a release build (built here).
#
#   scripts/bench.sh [WORK_DIR]        (default: bench-results/)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-bench-results}
mkdir -p "$out"
scripts/setup.sh --bench
cargo build --release --locked --bin kale
kale="$root/target/release/kale"
py="$root/.venv/bin/python"
cd "$out"

echo "== world (about 10M triples)" >&2
[ -f world10m.nt ] || "$kale" gen world --out world10m.nt --entities 1170000 --seed 42

echo "== bulk load: kale, then oxigraph" >&2
rm -rf kale-store oxi-store
"$kale" bench load world10m.nt --store kale-store --json | tee load-kale.json
"$py" "$root/benches/oxigraph_load.py" world10m.nt oxi-store | tee load-oxigraph.json

echo "== path queries" >&2
"$kale" bench paths kale-store --pairs 10000 --json | tee paths-random.json
"$kale" bench paths kale-store --pairs 10000 --sample walk --json | tee paths-walk.json
# The oxigraph comparison: forward only, no hub cap (the SPARQL union's semantics), same pairs.
"$kale" bench paths kale-store --pairs 1000 --sample walk --forward-only --max-degree 0 \
    --save-pairs pairs-walk.tsv --json | tee paths-walk-forward.json
"$py" "$root/benches/oxigraph_paths.py" oxi-store pairs-walk.tsv --check "$kale" kale-store 200 | tee paths-walk-oxigraph.json
"$kale" bench paths kale-store --pairs 1000 --sample random --forward-only --max-degree 0 \
    --save-pairs pairs-random.tsv --json | tee paths-random-forward.json
"$py" "$root/benches/oxigraph_paths.py" oxi-store pairs-random.tsv | tee paths-random-oxigraph.json

echo "== SPARQL query sets, against the optimised oxigraph store" >&2
# benches/sparql_side_by_side.sh compacts kale's store (as oxigraph's is optimised) and lets the
# engines take turns; oxigraph's store of the load above is reused.
mkdir -p sparql
ln -sfn ../oxi-store sparql/oxi
touch sparql/oxi.loaded
(cd "$root" && KALE="$kale" ROUNDS=3 benches/sparql_side_by_side.sh \
    "$out/world10m.nt" "$out/kale-store" "$out/sparql")
[ -f wd.nt ] || "$kale" gen world --out wd.nt --entities 640000 --languages 3 --seed 42
[ -d kale-wd ] || "$kale" load kale-wd wd.nt --quiet
(cd "$root" && KALE="$kale" ROUNDS=3 benches/sparql_side_by_side.sh \
    "$out/wd.nt" "$out/kale-wd" "$out/sparql-wd" benches/queries-wikidata)

echo "== KI synthesis" >&2
"$kale" gen qa --out qa10k.jsonl --entities 1170000 --seed 42 --questions 10000
"$kale" synth kale-store --dataset qa10k.jsonl --out synth10k.jsonl --json-summary | tee synth-world.json
"$kale" gen wordnet --out wordnet.nt --qa wordnet-qa.jsonl --questions 1000
rm -rf wordnet-store
"$kale" load wordnet-store wordnet.nt --quiet
"$kale" synth wordnet-store --dataset wordnet-qa.jsonl --out wordnet-synth.jsonl --json-summary | tee synth-wordnet.json
echo "== training throughput: kale, then PyTorch (same model, batches, threads)" >&2
"$kale" bench train --json | tee train-kale.json
"$py" "$root/benches/pytorch_train.py" | tee train-pytorch.json
echo "results in $out/" >&2
