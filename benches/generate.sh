#!/usr/bin/env bash
# Generation speed side by side: `kale bench generate` and transformers' `generate`
# (benches/transformers_generate.py) on the same model, prompts and thread count, alternating
# ROUNDS times (this machine drifts between runs), then one table of the medians over rounds
# and whether the two generated the same greedy tokens.
#
#   benches/generate.sh MODEL_DIR [OUT_DIR] [ROUNDS]    (default: bench-results/generate, 2)
#
# Extra settings go through the environment: KALE=path/to/kale (default: a release build, made
# here), BATCHES=1,8 CACHE=on,off RUNS=3 UNCACHED_RUNS=1 THREADS=2 PROMPT=200 NEW=64.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
model=${1:?usage: benches/generate.sh MODEL_DIR [OUT_DIR] [ROUNDS]}
out=${2:-bench-results/generate}
rounds=${3:-2}
mkdir -p "$out"
py="$root/.venv/bin/python"
if [ -z "${KALE:-}" ]; then
    cargo build --release --locked --bin kale
    KALE="$root/target/release/kale"
fi
settings=(--batches "${BATCHES:-1,8}" --cache "${CACHE:-on,off}" --runs "${RUNS:-3}"
    --uncached-runs "${UNCACHED_RUNS:-1}" --threads "${THREADS:-2}")
for round in $(seq 1 "$rounds"); do
    echo "== round $round of $rounds: kale" >&2
    "$KALE" bench generate --model "$model" --prompt "${PROMPT:-200}" --new-tokens "${NEW:-64}" \
        "${settings[@]}" --save-prompts "$out/prompts.json" --json >"$out/kale-$round.json"
    echo "== round $round of $rounds: transformers" >&2
    "$py" benches/transformers_generate.py "$model" "$out/prompts.json" "${settings[@]}" \
        >"$out/transformers-$round.json"
done
"$py" - "$out" "$rounds" <<'PY' | tee "$out/summary.txt"
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def load(name):
    return [json.load(open(f"{out}/{name}-{r}.json")) for r in range(1, rounds + 1)]
kale, hf = load("kale"), load("transformers")
first = kale[0]
print(f"{first['new_tokens']} new tokens after a {first['prompt']}-token prompt, {first['threads']} threads, "
      f"median over {rounds} rounds; transformers {hf[0]['transformers']}, torch {hf[0]['torch']}")
print(f"{'batch':>5} {'cache':>5} {'kale tok/s':>11} {'transformers tok/s':>19} {'ratio':>6}  same tokens")
for i, run in enumerate(first["runs"]):
    ours = statistics.median(k["runs"][i]["tokens_per_sec"] for k in kale)
    theirs = statistics.median(h["runs"][i]["tokens_per_sec"] for h in hf)
    same = all(k["runs"][i]["first_tokens"] == h["runs"][i]["first_tokens"] for k, h in zip(kale, hf))
    print(f"{run['batch']:>5} {'on' if run['kv_cache'] else 'off':>5} {ours:>11.1f} {theirs:>19.1f} "
          f"{ours / theirs:>6.2f}  {'yes' if same else 'NO'}")
PY
