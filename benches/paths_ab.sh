#!/usr/bin/env bash
# Path-search latency of two builds on stores as they are: for each round (ROUNDS, default 3),
# for each STORE in turn, BIN_A then BIN_B run `kale bench paths` on random and random-walk
# pairs. Alternating, since this machine drifts by 15% between runs; several stores in one run
# show how latency grows with size under the same drift. Nothing is rebuilt, so only the search
# code differs; for changes to how the adjacency is written, see csr_pages.sh.
#
# usage: benches/paths_ab.sh BIN_A BIN_B STORE...   (env: ROUNDS=3, PAIRS=10000,
#        OUT=bench-results/paths-ab)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: benches/paths_ab.sh BIN_A BIN_B STORE..."
bins=("$(realpath "${1:?$usage}")" "$(realpath "${2:?$usage}")")
shift 2
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
stores=("$@")
rounds=${ROUNDS:-3}
out=${OUT:-$root/bench-results/paths-ab}
mkdir -p "$out"
. "$root/benches/common.sh"
for round in $(seq 1 "$rounds"); do
    for s in "${!stores[@]}"; do
        for side in 0 1; do
            name=$([ "$side" = 0 ] && echo a || echo b)
            bench_paths_samples "${bins[$side]}" "${stores[$s]}" "$out/paths-$s-$name-$round"
        done
    done
done
python3 - "$out" "$rounds" "${stores[@]}" <<'PY'
import json, statistics, sys
out, rounds, stores = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print(f"{'store':28} {'build':5} {'pairs':6} {'p50 us':>18} {'p99 us':>16} {'pairs/s':>8} {'expansions':>10}")
for s, store in enumerate(stores):
    for sample in ("random", "walk"):
        runs = {n: [json.load(open(f"{out}/paths-{s}-{n}-{r}-{sample}.json")) for r in range(1, rounds + 1)] for n in "ab"}
        for name, rs in runs.items():
            p50 = ", ".join(f"{d['p50_us']:.1f}" for d in rs)
            p99 = ", ".join(f"{d['p99_us']:.0f}" for d in rs)
            rate = statistics.median(d["pairs_per_sec"] for d in rs)
            print(f"{store[-28:]:28} {name:5} {sample:6} {p50:>18} {p99:>16} {rate:8.0f} {rs[0]['mean_expansions']:10.1f}")
        # The two builds must find the same paths: a speed-up that changes answers is a bug.
        if {d["paths_found"] for d in runs["a"] + runs["b"]} != {runs["a"][0]["paths_found"]}:
            sys.exit(f"{store} {sample}: the builds found different paths")
PY
