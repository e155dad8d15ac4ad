"""The SPARQL query set on oxigraph (pyoxigraph): median of RUNS timings after a warm-up (whose
time is kept as first_ms: caches cold in a fresh process), per .rq file (the path service, which oxigraph lacks, is skipped). Prints one JSON object.

usage: .venv/bin/python benches/oxigraph_sparql.py OXIGRAPH_STORE QUERIES_DIR [RUNS]
"""
import json
import os
import statistics
import sys
import time

import pyoxigraph

store = pyoxigraph.Store.read_only(sys.argv[1])
directory = sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
report = []
for name in sorted(f for f in os.listdir(directory) if f.endswith(".rq")):
    text = open(os.path.join(directory, name)).read()
    if "urn:kale:paths" in text:
        continue

    def run():
        results = store.query(text)
        if isinstance(results, bool):
            return 1
        return sum(1 for _ in results)

    started = time.perf_counter()
    rows = run()
    first_ms = (time.perf_counter() - started) * 1e3
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = run()
        times.append((time.perf_counter() - started) * 1e3)
    report.append({"query": name, "median_ms": statistics.median(times), "first_ms": first_ms, "rows": rows})
print(json.dumps({"engine": f"oxigraph {pyoxigraph.__version__}", "queries": report}, indent=2))
