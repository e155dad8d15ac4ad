"""The side-by-side table of benches/sparql_side_by_side.sh: per query, the median over the rounds
of each engine's medians, and kale's speed-up (oxigraph's time over kale's); then the same for
the first run of each round (a fresh process each: block cache and kale's term cache cold).
Checks that both engines returned the same number of rows. Prints a Markdown table.

usage: benches/sparql_compare.py OUT_DIR ROUNDS
"""
import json
import statistics
import sys

out, rounds = sys.argv[1], int(sys.argv[2])


def timings(engine):
    runs = [json.load(open(f"{out}/{engine}-{r}.json"))["queries"] for r in range(1, rounds + 1)]
    return {
        q["query"]: (
            statistics.median(run[i]["median_ms"] for run in runs),
            statistics.median(run[i].get("first_ms", float("nan")) for run in runs),
            q["rows"],
        )
        for i, q in enumerate(runs[0])
    }


kale, oxigraph = timings("kale"), timings("oxigraph")
print("| query | rows | kale ms | oxigraph ms | kale speed-up | first run: kale ms | oxigraph ms | speed-up |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
mismatched = []
for name, (o, o_first, oxi_rows) in oxigraph.items():
    k, k_first, kale_rows = kale[name]
    if kale_rows != oxi_rows:
        mismatched.append(f"{name}: kale {kale_rows} rows, oxigraph {oxi_rows}")
    print(
        f"| {name} | {kale_rows} | {k:.3f} | {o:.3f} | {o / k:.2f}x "
        f"| {k_first:.3f} | {o_first:.3f} | {o_first / k_first:.2f}x |"
    )
if mismatched:
    sys.exit("row counts differ: " + "; ".join(mismatched))
