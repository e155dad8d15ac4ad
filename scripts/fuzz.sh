#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside input with AFL++ (cargo-afl, stable Rust):
# the targets of fuzz/src/lib.rs, seeded from fuzz/corpus/TARGET/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default: 600 s each, every target, in turn)
#   JOBS=2 scripts/fuzz.sh 600                (two targets at a time, one core each)
#
# Installs cargo-afl (which builds AFL++ from its crate) when missing and builds fuzz/afl
# instrumented in its own target directory (the first build compiles RocksDB's C++ again).
# Findings land in fuzz/out/TARGET/default/{crashes,hangs}; fix each, then copy it into
# fuzz/regressions/TARGET/, which the test suite replays (fuzz/tests/regressions.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(load csr gguf model_config qa sparql http)
fi
scripts/setup.sh --test
if ! cargo afl --version >/dev/null 2>&1; then
    cargo install cargo-afl --locked
fi
# AFL++ itself, built once into cargo-afl's data directory.
cargo afl config --build >/dev/null 2>&1 || true
# RocksDB's C++ is not instrumented (cargo-afl instruments Rust code): link the static library a
# build of the workspace already compiled (the test suite's or the release binary's) instead of
# compiling it again, which takes half an hour on two cores.
prebuilt=$(ls -t target/*/build/librocksdb-sys-*/out/librocksdb.a 2>/dev/null | head -1 || true)
if [ -n "$prebuilt" ]; then
    export ROCKSDB_LIB_DIR="$root/$(dirname "$prebuilt")" ROCKSDB_STATIC=1
fi
(cd fuzz/afl && cargo afl build --release --locked)
binary="$root/fuzz/afl/target/release/fuzz"
# A container has no core-dump helper or CPU governor to set: tell AFL so instead of failing.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
# The store-backed targets build their fixture store once per process in a temporary
# directory, and AFL's children exit without removing it: keep them all in one place, emptied
# when the campaign ends.
export TMPDIR="$root/fuzz/out/tmp"
mkdir -p "$TMPDIR"
trap 'rm -rf "$TMPDIR"' EXIT
run() {
    local target=$1
    mkdir -p "fuzz/out/$target"
    echo "[fuzz] $target for $seconds s" >&2
    # -t: a run past 2 s is a hang (the store-backed targets open RocksDB each run).
    cargo afl fuzz -i "fuzz/corpus/$target" -o "fuzz/out/$target" -V "$seconds" -t 2000 \
        -- "$binary" "$target" > "fuzz/out/$target.log" 2>&1 || true
    local stats="fuzz/out/$target/default/fuzzer_stats"
    if [ -f "$stats" ]; then
        awk -F' *: *' '/^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg)/ { printf "%s=%s ", $1, $2 }' "$stats"
        echo "($target)"
    else
        echo "$target: no stats; see fuzz/out/$target.log" >&2
        tail -20 "fuzz/out/$target.log" >&2
    fi
}
jobs=${JOBS:-1}
for target in "${targets[@]}"; do
    run "$target" &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n
    done
done
wait
