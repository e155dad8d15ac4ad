#!/usr/bin/env bash
# Where a load's reading phase spends its CPU, per million triples, so two sizes (or two memory
# limits) can be compared symbol by symbol: `perf record` of `kale bench load FILE` (a fresh
# temporary store), the reading phase's window taken from the loader's phase log, and the
# samples of that window counted per symbol and divided by the millions of triples read. The
# first line is the total and the share of the two cores' time the samples cover (the rest is
# idle: the pipeline waiting).
#
#   benches/load_profile.sh FILE [MEMORY_LIMIT] [OUT]
#
# Needs `perf` (Debian's linux-perf) and kernel.perf_event_paranoid <= 2; samples at 199 Hz.
# KALE=path/to/kale picks the binary (default: a release build, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
usage="usage: benches/load_profile.sh FILE [MEMORY_LIMIT] [OUT]"
file=$(realpath "${1:?$usage}")
limit=${2:-4G}
out=${3:-bench-results/load-profile}
mkdir -p "$out"
command -v perf >/dev/null || { echo "load_profile.sh: needs perf (apt-get install linux-perf)" >&2; exit 2; }
. "$root/benches/common.sh"
kale_binary
name=$(basename "$file" .nt)-$limit
perf record -q -F 199 -o "$out/$name.perf" \
    "$kale" bench load "$file" --memory-limit "$limit" --json >"$out/$name.json" 2>"$out/$name.log"
perf script -i "$out/$name.perf" -F time,ip,sym 2>/dev/null >"$out/$name.samples"
# The phase log rewrites its line with carriage returns; the last "reading: ... in Ns" is the
# phase's length.
reading=$(tr '\r' '\n' <"$out/$name.log" | sed -n 's/^reading: .* in \([0-9.]*\)s$/\1/p' | tail -1)
triples=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["triples"])' "$out/$name.json")
echo "$file under --memory-limit $limit: reading took ${reading}s; samples per million triples:"
# The window starts 0.3 s in, past the binary's start-up.
awk -v end="$reading" -v triples="$triples" '
    BEGIN { millions = triples / 1e6 }
    { t = $1; sub(":", "", t); if (start == "") start = t; d = t - start
      if (d > 0.3 && d < end) { n++; count[$3]++ } }
    END {
        for (s in count) if (count[s] / millions >= 1) printf "%8.1f  %s\n", count[s] / millions, s
        printf "%8.1f  TOTAL (%.0f%% of two cores)\n", n / millions, 100 * n / ((end - 0.3) * 199 * 2)
    }' "$out/$name.samples" | sort -k1,1nr | sed 's/^/  /'
