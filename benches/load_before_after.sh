#!/usr/bin/env bash
# A loader change measured side by side: `kale bench load` of one file by the release binary of
# OLD_REV and by this checkout's, alternating ROUNDS times (default 3; this machine drifts by
# 15% between runs), each into a fresh temporary store, under one --memory-limit. One JSON line
# per run in OUT/load-before-after.jsonl, then the medians.
#
#   benches/load_before_after.sh OLD_REV FILE [MEMORY_LIMIT] [OUT]
#
# OLD_KALE=PATH uses a binary already built at OLD_REV instead of building it. MEMORY_LIMIT
# defaults to the loader's own default (4G); a smaller one makes a 10M-triple file spill its
# term map as a much larger one would under the default: since the term map's share became half
# of what the limit leaves beside the binary's 125 MB (ae6d807), about 200M for the world of
# 1.17M entities (440M does not spill it; `kale load` says when the map spilled).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
old_rev=${1:?usage: benches/load_before_after.sh OLD_REV FILE [MEMORY_LIMIT] [OUT]}
file=$(realpath "${2:?usage: benches/load_before_after.sh OLD_REV FILE [MEMORY_LIMIT] [OUT]}")
limit=${3:-4G}
out=${4:-bench-results/load-before-after}
mkdir -p "$out"
. "$root/benches/common.sh"
old=${OLD_KALE:-}
if [ -z "$old" ]; then
    old="$out/kale-$old_rev"
    kale_at_revision "$old_rev" "$old"
else
    cargo build --release --locked --bin kale
fi
new="$root/target/release/kale"
results="$out/load-before-after.jsonl"
bench_load_alternating "$results" "${ROUNDS:-3}" "$limit" who \
    before "$old" "$file" after "$new" "$file"
python3 - "$results" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
for who in ("before", "after"):
    mine = [r for r in runs if r["who"] == who]
    print(f"{who}: load {statistics.median(r['triples_per_sec'] for r in mine) / 1e3:.0f}k triples/s "
          f"to the commit, {statistics.median(r['total_triples_per_sec'] for r in mine) / 1e3:.0f}k "
          f"until queryable, peak {statistics.median(r['peak_rss_bytes'] for r in mine) / 1e6:.0f} MB "
          f"(medians of {len(mine)})")
PY
