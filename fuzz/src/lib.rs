//! The fuzz targets: one function per parser of outside input, each taking arbitrary bytes and
//! returning normally whatever they hold. A panic, an abort (a huge allocation, a stack overflow)
//! or a hang is a finding. Where a target can check more than "no crash" it does (a failed load
//! leaves the store empty; a successful one stored what it counted).
//!
//! Two callers: the AFL++ binaries of `fuzz/afl` (`scripts/fuzz.sh` builds and runs them with
//! cargo-afl), and `tests/regressions.rs`, which feeds every seed and every input a campaign
//! found (`fuzz/corpus/TARGET/`, `fuzz/regressions/TARGET/`) through the same function in CI.

use kale_datasets::qa::{read_items, QaFormat};
use kale_queries::{serve, write_results, OutputFormat, QueryOptions, ServerOptions, SparqlEngine};
use kg_store::paths::{find_paths, PathQuery};
use kg_store::{Adjacency, BulkLoader, GraphFilter, LoadInput, Store};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tempfile::TempDir;

/// A fuzz target: returns normally on any input, or has found a bug.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/afl`'s binary and the corpus directories call them.
pub const TARGETS: &[(&str, Target)] = &[
    ("load", load),
    ("csr", csr),
    ("gguf", gguf),
    ("model_config", model_config),
    ("qa", qa),
    ("sparql", sparql),
    ("http", http),
];

/// The file extensions `load` picks from by the input's first byte.
const RDF_EXTENSIONS: &[&str] = &["nt", "nq", "ttl", "trig", "rdf", "nt.gz"];

/// A scratch directory for one run.
fn scratch() -> TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).expect("writing a scratch file");
    path
}

/// `kale load` end to end. The first byte picks the syntax (by extension, as the loader picks
/// it) and strict or lenient; the rest is the file. A failed load must leave the store empty,
/// a successful one must hold what it reports as new.
pub fn load(data: &[u8]) {
    let Some((&selector, document)) = data.split_first() else {
        return;
    };
    let extension = RDF_EXTENSIONS[usize::from(selector) % RDF_EXTENSIONS.len()];
    let lenient = selector & 0x80 != 0;
    let dir = scratch();
    let file = write(dir.path(), &format!("input.{extension}"), document);
    let store = Store::open(dir.path().join("store")).expect("a fresh store");
    let loaded = BulkLoader::new(&store)
        .lenient(lenient)
        .threads(1)
        .load(&[LoadInput::new(&file)]);
    let stored = store.stats().expect("stats of a store a load left").triples;
    match loaded {
        Ok(summary) => assert_eq!(stored, summary.new, "a load stored other than it counted"),
        Err(_) => assert_eq!(stored, 0, "a failed load left triples behind"),
    }
    let reader = store.reader();
    for quad in reader.quads(None, None, None, GraphFilter::All) {
        let quad = quad.expect("a stored quad reads back");
        reader.term(quad.subject).expect("a stored subject");
        reader.term(quad.object).expect("a stored object");
    }
}

/// A loaded store of `n` entities in a ring-like graph of three predicates (with English labels
/// when asked): the fixture the store-backed targets run against.
fn fixture(n: usize, labels: bool) -> (TempDir, Store) {
    let dir = scratch();
    let mut text = String::new();
    for i in 0..n {
        let next = (i * 7 + 1) % n;
        text += &format!("<http://e/{i}> <http://p/{}> <http://e/{next}> .\n", i % 3);
        if labels {
            text += &format!(
                "<http://e/{i}> <http://www.w3.org/2000/01/rdf-schema#label> \"e{i}\"@en .\n"
            );
        }
    }
    let file = write(dir.path(), "graph.nt", text.as_bytes());
    let store = Store::open(dir.path().join("store")).expect("a fresh store");
    BulkLoader::new(&store)
        .load(&[LoadInput::new(&file)])
        .expect("the fixture loads");
    (dir, store)
}

