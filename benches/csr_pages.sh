#!/usr/bin/env bash
# Path latency against the page-cache state `kale index` leaves the adjacency in: BIN_A and
# BIN_B each rebuild the adjacency of STORE in turn (ROUNDS rounds, alternating, since this
# machine drifts by 15% between runs), and after each build one binary, QUERY (default BIN_B),
# runs `kale bench paths` on random and random-walk pairs. Only how the build wrote the file
# differs, so the difference is the page cache's: how much of the CSR the kernel maps with huge
# pages (`csr_huge_mapped_bytes` in the report), which decides the TLB misses of random reads.
#
# usage: benches/csr_pages.sh STORE BIN_A BIN_B [ROUNDS] [OUT]    (PAIRS: pairs per run, 10000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
store=${1:?usage: benches/csr_pages.sh STORE BIN_A BIN_B [ROUNDS] [OUT]}
bins=("$(realpath "${2:?BIN_A}")" "$(realpath "${3:?BIN_B}")")
rounds=${4:-2}
out=${5:-$root/bench-results/csr-pages}
query=$(realpath "${QUERY:-${bins[1]}}")
mkdir -p "$out"
. "$root/benches/common.sh"
for round in $(seq 1 "$rounds"); do
    for side in 0 1; do
        name=$([ "$side" = 0 ] && echo a || echo b)
        "${bins[$side]}" index "$store" > "$out/index-$name-$round.log" 2>&1
        bench_paths_samples "$query" "$store" "$out/paths-$name-$round"
    done
done
python3 - "$out" "$rounds" <<'PY'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
print(f"{'build':5} {'round':5} {'pairs':6} {'p50 us':>7} {'p90 us':>7} {'p99 us':>7} {'huge MB':>8} {'of MB':>7}")
for r in range(1, rounds + 1):
    for name in "ab":
        for sample in ("random", "walk"):
            d = json.load(open(f"{out}/paths-{name}-{r}-{sample}.json"))
            huge = d.get("csr_huge_mapped_bytes")
            huge = "?" if huge is None else f"{huge / 1e6:.0f}"
            print(f"{name:5} {r:<5} {sample:6} {d['p50_us']:7.1f} {d['p90_us']:7.1f} {d['p99_us']:7.1f} {huge:>8} {d['csr_bytes'] / 1e6:7.0f}")
PY
