"""Talks to a running `kale serve` with clients nobody here wrote: SPARQLWrapper, rdflib and
plain urllib for content negotiation. Exits non-zero (with the reason) on any mismatch.

usage: endpoint_client.py QUERY_URL [--writable]
"""
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import rdflib
from SPARQLWrapper import CSV, JSON, POST, TURTLE, XML, SPARQLWrapper

query_url = sys.argv[1]
writable = "--writable" in sys.argv
update_url = query_url.replace("/query", "/update")
EX = "http://example.com/"
PREFIX = f"PREFIX ex: <{EX}> PREFIX foaf: <http://xmlns.com/foaf/0.1/> "


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)


def select(query, fmt=JSON, method="GET"):
    client = SPARQLWrapper(query_url)
    client.setQuery(PREFIX + query)
    client.setReturnFormat(fmt)
    client.setMethod(method)
    return client.query().convert()


# SELECT as JSON, over GET and POST.
for method in ("GET", "POST"):
    rows = select("SELECT ?p WHERE { ?p foaf:knows ex:dave } ORDER BY ?p", method=method)
    people = [r["p"]["value"] for r in rows["results"]["bindings"]]
    check(people == [EX + "bob", EX + "carol"], f"{method} JSON: {people}")

# XML and CSV results.
xml = select("SELECT ?a WHERE { ex:alice foaf:age ?a }", fmt=XML)
check(xml.getElementsByTagName("literal")[0].firstChild.data == "34", "XML results")
csv = select("SELECT ?a WHERE { ex:alice foaf:age ?a }", fmt=CSV).decode()
check(csv.splitlines() == ["a", "34"], f"CSV results: {csv!r}")

# ASK, and CONSTRUCT parsed by rdflib.
check(select("ASK { ex:alice foaf:knows ex:bob }")["boolean"] is True, "ASK")
turtle = select("CONSTRUCT { ?b ex:knownBy ?a } WHERE { ?a foaf:knows ?b }", fmt=TURTLE)
graph = rdflib.Graph().parse(data=turtle, format="turtle")
check((rdflib.URIRef(EX + "bob"), rdflib.URIRef(EX + "knownBy"), rdflib.URIRef(EX + "alice")) in graph, "CONSTRUCT")

# The path service through the endpoint.
rows = select(
    "PREFIX kale: <urn:kale:> SELECT ?path ?hop ?s WHERE { SERVICE <urn:kale:paths> "
    "{ [] kale:source ex:erin ; kale:target ex:frank ; kale:path ?path ; kale:hop ?hop ; kale:subject ?s } }"
)
check(len(rows["results"]["bindings"]) > 0, "path rows over HTTP")


def raw(url, accept=None, data=None, content_type=None):
    request = urllib.request.Request(url, data=data)
    if accept:
        request.add_header("Accept", accept)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers.get("Content-Type"), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


q = urllib.parse.quote(PREFIX + "SELECT ?p WHERE { ?p foaf:knows ex:dave }")
status, ctype, _ = raw(f"{query_url}?query={q}", accept="text/csv;q=0.5, application/sparql-results+xml")
check(status == 200 and ctype.startswith("application/sparql-results+xml"), f"negotiation picks XML: {ctype}")
status, ctype, _ = raw(f"{query_url}?query={q}", accept="text/*")
check(status == 200 and ctype.startswith("text/csv"), f"text/* gives CSV: {ctype}")
status, _, body = raw(f"{query_url}?query={q}", accept="image/png")
check(status == 406, f"unacceptable Accept gives 406, got {status}: {body}")
c = urllib.parse.quote(PREFIX + "CONSTRUCT WHERE { ex:alice foaf:knows ?o }")
status, ctype, body = raw(f"{query_url}?query={c}", accept="application/n-triples")
check(status == 200 and ctype == "application/n-triples" and "<http://example.com/bob>" in body, f"N-Triples: {ctype}")
status, _, body = raw(query_url, data=(PREFIX + "ASK {}").encode(), content_type="application/sparql-query")
check(status == 200 and "true" in body, f"POST sparql-query: {status} {body}")
status, _, body = raw(f"{query_url}?query={urllib.parse.quote('SELECT * WHERE {')}")
check(status == 400 and "invalid query" in body, f"syntax error gives 400: {status} {body}")

update = PREFIX + "INSERT DATA { ex:zoe foaf:knows ex:alice }"
if not writable:
    status, _, body = raw(update_url, data=update.encode(), content_type="application/sparql-update")
    check(status == 403 and "--allow-update" in body, f"update refused: {status} {body}")
else:
    # Queries keep being answered, from a consistent snapshot, while updates commit.
    errors = []

    def reader():
        for _ in range(20):
            rows = select("SELECT (COUNT(*) AS ?n) WHERE { ?s foaf:knows ?o }")
            n = int(rows["results"]["bindings"][0]["n"]["value"])
            if n not in range(7, 7 + 21):
                errors.append(n)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(20):
        client = SPARQLWrapper(update_url)
        client.setMethod(POST)
        client.setQuery(PREFIX + f"INSERT DATA {{ ex:new{i} foaf:knows ex:alice }}")
        client.query()
    for t in threads:
        t.join()
    check(not errors, f"inconsistent counts during updates: {errors}")
    rows = select("SELECT (COUNT(*) AS ?n) WHERE { ?s foaf:knows ex:alice }")
    check(rows["results"]["bindings"][0]["n"]["value"] == "21", "all updates landed")
    # LOAD reads the server's files: refused over HTTP, and nothing changes.
    status, _, body = raw(
        update_url, data=f"LOAD <file://{__file__}>".encode(), content_type="application/sparql-update"
    )
    check(status >= 400 and "LOAD" in body, f"LOAD over HTTP: {status} {body}")

print("ok")
