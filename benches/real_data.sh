#!/usr/bin/env bash
# The real-data and real-model measurements of the README: KI synthesis on BIG-bench's Wikidata
# facts and on CommonsenseQA, ARC and OpenBookQA over WordNet (coverage, partial evidence, paths
# per item, items/s, the asked path first, derived fact checks); multiple-choice scoring of
# SmolLM2-135M-Instruct against lm-evaluation-harness's convention in transformers (same items,
# alternating, CPU seconds); and a LoRA training step against PyTorch + PEFT (alternating).
#
#   benches/real_data.sh [WORK_DIR]          (default: bench-results/)
#
# Needs `scripts/setup.sh --data --bench --test` (run here) and a release build (built here).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-bench-results}
mkdir -p "$out"
scripts/setup.sh --data --bench --test
cargo build --release --locked --bin kale
kale="$root/target/release/kale"
py="$root/.venv/bin/python"
data="$root/.cache/data"
cd "$out"

echo "== KI synthesis: BIG-bench's Wikidata facts, 2-hop questions" >&2
"$kale" gen wikidata-facts --task "$data/qa_wikidata/task.json" --out wikidata --questions 1000
rm -rf wikidata-store
"$kale" load wikidata-store wikidata/facts.nt --quiet
"$kale" synth wikidata-store --dataset wikidata/questions.jsonl --out wikidata-synth.jsonl \
    --quiet --json-summary | tee synth-wikidata.json

echo "== rationales written by SmolLM2 for 200 of those questions (--writer model:)" >&2
model="$root/.cache/models/smollm2"
[ -f "$model/model.safetensors" ] || "$kale" import-gguf "$root/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf" --out "$model"
head -200 wikidata/questions.jsonl > wikidata-200.jsonl
rm -rf wikidata-writer-cache
"$kale" synth wikidata-store --dataset wikidata-200.jsonl --out wikidata-writer.jsonl \
    --writer "model:$model" --writer-cache wikidata-writer-cache --quiet --json-summary \
    | tee synth-wikidata-writer.json

echo "== KI synthesis: the benchmarks over WordNet" >&2
[ -f wordnet.nt ] || "$kale" gen wordnet --out wordnet.nt
rm -rf wordnet-store
"$kale" load wordnet-store wordnet.nt --quiet
for b in csqa arc-easy arc-challenge obqa; do
    "$kale" synth wordnet-store --dataset "$data/$b.jsonl" --out "synth-$b.jsonl" \
        --fact-checks "synth-$b.facts.jsonl" --quiet --json-summary | tee "synth-$b.json"
done

echo "== scoring SmolLM2 on 40 ARC-Easy items: kale, then the harness convention in transformers" >&2
head -40 "$data/arc-easy.jsonl" > arc-easy-40.jsonl
: > eval-speed.jsonl
for round in 1 2 3; do
    /usr/bin/time -f '{"who": "kale", "round": '"$round"', "wall": %e, "cpu": %U, "sys": %S, "rss_kb": %M}' \
        -a -o eval-speed.jsonl "$kale" eval --model "$model" --data arc-easy-40.jsonl --prompt cloze \
        --threads 2 --json > "eval-kale-$round.json"
    /usr/bin/time -f '{"who": "transformers", "round": '"$round"', "wall": %e, "cpu": %U, "sys": %S, "rss_kb": %M}' \
        -a -o eval-speed.jsonl "$py" "$root/benches/harness_scorer.py" "$model" arc-easy-40.jsonl \
        --format cloze --threads 2 > "eval-harness-$round.json"
done
cat eval-speed.jsonl

echo "== a LoRA step on SmolLM2: kale, then PyTorch + PEFT (alternating)" >&2
shape=(--batch 8 --prompt 64 --answer 8 --rationale 48 --steps 12 --warmup 4 --threads 2)
for round in 1 2 3; do
    "$kale" bench train --model "$model" --lora-r 16 "${shape[@]}" --quiet --json | tee "train-lora-kale-$round.json"
    "$py" "$root/benches/pytorch_train.py" --model "$model" --lora-r 16 "${shape[@]}" 2>/dev/null \
        | tee "train-lora-pytorch-$round.json"
done
echo "results in $out/" >&2
