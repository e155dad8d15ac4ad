"""The side-by-side path question: for the entity pairs `kale bench paths --save-pairs` wrote,
ask oxigraph "how are these two connected in 1 to 3 forward hops?" as a SPARQL UNION of the 1-,
2- and 3-hop patterns, time each query, and compare the answers with `kale paths --forward-only`
on a sample (the same simple paths: no node twice, no target in the middle, no hub cap).

usage: .venv/bin/python benches/oxigraph_paths.py OXIGRAPH_STORE PAIRS.tsv [--check KALE_BIN KALE_STORE N]
"""
import json
import statistics
import subprocess
import sys
import time

import pyoxigraph

store = pyoxigraph.Store.read_only(sys.argv[1])
pairs = [line.rstrip("\n").split("\t") for line in open(sys.argv[2]) if line.strip()]

QUERY = """SELECT ?p1 ?x ?p2 ?y ?p3 WHERE {{
  {{ <{a}> ?p1 <{b}> }}
  UNION {{ <{a}> ?p1 ?x . ?x ?p2 <{b}> . FILTER(isIRI(?x) && ?x != <{a}> && ?x != <{b}>) }}
  UNION {{ <{a}> ?p1 ?x . ?x ?p2 ?y . ?y ?p3 <{b}> .
           FILTER(isIRI(?x) && isIRI(?y) && ?x != <{a}> && ?x != <{b}> && ?y != <{a}> && ?y != <{b}> && ?x != ?y) }}
}}"""


def paths_of(a, b):
    """The answer as a set of paths, each a tuple of (s, p, o) hops."""
    out = set()
    for row in store.query(QUERY.format(a=a, b=b)):
        p1, x, p2, y, p3 = (row[i] for i in range(5))
        if x is None:
            out.add(((a, p1.value, b),))
        elif y is None:
            out.add(((a, p1.value, x.value), (x.value, p2.value, b)))
        else:
            out.add(((a, p1.value, x.value), (x.value, p2.value, y.value), (y.value, p3.value, b)))
    return out


latencies = []
found = 0
for a, b in pairs:
    started = time.perf_counter()
    found += len(paths_of(a, b))
    latencies.append((time.perf_counter() - started) * 1e6)
latencies.sort()
pct = lambda p: latencies[round((len(latencies) - 1) * p)]
report = {
    "engine": f"oxigraph {pyoxigraph.__version__}",
    "pairs": len(pairs),
    "p50_us": pct(0.5),
    "p90_us": pct(0.9),
    "p99_us": pct(0.99),
    "paths_found": found,
}

if "--check" in sys.argv:
    i = sys.argv.index("--check")
    kale, kale_store, sample = sys.argv[i + 1], sys.argv[i + 2], int(sys.argv[i + 3])
    agree = 0
    checked = pairs[:sample]
    for a, b in checked:
        out = subprocess.run(
            [kale, "paths", kale_store, "--from", a, "--to", b, "--forward-only", "--max-degree", "0",
             "--limit", "100000", "--json", "--quiet"],
            capture_output=True, text=True, check=True)
        ours = {tuple((h["s"], h["p"], h["o"]) for h in p["hops"]) for p in json.loads(out.stdout)["paths"]}
        theirs = paths_of(a, b)
        if ours == theirs:
            agree += 1
        else:
            print(f"DIFFER {a} -> {b}: kale {len(ours)} paths, oxigraph {len(theirs)}", file=sys.stderr)
    report["answers_checked"] = len(checked)
    report["answers_agree"] = agree

print(json.dumps(report, indent=2))
