#!/usr/bin/env bash
# Where a load's memory goes: `kale load` of FILE into a fresh temporary store under one
# --memory-limit, its resident set sampled every PERIOD seconds (default 0.25) beside the
# loader's phase log. Prints the peak of each phase (reading; sorting, writing the indexes and
# the commit; the adjacency and label index built after it) and leaves OUT/NAME.rss (one line
# per sample: seconds since the start, then VmRSS, RssAnon and RssFile in kB) and OUT/NAME.log.
# `kale bench load` reports the whole load's peak (VmHWM); this says which phase holds it.
#
#   benches/rss_trace.sh FILE [MEMORY_LIMIT] [OUT]
#
# KALE=path/to/kale picks the binary (default: a release build, built here); PERIOD=0.5 samples
# less often (a sample costs a few milliseconds of one core).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
usage="usage: benches/rss_trace.sh FILE [MEMORY_LIMIT] [OUT]"
file=$(realpath "${1:?$usage}")
limit=${2:-4G}
out=${3:-bench-results/rss-trace}
period=${PERIOD:-0.25}
mkdir -p "$out"
. "$root/benches/common.sh"
kale_binary
name=$(basename "$file" .nt)-$limit
store=$(mktemp -d)/store
trap 'rm -rf "$(dirname "$store")"' EXIT
: >"$out/$name.rss"
"$kale" load "$store" "$file" --memory-limit "$limit" >"$out/$name.log" 2>&1 &
pid=$!
start=$(date +%s.%N)
while kill -0 "$pid" 2>/dev/null; do
    fields=$(awk '/^(VmRSS|RssAnon|RssFile):/ { printf " %s", $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$fields" ] && echo "$(echo "$(date +%s.%N) - $start" | bc)$fields" >>"$out/$name.rss"
    sleep "$period"
done
wait "$pid" || { echo "rss_trace.sh: kale load failed, see $out/$name.log" >&2; exit 1; }
# The phase log rewrites its lines with carriage returns; each phase's last line has its length.
phases=$(tr '\r' '\n' <"$out/$name.log" | sed -n 's/^\([a-z -]*\): .* in \([0-9.]*\)s$/\1=\2/p' | awk -F= '{ last[$1] = $2 } END { for (p in last) print p "=" last[p] }')
seconds() { local s; s=$(echo "$phases" | sed -n "s/^$1=//p" | head -1); echo "${s:-0}"; }
reading=$(seconds reading)
written=$(echo "$reading + $(seconds sorting) + $(seconds 'writing indexes') + $(seconds committing)" | bc)
tr '\r' '\n' <"$out/$name.log" | grep '^loaded' || true
awk -v r="$reading" -v w="$written" '
    { phase = ($1 < r) ? 1 : ($1 < w) ? 2 : 3
      if ($2 > peak[phase]) { peak[phase] = $2; at[phase] = $1 }
      if ($2 > all) all = $2 }
    END {
        split("reading|sorting, writing the indexes, committing|indexes after the commit", name, "|")
        for (p = 1; p <= 3; p++) if (p in peak)
            printf "%-40s peak %6.0f MB at %.1f s\n", name[p], peak[p] / 1024 * 1.048576, at[p]
        printf "%-40s peak %6.0f MB\n", "the whole load", all / 1024 * 1.048576
    }' "$out/$name.rss"
