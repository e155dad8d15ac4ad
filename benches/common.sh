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

# bench_load_line BIN FILE LIMIT RESULTS KEY=VALUE...: one `kale bench load` of FILE by BIN into a
# fresh temporary store under --memory-limit LIMIT, its JSON report appended to RESULTS as one
# line with the KEY=VALUE tags added (values that read as integers become numbers), and echoed.
bench_load_line() {
    local bin=$1 file=$2 limit=$3 results=$4
    shift 4
    "$bin" bench load "$file" --memory-limit "$limit" --json --quiet \
        | python3 -c '
import json, sys
report = json.load(sys.stdin)
for tag in sys.argv[1:]:
    key, value = tag.split("=", 1)
    report[key] = int(value) if value.isdigit() else value
print(json.dumps(report))' "$@" | tee -a "$results"
}
