#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up (idempotent), formatting, lints, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        command -v rustup >/dev/null && rustup component add "$component"
    fi
done
echo "[test] cargo fmt --check" >&2
cargo fmt --all -- --check
echo "[test] cargo clippy" >&2
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
echo "[test] cargo test" >&2
cargo test --workspace --all-features --locked "$@"
