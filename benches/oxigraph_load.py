"""The side-by-side bulk load: oxigraph's own loader (pyoxigraph, the same Rust engine as a
prebuilt wheel) on the file `kale bench load` measures. Prints one JSON object.

usage: .venv/bin/python benches/oxigraph_load.py FILE.nt STORE_DIR
"""
import json
import os
import resource
import sys
import time

import pyoxigraph

path, store_dir = sys.argv[1], sys.argv[2]
if os.path.exists(store_dir) and os.listdir(store_dir):
    sys.exit(f"{store_dir} is not empty: the benchmark loads into a fresh store")
store = pyoxigraph.Store(store_dir)
started = time.time()
store.bulk_load(path=path, format=pyoxigraph.RdfFormat.N_TRIPLES)
store.flush()
seconds = time.time() - started
triples = len(store)
disk = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(store_dir) for f in files)
print(json.dumps({
    "engine": f"oxigraph {pyoxigraph.__version__} (pyoxigraph bulk_load)",
    "triples": triples,
    "seconds": seconds,
    "triples_per_sec": triples / seconds,
    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "disk_bytes": disk,
    "bytes_per_triple": disk / max(triples, 1),
}, indent=2))
