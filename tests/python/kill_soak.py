"""Kills `kale serve --allow-update` with SIGKILL at random moments while a client commits
numbered updates and another reads, and checks after every restart that nothing acknowledged
was lost and nothing is half there. Exits non-zero (with the reason) on any violation; prints a
JSON summary line.

Each update `n` inserts two triples in one request: `<urn:soak:e{n}> <urn:soak:n> n` and the
edge `<urn:soak:e{n}> <urn:soak:next> <urn:soak:e{n+1}>`. After each kill and restart:
- every update the server acknowledged (200) is there, both triples;
- every update is there whole or not at all (the one in flight when the kill came may be
  either);
- the path service finds the edge of the newest acknowledged update (paths agree with triples).
While it runs a reader asks for both counts in one query: they must always be equal, since a
query reads one snapshot and an update commits atomically.

usage: kill_soak.py KALE STORE [--kills N] [--seed S]
"""
import argparse
import json
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("kale")
parser.add_argument("store")
parser.add_argument("--kills", type=int, default=200)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()
rng = random.Random(args.seed)


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def start():
    server = subprocess.Popen(
        [args.kale, "serve", args.store, "--allow-update", "--bind", "127.0.0.1:0", "--threads", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = server.stdout.readline()
    if not line.startswith("listening on "):
        server.kill()
        fail(f"the server did not start after a kill: {line!r} {server.stderr.read()}")
    return server, line.split()[-1]


def post(url, body, content_type, timeout=30):
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"Content-Type": content_type, "Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return reply.status, reply.read().decode()


def select(url, query):
    status, text = post(url, query, "application/sparql-query")
    return json.loads(text)["results"]["bindings"]


def update(url, n):
    text = (
        f"INSERT DATA {{ <urn:soak:e{n}> <urn:soak:n> {n} . "
        f"<urn:soak:e{n}> <urn:soak:next> <urn:soak:e{n + 1}> . }}"
    )
    status, _ = post(url.replace("/query", "/update"), text, "application/sparql-update")
    return status == 200


def numbers(url):
    rows = select(url, "SELECT ?n WHERE { ?e <urn:soak:n> ?n }")
    counted = {int(r["n"]["value"]) for r in rows}
    rows = select(url, "SELECT ?e WHERE { ?e <urn:soak:next> ?x }")
    edged = {int(r["e"]["value"].removeprefix("urn:soak:e")) for r in rows}
    return counted, edged


acknowledged = set()
in_flight = set()
next_n = 0
torn_reads = []
refused = []
reads = 0
totals = {"kills": 0, "acknowledged": 0, "in_flight_committed": 0, "in_flight_lost": 0}

for round_ in range(args.kills + 1):
    server, url = start()
    counted, edged = numbers(url)
    if counted != edged:
        fail(f"after kill {round_}: half an update is there: {sorted(counted ^ edged)[:10]}")
    lost = acknowledged - counted
    if lost:
        fail(f"after kill {round_}: acknowledged updates lost: {sorted(lost)[:10]}")
    for n in in_flight:
        totals["in_flight_committed" if n in counted else "in_flight_lost"] += 1
    in_flight.clear()
    if acknowledged:
        newest = max(acknowledged)
        rows = select(
            url,
            "PREFIX kale: <urn:kale:> SELECT ?s WHERE { SERVICE <urn:kale:paths> { [] "
            f"kale:source <urn:soak:e{newest}> ; kale:target <urn:soak:e{newest + 1}> ; "
            "kale:maxHops 1 ; kale:subject ?s } }",
        )
        if not rows:
            fail(f"after kill {round_}: the path service misses the edge of update {newest}")
    if round_ == args.kills:
        server.kill()
        server.wait()
        break

    stop = threading.Event()

    def reader():
        global reads
        query = (
            "SELECT (COUNT(?a) AS ?x) (COUNT(?b) AS ?y) WHERE { { ?a <urn:soak:n> ?v } "
            "UNION { ?b <urn:soak:next> ?w } }"
        )
        while not stop.is_set():
            try:
                row = select(url, query)[0]
            except (OSError, urllib.error.URLError, ValueError):
                return
            reads += 1
            if row["x"]["value"] != row["y"]["value"]:
                torn_reads.append((row["x"]["value"], row["y"]["value"]))

    def writer():
        global next_n
        while not stop.is_set():
            n = next_n
            next_n += 2
            in_flight.add(n)
            try:
                ok = update(url, n)
            except (OSError, urllib.error.URLError):
                return
            in_flight.discard(n)
            if ok:
                acknowledged.add(n)
            else:
                refused.append(n)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    time.sleep(rng.uniform(0.05, 0.6))
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for t in threads:
        t.join()
    totals["kills"] += 1

if refused:
    fail(f"updates were refused: {refused[:10]}")
if torn_reads:
    fail(f"{len(torn_reads)} reads saw half an update, e.g. {torn_reads[:3]}")
totals["acknowledged"] = len(acknowledged)
totals["consistent_reads"] = reads
print(json.dumps(totals))
