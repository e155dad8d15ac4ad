#!/usr/bin/env bash
# `kale serve` under load, with wrk on loopback: 64 concurrent clients for DURATION seconds (32
# label lookups, 16 star joins, 16 path-service calls, each kind its own wrk so each gets its own
# latency figures), at 1, 2 and 4 query slots (--threads), then at the default 4 with and
# without 32 slow clients (benches/serve/slow_clients.py: a byte a second, in the headers or the
# body), alternating twice, since this machine drifts between runs. One JSON line per kind and
# run in OUT/serve-load.jsonl.
#
#   benches/serve_load.sh [STORE] [OUT]     (default bench-results/scale/kale-10, made by
#                                            benches/scale.sh, and bench-results/serve)
#
# ENTITIES (the world's entity count, default 1170000 for the 10M world), DURATION (default 60),
# RUNS (THREADS:SLOW_CLIENTS pairs, default "1:0 2:0 4:0 4:32 4:0 4:32") and KALE (the binary;
# default a release build, built here) can be set. wrk comes from
# `scripts/setup.sh --bench`. The load generator shares the machine with the server, so on a
# small machine the figures are the pair's, not the server's alone.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
store=$(realpath "${1:-bench-results/scale/kale-10}")
out=${2:-bench-results/serve}
entities=${ENTITIES:-1170000}
duration=${DURATION:-60}
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/setup.sh --bench" >&2; exit 1; }
[ -d "$store" ] || { echo "no store at $store: run benches/scale.sh first, or name one" >&2; exit 1; }
. "$root/benches/common.sh"
kale_binary
mkdir -p "$out"
results="$out/serve-load.jsonl"
: > "$results"

run() { # THREADS SLOW_CLIENTS
    local threads=$1 slow=$2 log="$out/serve-$1-$2.log"
    "$kale" serve "$store" --bind 127.0.0.1:0 --threads "$threads" > "$log" 2>&1 &
    local server=$!
    local url=""
    for _ in $(seq 1 600); do
        url=$(sed -n 's/^listening on //p' "$log")
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || { echo "kale serve did not start: $(cat "$log")" >&2; kill $server; exit 1; }
    local base=${url%/query} slow_pid=""
    if [ "$slow" -gt 0 ]; then
        "$root/.venv/bin/python" "$root/benches/serve/slow_clients.py" "${base#http://}" "$slow" \
            > "$out/slow-$threads.json" &
        slow_pid=$!
        sleep 2
    fi
    echo "== --threads $threads, $slow slow clients: ${duration}s of 64 clients" >&2
    local pids=()
    for spec in lookup:32 star:16 paths:16; do
        local kind=${spec%:*} clients=${spec#*:}
        wrk -t1 -c"$clients" -d"${duration}s" --timeout 10s -s "$root/benches/serve/mix.lua" \
            "$url" -- "$kind" "$entities" > "$out/wrk-$kind-$threads-$slow.txt" &
        pids+=($!)
    done
    wait "${pids[@]}"
    if [ -n "$slow_pid" ]; then kill -TERM "$slow_pid"; wait "$slow_pid" || true; fi
    local rss
    rss=$(awk '/VmHWM/ { print $2 * 1024 }' "/proc/$server/status")
    kill "$server"; wait "$server" 2>/dev/null || true
    for kind in lookup star paths; do
        grep '^{' "$out/wrk-$kind-$threads-$slow.txt" \
            | sed "s/^{/{\"kind\": \"$kind\", \"threads\": $threads, \"slow_clients\": $slow, \"server_peak_rss_bytes\": $rss, /" \
            | tee -a "$results"
    done
}

for pair in ${RUNS:-1:0 2:0 4:0 4:32 4:0 4:32}; do
    run "${pair%:*}" "${pair#*:}"
done
echo "results in $results" >&2
