#!/usr/bin/env bash
# The README's experiment tables: SmolLM2-135M-Instruct (LoRA) on BIG-bench's Wikidata facts,
# CommonsenseQA and ARC-Easy, and the small model trained from scratch on the generated world
# and on WordNet; three seeds each, one after the other; then one Wikidata seed with the template's
# and with SmolLM2's own rationales. About five hours on 2 CPU cores.
#
#   benches/experiments.sh [WORK_DIR]          (default: bench-results/experiments)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-bench-results/experiments}
mkdir -p "$out"
scripts/setup.sh --data --test
cargo build --release --locked --bin kale
kale="$root/target/release/kale"
model="$root/.cache/models/smollm2"
[ -f "$model/model.safetensors" ] || "$kale" import-gguf "$root/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf" --out "$model"
for data in wikidata csqa arc-easy; do
    /usr/bin/time -f "%e s wall" "$kale" experiment --model "$model" --data "$data" --seeds 3 \
        --threads 2 --out "$out/smollm2-$data" --quiet
done
# The writer's effect: the same seed with the template's rationales and with SmolLM2's own
# (each question's rationale rewritten once by the base model, grounded or the template kept).
for writer in template "model:$model"; do
    name=$([ "$writer" = template ] && echo template || echo model)
    /usr/bin/time -f "%e s wall" "$kale" experiment --model "$model" --data wikidata --seeds 1 \
        --writer "$writer" --objectives ka,ka+sft --threads 2 \
        --out "$out/smollm2-wikidata-writer-$name" --quiet
done
/usr/bin/time -f "%e s wall" "$kale" experiment --seeds 3 --out "$out/world" --quiet
/usr/bin/time -f "%e s wall" "$kale" experiment --data wordnet --seeds 3 --out "$out/wordnet" --quiet