/// A small store with an adjacency, built once per process; its CSR file's bytes.
struct CsrTemplate {
    _dir: TempDir,
    store: Store,
    csr: Vec<u8>,
    path: PathBuf,
}

fn csr_template() -> &'static std::sync::Mutex<CsrTemplate> {
    static TEMPLATE: OnceLock<std::sync::Mutex<CsrTemplate>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let (dir, store) = fixture(40, false);
        let path = store.path().join("adjacency").join("graph.csr");
        let csr = std::fs::read(&path).expect("the template's CSR file");
        std::sync::Mutex::new(CsrTemplate {
            _dir: dir,
            store,
            csr,
            path,
        })
    })
}

/// `Csr::open` (through `Adjacency::open`) on a damaged file: the input is a list of edits to a
/// valid file (4-byte offset, byte value; a last short record truncates), after which both of the
/// header's checksums are recomputed, as a crafted file would have them. Opening must fail, or
/// path searches over the file must run without a panic.
pub fn csr(data: &[u8]) {
    let template = csr_template().lock().unwrap_or_else(|e| e.into_inner());
    let mut bytes = template.csr.clone();
    let mut edits = data.chunks_exact(5);
    for edit in &mut edits {
        let at = u32::from_le_bytes(edit[..4].try_into().expect("four bytes")) as usize;
        if let Some(byte) = bytes.get_mut(at % template.csr.len()) {
            *byte = edit[4];
        }
    }
    if let [a, b, ..] = edits.remainder() {
        bytes.truncate(usize::from(u16::from_le_bytes([*a, *b])) % (template.csr.len() + 1));
    }
    if bytes.len() >= 80 {
        let data_checksum = xxhash_rust::xxh3::xxh3_64(&bytes[80..]);
        bytes[56..64].copy_from_slice(&data_checksum.to_le_bytes());
        let header_checksum = xxhash_rust::xxh3::xxh3_64(&bytes[..72]);
        bytes[72..80].copy_from_slice(&header_checksum.to_le_bytes());
    }
    std::fs::write(&template.path, &bytes).expect("writing the damaged file");
    if let Ok(adjacency) = Adjacency::open(&template.store) {
        let reader = template.store.reader();
        let id = |i: usize| {
            reader
                .term_id(oxrdf::NamedNodeRef::new_unchecked(&format!("http://e/{i}")).into())
                .expect("a term lookup")
                .expect("a template entity")
        };
        for (from, to) in [(0, 1), (3, 29), (11, 38)] {
            let result = find_paths(&adjacency, &PathQuery::new(vec![id(from)], vec![id(to)]));
            for path in &result.paths {
                for hop in &path.hops {
                    // Terms of a crafted file's edges may not exist; asking must not panic.
                    let _ = reader.term(hop.predicate);
                }
            }
        }
        for v in 0..adjacency.rows().min(64) as u32 {
            let _ = adjacency.out_edges(v).count() + adjacency.in_edges(v).count();
        }
    }
    std::fs::write(&template.path, &template.csr).expect("restoring the template's file");
}

/// The GGUF reader and importer: open, read every tensor the header lists, import into a
/// Hugging Face directory. A failed import must leave no directory behind.
pub fn gguf(data: &[u8]) {
    let dir = scratch();
    let file = write(dir.path(), "model.gguf", data);
    if let Ok(gguf) = kale_trainer::gguf::GgufFile::open(&file) {
        let names: Vec<String> = gguf.tensor_names().map(str::to_owned).collect();
        for name in names.iter().take(16) {
            let _ = gguf.read(name);
        }
    }
    let out = dir.path().join("imported");
    if kale_trainer::gguf::import_gguf(&file, &out).is_err() {
        assert!(!out.exists(), "a failed import left {}", out.display());
    }
}

/// `config.json` of a Hugging Face model directory.
pub fn model_config(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice(data) {
        let _ = kale_trainer::config::ModelConfig::from_value(value);
    }
}

