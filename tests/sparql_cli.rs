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
