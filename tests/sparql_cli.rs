//! `kale sparql`, `kale update` and `kale serve` end to end; the endpoint is driven by Python
//! SPARQL clients from the project venv (SPARQLWrapper, rdflib, urllib).

mod common;

use common::{kale, kale_ok, python};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn people_store(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    let data = root().join("queries/tests/data/people.trig");
    kale_ok(&["load", store.to_str().unwrap(), data.to_str().unwrap()]);
    store
}

#[test]
fn sparql_answers_in_every_format_and_explains_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = people_store(dir.path());
    let s = store.to_str().unwrap();
    let q = "SELECT ?p ?a WHERE { ?p <http://xmlns.com/foaf/0.1/age> ?a FILTER(isNumeric(?a)) } ORDER BY ?a ?p";
    let table = kale_ok(&["sparql", s, q]);
    assert!(table.starts_with(" ?p"), "{table}");
    assert!(table.contains("| 19 "), "{table}");
    assert!(table.trim_end().ends_with("(5 rows)"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&kale_ok(&["sparql", s, q, "--format", "json"])).unwrap();
    assert_eq!(json["results"]["bindings"].as_array().unwrap().len(), 5);
    assert!(kale_ok(&["sparql", s, q, "--format", "csv"]).starts_with("p,a\r\n"));
    assert!(kale_ok(&["sparql", s, q, "--format", "tsv"]).starts_with("?p\t?a\n"));
    assert!(kale_ok(&["sparql", s, q, "--format", "xml"]).contains("<sparql"));
    let ttl = kale_ok(&[
        "sparql",
        s,
        "CONSTRUCT WHERE { ?s <http://xmlns.com/foaf/0.1/knows> ?o }",
        "--format",
        "ttl",
    ]);
    assert!(ttl.contains("<http://example.com/alice>"), "{ttl}");
    let file = dir.path().join("q.rq");
    std::fs::write(&file, "ASK { ?s ?p ?o }").unwrap();
    assert_eq!(
        kale_ok(&["sparql", s, "--file", file.to_str().unwrap()]).trim(),
        "true"
    );

    let bad = kale(&["sparql", s, "SELECT * WHERE { ?s ?p"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid query: error at 1:"));
    // Deep nesting is refused with a message, not a stack overflow that aborts the process.
    for deep in [
        format!("ASK {}{}", "{".repeat(1_200), "}".repeat(1_200)),
        format!("ASK {}{}", "{".repeat(5_000), "}".repeat(5_000)),
    ] {
        let refused = kale(&["sparql", s, &deep]);
        assert_eq!(refused.status.code(), Some(1), "an error, not a crash");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("levels deep"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
    let nested_ok = format!("ASK {}?s ?p ?o{}", "{".repeat(100), "}".repeat(100));
    assert_eq!(kale_ok(&["sparql", s, &nested_ok]).trim(), "true");
    let many = kale(&[
        "sparql",
        s,
        "SELECT * WHERE { ?s ?p ?o }",
        "--max-rows",
        "5",
    ]);
    assert!(String::from_utf8_lossy(&many.stderr).contains("more than 5 results"));
    let slow = kale(&[
        "sparql",
        s,
        "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
        "--timeout",
        "0.3",
        "--max-rows",
        "0",
    ]);
    assert!(
        String::from_utf8_lossy(&slow.stderr).contains("budget"),
        "{}",
        String::from_utf8_lossy(&slow.stderr)
    );
}

#[test]
fn update_changes_what_queries_and_paths_see() {
    let dir = tempfile::tempdir().unwrap();
    let store = people_store(dir.path());
    let s = store.to_str().unwrap();
    let out = kale(&["update", s, "INSERT DATA { <http://example.com/erin> <http://example.com/rival> <http://example.com/zed> }"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 triples inserted"));
    let paths = kale_ok(&[
        "paths",
        s,
        "--from",
        "http://example.com/alice",
        "--to",
        "http://example.com/zed",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&paths).unwrap();
    assert!(!json["paths"].as_array().unwrap().is_empty());
    let bad = kale(&["update", s, "INSERT DATA { oops }"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid update"));
}

/// A running `kale serve`, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(store: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kale"))
            .args(["serve", store.to_str().unwrap(), "--bind", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_client(url: &str, extra: &[&str]) {
    python("endpoint_client.py", &[&[url], extra].concat());
}

#[test]
fn the_endpoint_serves_real_sparql_clients_and_refuses_updates_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let store = people_store(dir.path());
    let server = Server::start(&store, &[]);
    python_client(&server.url, &[]);
    // Methods other than GET and POST on /query: 405, not 404.
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/query");
    let send = |head: &str, body: &[u8]| -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        // The server may answer (413) and hang up before the whole body is sent.
        let _ = stream.write_all(body);
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        String::from_utf8_lossy(&reply).into_owned()
    };
    for method in ["DELETE", "PUT"] {
        let reply = send(
            &format!("{method} /query HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"),
            b"",
        );
        assert!(reply.starts_with("HTTP/1.1 405"), "{method}: {reply}");
    }
    let post = |length: usize| {
        format!(
            "POST /query HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/sparql-query\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        )
    };
    // A body that claims 100 GB (and is six bytes) is refused, and the server lives on.
    let reply = send(&post(99_999_999_999), b"ASK {}");
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    // A body over 16 MiB is refused, not cut: the LIMIT past the cut must not be ignored.
    let mut big = b"SELECT * WHERE { ?s ?p ?o }".to_vec();
    big.resize((16 << 20) + 64, b' ');
    big.extend_from_slice(b" LIMIT 1");
    let reply = send(&post(big.len()), &big);
    assert!(
        reply.starts_with("HTTP/1.1 413"),
        "{}",
        &reply[..reply.len().min(200)]
    );
    let reply = send(&post(6), b"ASK {}");
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.contains("true"),
        "{reply}"
    );
}

#[test]
fn a_writable_endpoint_answers_queries_while_updates_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = people_store(dir.path());
    let server = Server::start(&store, &["--allow-update"]);
    python_client(&server.url, &["--writable"]);
}

/// Sends raw bytes and reads the reply until the server closes (20 s at most: a hang fails).
fn http(address: &str, request: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    // The server may answer and hang up before a refused body is all sent.
    let _ = stream.write_all(request);
    let mut reply = Vec::new();
    stream
        .read_to_end(&mut reply)
        .expect("the server answers and closes, not hangs");
    reply
}

fn post_query(address: &str, query: &str) -> Vec<u8> {
    let mut request = format!(
        "POST /query HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/sparql-query\r\nAccept: application/sparql-results+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        query.len()
    )
    .into_bytes();
    request.extend_from_slice(query.as_bytes());
    request
}

/// Fails with the whole reply unless it starts with `status_line` ("HTTP/1.1 200").
fn expect_status(reply: &[u8], status_line: &str) {
    assert!(
        reply.starts_with(status_line.as_bytes()),
        "expected {status_line}: {}",
        String::from_utf8_lossy(reply)
    );
}

/// The body of a chunked HTTP/1.1 response, and whether its terminating chunk came.
fn dechunk(reply: &[u8]) -> (Vec<u8>, bool) {
    let start = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let (mut body, mut rest) = (Vec::new(), &reply[start..]);
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16)
            .expect("a chunk size");
        if size == 0 {
            return (body, true);
        }
        let data = &rest[line_end + 2..];
        if data.len() < size + 2 {
            break;
        }
        body.extend_from_slice(&data[..size]);
        rest = &data[size + 2..];
    }
    (body, false)
}

/// Seven patterns that share no variable: 76^7 rows from 532 triples read. Upstream spareval
/// checks its cancellation token only when it reads triples, so budgets did not stop this.
const CARTESIAN_COUNT: &str = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o . ?q ?r ?t . ?u ?v ?w }";

#[test]
fn the_endpoint_holds_under_slow_clients_streams_results_and_sheds_load() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let store = people_store(dir.path());
    let server = Server::start(
        &store,
        &[
            "--threads",
            "1",
            "--header-timeout",
            "1",
            "--body-timeout",
            "1",
            "--queue-wait",
            "1",
            "--max-rows",
            "1000",
        ],
    );
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/query")
        .to_owned();

    // Four clients that declare a 100 KB body and send ten bytes of it hold no query slot: the
    // one slot answers others meanwhile, and each slow client gets 408 when its time is up.
    let slow: Vec<_> = (0..4)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(&address).unwrap();
            stream
                .write_all(format!("POST /query HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/sparql-query\r\nContent-Length: 100000\r\n\r\nSELECT * W").as_bytes())
                .unwrap();
            stream
        })
        .collect();
    let reply = http(&address, &post_query(&address, "ASK {}"));
    expect_status(&reply, "HTTP/1.1 200");
    for mut stream in slow {
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).unwrap();
        expect_status(&reply, "HTTP/1.1 408");
    }
    // A connection that never sends its headers is closed.
    assert!(http(&address, b"").is_empty());
    assert!(http(&address, b"GET /query?query=ASK%7B%7D HTTP/1.1\r\nHo").is_empty());

    // A large result streams: chunked, whole (the last chunk came), every row there.
    let rows = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 900";
    let reply = http(&address, &post_query(&address, rows));
    let head = String::from_utf8_lossy(&reply[..200]).to_ascii_lowercase();
    assert!(
        head.starts_with("http/1.1 200") && head.contains("transfer-encoding: chunked"),
        "{head}"
    );
    let (body, whole) = dechunk(&reply);
    assert!(whole);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["results"]["bindings"].as_array().unwrap().len(), 900);
    // Past --max-rows after the first chunk went out, the response is cut, never whole.
    let reply = http(
        &address,
        &post_query(&address, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"),
    );
    expect_status(&reply, "HTTP/1.1 200");
    let (body, whole) = dechunk(&reply);
    assert!(
        !whole && body.len() > 64 << 10,
        "{} bytes, whole: {whole}",
        body.len()
    );
    // Before the first chunk (1,000 rows of one IRI are under 64 KiB), the same error has
    // its status.
    let reply = http(
        &address,
        &post_query(&address, "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f }"),
    );
    expect_status(&reply, "HTTP/1.1 400");
    assert!(String::from_utf8_lossy(&reply).contains("--max-rows"));

    // SERVICE reaches nothing but the path service; LOAD is refused over HTTP (no --allow-update
    // here, so that is checked by the writable test's client).
    let reply = http(
        &address,
        &post_query(
            &address,
            "SELECT * WHERE { SERVICE <http://example.com/sparql> { ?s ?p ?o } }",
        ),
    );
    let text = String::from_utf8_lossy(&reply);
    assert!(
        text.starts_with("HTTP/1.1 400") && text.contains("the only service is <urn:kale:paths>"),
        "{text}"
    );

    // With the one slot taken, a request waits --queue-wait and gets 503 with Retry-After.
    let mut heavy = std::net::TcpStream::connect(&address).unwrap();
    heavy
        .write_all(&post_query(&address, CARTESIAN_COUNT))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let reply = http(&address, &post_query(&address, "ASK {}"));
    let text = String::from_utf8_lossy(&reply).to_ascii_lowercase();
    assert!(
        text.starts_with("http/1.1 503")
            && text.contains("retry-after: 1")
            && text.contains("busy"),
        "{text}"
    );
    // The client of the heavy query hangs up: its query stops (its budget is 30 s), so the
    // slot is free again well within the next request's one-second wait.
    drop(heavy);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let reply = http(&address, &post_query(&address, "ASK {}"));
    expect_status(&reply, "HTTP/1.1 200");
}

#[test]
fn budgets_stop_cartesian_products_that_read_almost_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = people_store(dir.path());
    let s = store.to_str().unwrap();
    let sorted = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o } ORDER BY ?a ?d ?g LIMIT 3";
    for query in [CARTESIAN_COUNT, sorted] {
        let out = kale(&["sparql", s, "--timeout", "1", query]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains("budget"),
            "{stderr}"
        );
    }
}

#[test]
fn acknowledged_updates_survive_sigkill_and_readers_never_see_half_of_one() {
    // The full soak (200 kills) is `benches/soak.sh`; CI kills the server 12 times.
    let dir = tempfile::tempdir().unwrap();
    let store = people_store(dir.path());
    let summary = python(
        "kill_soak.py",
        &[
            env!("CARGO_BIN_EXE_kale"),
            store.to_str().unwrap(),
            "--kills",
            "12",
        ],
    );
    let totals: serde_json::Value = serde_json::from_str(summary.trim()).unwrap();
    assert_eq!(totals["kills"], 12, "{summary}");
    assert!(totals["acknowledged"].as_u64().unwrap() > 0, "{summary}");
}
