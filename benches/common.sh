# Sourced by the benchmark scripts, from the repository root ($root).
# kale_binary: $kale is $KALE when set (e.g. KALE=target/debug/kale), else a release build of
# this checkout, built here; the figures of the README's tables are release builds.
kale_binary() {
    if [ -z "${KALE:-}" ]; then
        cargo build --release --locked --bin kale
        KALE="$root/target/release/kale"
    fi
    kale=$(realpath "$KALE")
}

# kale_at_revision REV OUT: the release binary of git revision REV, copied to OUT. Built in a
# worktree that shares this checkout's target directory, so only the workspace's own crates are
# rebuilt; this checkout's release binary is rebuilt after it.
kale_at_revision() {
    local rev=$1 out=$2 worktree
    worktree=$(mktemp -d)
    git worktree add -f "$worktree" "$rev" >/dev/null
    # The two checkouts' crates share artifact names in the shared target directory (cargo
    # hashes a path crate relative to its workspace): clean ours before each build so neither
    # reuses the other's.
    local ours=(-p kg-store -p kale-datasets -p kale-trainer -p kale-queries -p kale)
    (cd "$worktree" && export LIBTORCH="$root/.venv/libtorch" CARGO_TARGET_DIR="$root/target" \
        && cargo clean --release "${ours[@]}" && cargo build --release --locked --bin kale)
    cp "$root/target/release/kale" "$out"
    git worktree remove --force "$worktree"
    cargo clean --release "${ours[@]}" -p kale-experiment
    cargo build --release --locked --bin kale
}

# bench_load_alternating RESULTS ROUNDS LIMIT KEY NAME_A BIN_A FILE_A NAME_B BIN_B FILE_B: ROUNDS
# rounds of `kale bench load`, A then B, each into a fresh temporary store under --memory-limit
# LIMIT (this machine drifts by 15% between runs, so the two must share its moods). RESULTS is
# emptied, then holds one JSON report per run tagged KEY=NAME and round=N.
bench_load_alternating() {
    local results=$1 rounds=$2 limit=$3 key=$4 round side
    local names=("$5" "$8") bins=("$6" "$9") files=("$7" "${10}")
    : > "$results"
    for round in $(seq 1 "$rounds"); do
        for side in 0 1; do
            "${bins[side]}" bench load "${files[side]}" --memory-limit "$limit" --json --quiet \
                | python3 -c 'import json, sys
report = json.load(sys.stdin)
report[sys.argv[1]] = sys.argv[2]
report["round"] = int(sys.argv[3])
print(json.dumps(report))' "$key" "${names[side]}" "$round" | tee -a "$results"
        done
    done
}

# bench_paths_samples BIN STORE PREFIX: `kale bench paths` of BIN on STORE with random pairs,
# then with random-walk (connected) pairs, $PAIRS of each (default 10000); the reports go to
# PREFIX-random.json and PREFIX-walk.json.
bench_paths_samples() {
    local bin=$1 store=$2 prefix=$3 sample
    for sample in random walk; do
        "$bin" bench paths "$store" --pairs "${PAIRS:-10000}" --sample "$sample" --json \
            > "$prefix-$sample.json" 2>/dev/null
    done
}
