#!/usr/bin/env bash
# The issue's scaling goal measured in one script: `kale bench load` of a smaller and a larger
# file by the same binary, alternating ROUNDS times (default 2; this machine drifts by 15%
# between runs, so the two sizes must share its moods), each into a fresh temporary store, under
# one --memory-limit. One JSON line per run in OUT/load-ratio.jsonl, then the medians and the
# larger file's rate over the smaller's (the goal: at least 0.8x from 10M to 100M triples).
#
#   benches/load_ratio.sh SMALL_FILE LARGE_FILE [MEMORY_LIMIT] [OUT]
#
# KALE=path/to/kale picks the binary (default: a release build, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
usage="usage: benches/load_ratio.sh SMALL_FILE LARGE_FILE [MEMORY_LIMIT] [OUT]"
small=$(realpath "${1:?$usage}")
large=$(realpath "${2:?$usage}")
limit=${3:-4G}
out=${4:-bench-results/load-ratio}
mkdir -p "$out"
. "$root/benches/common.sh"
kale_binary
results="$out/load-ratio.jsonl"
bench_load_alternating "$results" "${ROUNDS:-2}" "$limit" size \
    small "$kale" "$small" large "$kale" "$large"
python3 - "$results" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
medians = {}
for size in ("small", "large"):
    mine = [r for r in runs if r["size"] == size]
    medians[size] = {k: statistics.median(r[k] for r in mine)
                     for k in ("triples_per_sec", "total_triples_per_sec", "peak_rss_bytes")}
    m = medians[size]
    print(f"{size}: {mine[0]['triples']:,} triples, load {m['triples_per_sec'] / 1e3:.0f}k triples/s "
          f"to the commit, {m['total_triples_per_sec'] / 1e3:.0f}k until queryable, peak "
          f"{m['peak_rss_bytes'] / 1e6:.0f} MB (medians of {len(mine)})")
for key, what in (("triples_per_sec", "to the commit"), ("total_triples_per_sec", "until queryable")):
    print(f"large over small, {what}: {medians['large'][key] / medians['small'][key]:.2f}x")
PY
