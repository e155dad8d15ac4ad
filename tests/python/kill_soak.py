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

An update the server refuses for want of a free query slot (503, under a load generator) was
not acknowledged and must never appear; reads refused so are retried.

usage: kill_soak.py KALE STORE [--kills N] [--seed S] [--load N --entities E --wrk-out DIR]
(--load: the whole soak also runs under wrk, N connections, half label lookups and half
path-service calls of benches/serve/mix.lua over a generated world of E entities; the server
then listens on one port across restarts so that wrk keeps hitting each new process; wrk's
summaries go to DIR/wrk-KIND.txt and into the JSON line)
"""
import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
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
parser.add_argument("--load", type=int, default=0)
parser.add_argument("--entities", type=int, default=20000)
parser.add_argument("--wrk-out", default=".")
args = parser.parse_args()
rng = random.Random(args.seed)
port = 0
if args.load:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]


current_server = None
load = []  # the load generator's (kind, process, output file), when --load


def fail(message):
    """Ends the soak from any thread (sys.exit would end only the calling thread)."""
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    if current_server is not None:
        current_server.kill()
    for _, process, _ in load:
        process.kill()
    os._exit(1)


def start():
    # stderr to a file: a pipe nobody drains would block a server that logs under load.
    log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen(
        [args.kale, "serve", args.store, "--allow-update", "--bind", f"127.0.0.1:{port}", "--threads", "2"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    line = server.stdout.readline()
    if not line.startswith("listening on "):
        server.kill()
        server.wait()
        log.seek(0)
        fail(f"the server did not start after a kill: {line!r} {log.read()}")
    return server, line.split()[-1]


def post(url, body, content_type, timeout=30):
    """The status and body; a 503 (no free query slot) is returned, not raised."""
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"Content-Type": content_type, "Accept": "application/sparql-results+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def select(url, query, attempts=200):
    for _ in range(attempts):
        status, text = post(url, query, "application/sparql-query")
        if status == 200:
            return json.loads(text)["results"]["bindings"]
        if status != 503:
            fail(f"a read got {status}: {text}")
        time.sleep(0.05)
    fail(f"a read was refused {attempts} times in a row: {query}")


def update(url, n):
    """True if acknowledged, False if refused for want of a slot."""
    text = (
        f"INSERT DATA {{ <urn:soak:e{n}> <urn:soak:n> {n} . "
        f"<urn:soak:e{n}> <urn:soak:next> <urn:soak:e{n + 1}> . }}"
    )
    status, body = post(url.replace("/query", "/update"), text, "application/sparql-update")
    if status not in (200, 503):
        fail(f"update {n} got {status}: {body}")
    return status == 200


def numbers(url):
    rows = select(url, "SELECT ?n WHERE { ?e <urn:soak:n> ?n }")
    counted = {int(r["n"]["value"]) for r in rows}
    rows = select(url, "SELECT ?e WHERE { ?e <urn:soak:next> ?x }")
    edged = {int(r["e"]["value"].removeprefix("urn:soak:e")) for r in rows}
    return counted, edged


def start_load(url):
    """wrk, started once the first server listens (it gives up on a refused first connect)."""
    script = os.path.join(os.path.dirname(__file__), "..", "..", "benches", "serve", "mix.lua")
    load = []
    for kind in ("lookup", "paths"):
        out = open(os.path.join(args.wrk_out, f"wrk-{kind}.txt"), "w")
        command = ["wrk", "-t1", f"-c{max(1, args.load // 2)}", "-d3600s", "--timeout", "10s",
                   "-s", script, url, "--", kind, str(args.entities)]
        load.append((kind, subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT), out))
    return load


def stop_load(load):
    """wrk prints its summary when interrupted; its JSON line per kind."""
    summaries = {}
    for kind, process, out in load:
        process.send_signal(signal.SIGINT)
        process.wait()
        out.close()
        with open(out.name) as text:
            lines = [line for line in text if line.startswith("{")]
        if not lines:
            fail(f"wrk ({kind}) printed no summary; see {out.name}")
        summaries[kind] = json.loads(lines[-1])
    return summaries


acknowledged = set()
in_flight = set()
next_n = 0
torn_reads = []
refused = []
reads = 0
totals = {"kills": 0, "acknowledged": 0, "in_flight_committed": 0, "in_flight_lost": 0}

for round_ in range(args.kills + 1):
    server, url = start()
    current_server = server
    if args.load and not load:
        load = start_load(url)
    counted, edged = numbers(url)
    if counted != edged:
        fail(f"after kill {round_}: half an update is there: {sorted(counted ^ edged)[:10]}")
    lost = acknowledged - counted
    if lost:
        fail(f"after kill {round_}: acknowledged updates lost: {sorted(lost)[:10]}")
    ghosts = set(refused) & counted
    if ghosts:
        fail(f"after kill {round_}: refused updates are there: {sorted(ghosts)[:10]}")
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

if torn_reads:
    fail(f"{len(torn_reads)} reads saw half an update, e.g. {torn_reads[:3]}")
if load:
    totals["load"] = stop_load(load)
totals["acknowledged"] = len(acknowledged)
totals["refused_for_load"] = len(refused)
totals["consistent_reads"] = reads
print(json.dumps(totals))