/// Every QA format reader; the first byte picks the format (or detection by content).
pub fn qa(data: &[u8]) {
    let Some((&selector, document)) = data.split_first() else {
        return;
    };
    let formats = [
        None,
        Some(QaFormat::Csqa),
        Some(QaFormat::Hf),
        Some(QaFormat::Mmlu),
        Some(QaFormat::Race),
        Some(QaFormat::Plain),
    ];
    let format = formats[usize::from(selector) % formats.len()];
    let dir = scratch();
    let name = if format == Some(QaFormat::Mmlu) {
        "items.csv"
    } else {
        "items.jsonl"
    };
    let file = write(dir.path(), name, document);
    let _ = read_items(&file, format);
}

/// A SPARQL query as the endpoint receives it: parsed, then evaluated against a small store
/// with the endpoint's limits (a short budget, a row cap) and serialised. The store is built once
/// per process.
pub fn sparql(data: &[u8]) {
    static ENGINE: OnceLock<(TempDir, SparqlEngine)> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (_, engine) = ENGINE.get_or_init(|| {
        let (dir, store) = fixture(30, true);
        (dir, SparqlEngine::new(store))
    });
    let Ok(query) = SparqlEngine::parse_query(text, None) else {
        return;
    };
    let options = QueryOptions {
        timeout: Some(Duration::from_millis(200)),
        max_rows: Some(10_000),
        ..QueryOptions::default()
    };
    let (solutions, graphs) = OutputFormat::Json.formats();
    let mut sink = Vec::new();
    let _ = engine.query(&query, &options, |results| {
        write_results(results, solutions, graphs, &mut sink, None)
    });
}

/// Bytes off the wire to the SPARQL endpoint: the input is one HTTP/1.1 connection's worth of
/// request bytes sent to `kale serve`'s server (hyper; updates allowed; short limits) on
/// loopback. The server must answer it with a well-formed response or close the connection,
/// never with a panic (a 500 saying so) or silence past its timeouts, and must answer the next
/// client. The server runs once per process, over a small store.
pub fn http(data: &[u8]) {
    static SERVER: OnceLock<(TempDir, SocketAddr)> = OnceLock::new();
    let (_, addr) = SERVER.get_or_init(|| {
        let (dir, store) = fixture(30, true);
        let engine = Arc::new(SparqlEngine::new(store));
        let options = ServerOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_update: true,
            timeout: Some(Duration::from_millis(200)),
            max_rows: Some(10_000),
            threads: 2,
            header_timeout: Duration::from_millis(500),
            body_timeout: Duration::from_millis(500),
            queue_wait: Duration::from_secs(1),
        };
        let (bound, listening) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            serve(engine, options, |addr| {
                bound.send(addr).expect("the fuzzer waits");
            })
            .expect("the endpoint serves");
        });
        (dir, listening.recv().expect("the endpoint listens"))
    });
    if let Some((500, reply)) = exchange(*addr, data) {
        // What a panic in a query's or an update's thread becomes (see server.rs).
        let text = String::from_utf8_lossy(&reply);
        assert!(
            !text.contains("panicked") && !text.contains("stopped without an answer"),
            "the endpoint panicked: {text}"
        );
    }
    let probe = b"GET /query?query=ASK%7B%7D HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n";
    let (status, alive) = exchange(*addr, probe).expect("the endpoint answers the next client");
    assert_eq!(
        status,
        200,
        "the endpoint no longer answers: {}",
        String::from_utf8_lossy(&alive)
    );
}

