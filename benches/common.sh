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
