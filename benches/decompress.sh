#!/usr/bin/env bash
# Which way to feed a compressed dump to `kale load`: each decompressor's throughput alone
# (to /dev/null), and the load of the same N-Triples file plain, through kale's built-in
# decompression (.gz, .bz2, .zst by name) and piped from the parallel tools (`pigz -dc`,
# `lbzip2 -dc`, `zstd -dc` into `kale load STORE - --format nt`). One JSON line per run.
#
#   benches/decompress.sh [FILE.nt] [OUT_DIR]   (default: the 10M world of benches/scale.sh,
#                                                bench-results/decompress)
#
# Compressed copies are made once (pigz -6, lbzip2 -9, zstd -3) and kept in OUT_DIR. KALE picks
# the binary (default: a release build, built here). pigz, lbzip2 and zstd come from
# `scripts/setup.sh --bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
nt=$(realpath "${1:-bench-results/scale/world-1170000.nt}")
out=${2:-bench-results/decompress}
. "$root/benches/common.sh"
kale_binary
mkdir -p "$out"
cd "$out"
base=$(basename "$nt")
bytes=$(stat -c %s "$nt")
[ -f "$base.gz" ] || pigz -6 -c "$nt" > "$base.gz"
[ -f "$base.bz2" ] || lbzip2 -9 -c "$nt" > "$base.bz2"
[ -f "$base.zst" ] || zstd -q -3 -T0 -c "$nt" > "$base.zst"
now() { date +%s.%N; }
report() { # KIND TOOL SECONDS
    awk -v kind="$1" -v tool="$2" -v s="$3" -v b="$bytes" \
        'BEGIN { printf "{\"kind\": \"%s\", \"how\": \"%s\", \"seconds\": %.2f, \"uncompressed_mb_per_sec\": %.1f}\n", kind, tool, s, b / s / 1e6 }' \
        | tee -a results.jsonl
}
: > results.jsonl
for tool in "gzip -dc $base.gz" "pigz -dc $base.gz" "bzip2 -dc $base.bz2" "lbzip2 -dc $base.bz2" \
    "zstd -dc $base.zst" "cat $nt"; do
    started=$(now)
    $tool > /dev/null
    report decompress "$tool" "$(awk "BEGIN { print $(now) - $started }")"
done
load() { # HOW, then the command that loads into ./store
    local how=$1
    shift
    rm -rf store
    started=$(now)
    "$@"
    report load "$how" "$(awk "BEGIN { print $(now) - $started }")"
}
load "kale load FILE.nt" "$kale" load store "$nt" --quiet
load "kale load FILE.nt.gz (built in)" "$kale" load store "$base.gz" --quiet
load "pigz -dc | kale load -" bash -c "pigz -dc $base.gz | $kale load store - --format nt --quiet"
load "kale load FILE.nt.bz2 (built in)" "$kale" load store "$base.bz2" --quiet
load "lbzip2 -dc | kale load -" bash -c "lbzip2 -dc $base.bz2 | $kale load store - --format nt --quiet"
load "kale load FILE.nt.zst (built in)" "$kale" load store "$base.zst" --quiet
load "zstd -dc | kale load -" bash -c "zstd -dc $base.zst | $kale load store - --format nt --quiet"
rm -rf store
echo "results in $out/results.jsonl" >&2