/// Sends `request` on a new connection and reads the first final response, with its status:
/// `None` when the server closed without one. An incomplete request is followed by a
/// half-close, as a client that gives up sends, so the server need not wait out its timeouts.
fn exchange(addr: SocketAddr, request: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).expect("a loopback connection");
    let limit = Duration::from_secs(5);
    stream
        .set_read_timeout(Some(limit))
        .expect("a read timeout");
    stream
        .set_write_timeout(Some(limit))
        .expect("a write timeout");
    // The server may refuse (413) and close before taking it all.
    let sent = stream.write_all(request);
    if sent.is_ok() && !is_complete_request(request) {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut reply = Vec::new();
    let mut chunk = [0_u8; 8192];
    loop {
        if let Some((end, status)) = response_end(&reply, request) {
            reply.truncate(end);
            return Some((status, reply));
        }
        let closed = match stream.read(&mut chunk) {
            Ok(0) => true,
            Ok(n) => {
                reply.extend_from_slice(&chunk[..n]);
                false
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!(
                    "the endpoint neither answered nor closed within {limit:?}; it sent {:?}",
                    String::from_utf8_lossy(&reply)
                )
            }
            // Reset: the server dropped a connection it had more bytes from.
            Err(_) => true,
        };
        if closed {
            // A body that runs to the close; a response cut by the close has no status here.
            let status = status_of(&reply)?;
            return Some((status, reply));
        }
    }
}

/// The status of the first final response whose head has arrived.
fn status_of(reply: &[u8]) -> Option<u16> {
    let mut start = 0;
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(head)) = parsed.parse(&reply[start..]) else {
            return None;
        };
        match parsed.code {
            Some(code) if (100..200).contains(&code) => start += head,
            code => return code,
        }
    }
}

/// Whether `request` holds a whole request head and the body its `Content-Length` declares, or
/// a chunked body's last chunk.
fn is_complete_request(request: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(head)) = parsed.parse(request) else {
        return false;
    };
    let declared = parsed
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| {
            std::str::from_utf8(h.value)
                .ok()?
                .trim()
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(0);
    let chunked = parsed
        .headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("transfer-encoding"));
    if chunked {
        // Whole when its last chunk is there (a rough test: the server has the exact one).
        return request[head..].windows(5).any(|w| w == b"0\r\n\r\n");
    }
    request.len().saturating_sub(head) >= declared
}

/// Where the first final response in `reply` ends, and its status, once it has arrived whole
/// (skipping `100 Continue`); `None` while it has not.
fn response_end(reply: &[u8], request: &[u8]) -> Option<(usize, u16)> {
    let mut start = 0;
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut headers);
        let head = match parsed.parse(&reply[start..]) {
            Ok(httparse::Status::Complete(head)) => start + head,
            Ok(httparse::Status::Partial) => return None,
            Err(e) => panic!(
                "the endpoint sent a malformed response ({e}): {:?}",
                String::from_utf8_lossy(reply)
            ),
        };
        let code = parsed.code.expect("a parsed status line has a code");
        if (100..200).contains(&code) {
            start = head;
            continue;
        }
        let header = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
        };
        if request.starts_with(b"HEAD ") || code == 204 || code == 304 {
            return Some((head, code));
        }
        if let Some(length) = header("content-length") {
            let length: usize = length.parse().expect("a numeric Content-Length");
            return (reply.len() >= head + length).then_some((head + length, code));
        }
        if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            return chunked_end(reply, head).map(|end| (end, code));
        }
        // Neither: the body runs to the close.
        return None;
    }
}

/// The end of a chunked body that starts at `at`, once its last chunk has arrived.
fn chunked_end(reply: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let line_end = at + reply.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&reply[at..line_end]).expect("an ASCII chunk size");
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).expect("a hexadecimal chunk size");
        let data_end = line_end + 2 + size;
        if size == 0 {
            // The last chunk, then (no trailers) the final CRLF.
            return (reply.len() >= data_end + 2).then_some(data_end + 2);
        }
        if reply.len() < data_end + 2 {
            return None;
        }
        at = data_end + 2;
    }
}

/// Runs `target` on every file under `dir` (none when it does not exist); returns how many.
pub fn replay(target: Target, dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for file in &files {
        let data = std::fs::read(file).expect("a corpus file");
        eprintln!("{}", file.display());
        target(&data);
    }
    files.len()
}
