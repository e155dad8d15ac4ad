//! The fuzz targets: one function per parser of outside input, each taking arbitrary bytes and
//! returning normally whatever they hold. A panic, an abort (a huge allocation, a stack overflow)
//! or a hang is a finding. Where a target can check more than "no crash" it does (a failed load
//! leaves the store empty; a successful one stored what it counted).
//!
//! Two callers: the AFL++ binaries of `fuzz/afl` (`scripts/fuzz.sh` builds and runs them with
//! cargo-afl), and `tests/regressions.rs`, which feeds every seed and every input a campaign
//! found (`fuzz/corpus/TARGET/`, `fuzz/regressions/TARGET/`) through the same function in CI.

use kale_datasets::qa::{read_items, QaFormat};
use kale_queries::{write_results, OutputFormat, QueryOptions, SparqlEngine};
use kg_store::paths::{find_paths, PathQuery};
use kg_store::{Adjacency, BulkLoader, GraphFilter, LoadInput, Store};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
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
