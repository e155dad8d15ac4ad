-- wrk script for benches/serve_load.sh: POSTs one kind of SPARQL query against a generated
-- world, with a random entity per request, and prints a JSON summary line when done (without
-- the kind: `done` runs in a Lua state of its own, where `init`'s arguments are not seen).
--   wrk -s benches/serve/mix.lua URL -- KIND ENTITIES     KIND: lookup, star or paths
local kind, entities
local prefix = "PREFIX e: <http://kale.example/entity/> "
    .. "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX kale: <urn:kale:> "
local headers = {
    ["Content-Type"] = "application/sparql-query",
    ["Accept"] = "application/sparql-results+json",
}

function init(args)
    kind = args[1] or "lookup"
    entities = tonumber(args[2] or "1000000")
    -- Every wrk thread seeds differently, so threads do not replay one sequence.
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

local function entity()
    return "e:Q" .. math.random(1, entities)
end

function request()
    local query
    if kind == "lookup" then
        query = "SELECT ?label WHERE { " .. entity() .. " rdfs:label ?label }"
    elseif kind == "star" then
        -- An entity's neighbours with their labels: a star on the subject and a join.
        query = "SELECT ?p ?o ?label WHERE { " .. entity() .. " ?p ?o . ?o rdfs:label ?label } LIMIT 100"
    else
        query = "SELECT ?path ?hop ?s ?p ?o WHERE { SERVICE <urn:kale:paths> { [] kale:source "
            .. entity() .. " ; kale:target " .. entity()
            .. " ; kale:maxHops 3 ; kale:limit 5 ; kale:path ?path ; kale:hop ?hop ;"
            .. " kale:subject ?s ; kale:predicate ?p ; kale:object ?o } }"
    end
    return wrk.format("POST", "/query", headers, prefix .. query)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '{"requests": %d, "seconds": %.3f, "requests_per_sec": %.1f, '
            .. '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, '
            .. '"non_2xx": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, '
            .. '"timeouts": %d}\n',
        summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000,
        e.status, e.connect, e.read, e.write, e.timeout))
end
