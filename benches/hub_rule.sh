#!/usr/bin/env bash
# Before and after the hub rule (hubs met, not walked), side by side on the same stores: path
# query latency on the 10M-triple world (random and connected pairs, alternating the two
# binaries three times) and synthesis coverage on the generated world, BIG-bench's Wikidata facts
# and the benchmarks over WordNet. The "before" binary is built from OLD_REV in a worktree that
# shares this checkout's target directory, so only the workspace's own crates are rebuilt.
#
#   benches/hub_rule.sh OLD_REV [WORK_DIR]      (WORK_DIR: default bench-results/, where
#                                               scripts/bench.sh and benches/real_data.sh left
#                                               world10m.nt, kale-store, wikidata/ and wordnet.nt)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
old_rev=${1:?usage: benches/hub_rule.sh OLD_REV [WORK_DIR]}
out=${2:-bench-results}
mkdir -p "$out"
. "$root/benches/common.sh"
old="$out/kale-before"
kale_at_revision "$old_rev" "$old"
new="$root/target/release/kale"
cd "$out"
data="$root/.cache/data"

[ -f world10m.nt ] || "$new" gen world --out world10m.nt --entities 1170000 --seed 42
[ -d kale-store ] || "$new" load kale-store world10m.nt --quiet
: > hub-paths.jsonl
for round in 1 2 3; do
    for who in before after; do
        bin=$new; [ $who = before ] && bin=./kale-before
        for sample in random walk; do
            "$bin" bench paths kale-store --pairs 10000 --sample $sample --json \
                | python3 -c 'import json,sys; d=json.load(sys.stdin); d["who"]=sys.argv[1]; d["round"]=int(sys.argv[2]); d["sample"]=sys.argv[3]; print(json.dumps(d))' \
                    $who $round $sample | tee -a hub-paths.jsonl
        done
    done
done

echo "== synthesis coverage before and after" >&2
[ -f qa10k.jsonl ] || "$new" gen qa --out qa10k.jsonl --entities 1170000 --seed 42 --questions 10000
[ -d wikidata ] || "$new" gen wikidata-facts --task "$data/qa_wikidata/task.json" --out wikidata --questions 1000
[ -d wikidata-store ] || "$new" load wikidata-store wikidata/facts.nt --quiet
: > hub-synth.jsonl
for who in before after; do
    bin=$new; [ $who = before ] && bin=./kale-before
    # (The benchmarks' files are in a form the old reader did not read.)
    for pair in "kale-store qa10k.jsonl world" "wikidata-store wikidata/questions.jsonl wikidata"; do
        set -- $pair
        "$bin" synth "$1" --dataset "$2" --out "hub-synth-$3-$who.jsonl" --quiet --json-summary \
            | python3 -c 'import json,sys; d=json.load(sys.stdin); d["who"]=sys.argv[1]; d["data"]=sys.argv[2]; print(json.dumps(d))' \
                $who "$3" | tee -a hub-synth.jsonl
    done
done
echo "results in $out/hub-paths.jsonl and $out/hub-synth.jsonl" >&2
