//! From files to parsed chunks: a reader thread cuts line-based input (N-Triples, N-Quads) at
//! newlines into chunks that workers parse in parallel, and parses the other syntaxes itself.
//!
//! A parsed chunk holds its distinct terms once, in canonical form with their 128-bit hashes, and
//! its quads as indexes into them: the sequential id assignment then sees each term of a chunk
//! once, however often it occurs.

use super::input::{InputFormat, LoadInput};
use super::languages::LanguageFilter;
use crate::error::StoreError;
use crate::term::{encode_graph_name, encode_named_or_blank, encode_term, term_hash128};
use crossbeam_channel::Sender;
use oxrdf::{GraphNameRef, QuadRef};
use oxrdfio::{RdfParseError, RdfParser};
use oxttl::{NQuadsParser, NTriplesParser};
use rustc_hash::FxHashMap;
use std::io::Read;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Bytes of line-based input per chunk: big enough to amortise the per-chunk work, small enough
/// that a few chunks per thread stay well inside the memory budget.
pub const CHUNK_BYTES: usize = 4 << 20;
/// Quads per chunk for the sequentially parsed syntaxes.
const CHUNK_QUADS: usize = 50_000;

/// `graph` value of a quad in the default graph.
pub const DEFAULT_GRAPH: u32 = u32::MAX;

/// The distinct terms of a chunk.
#[derive(Default)]
pub struct TermTable {
    bytes: Vec<u8>,
    ends: Vec<u32>,
    pub hashes: Vec<u128>,
}

impl TermTable {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.bytes[start..self.ends[i] as usize]
    }
}

/// A bad statement: the line (from 1) and what is wrong.
#[derive(Clone, Debug)]
pub struct BadLine {
    pub line: u64,
    pub message: String,
}

/// The parsed content of one chunk of one input file.
#[derive(Default)]
pub struct ParsedChunk {
    pub file: usize,
    pub terms: TermTable,
    /// `[subject, predicate, object, graph]` as indexes into `terms` (`DEFAULT_GRAPH`: none).
    pub quads: Vec<[u32; 4]>,
    pub errors: Vec<BadLine>,
    /// Text triples in languages the load does not keep (see `languages.rs`).
    pub dropped: u64,
}

#[derive(Default)]
struct ChunkBuilder {
    index: FxHashMap<u128, u32>,
    chunk: ParsedChunk,
    scratch: Vec<u8>,
    languages: Option<Arc<LanguageFilter>>,
}

impl ChunkBuilder {
    fn new(file: usize, languages: Option<Arc<LanguageFilter>>) -> Self {
        let mut builder = Self {
            languages,
            ..Self::default()
        };
        builder.chunk.file = file;
        builder
    }

    fn intern(&mut self) -> u32 {
        let hash = term_hash128(&self.scratch);
        let terms = &mut self.chunk.terms;
        let scratch = &self.scratch;
        *self.index.entry(hash).or_insert_with(|| {
            terms.bytes.extend_from_slice(scratch);
            // A chunk holds at most a few MiB of text: offsets and counts fit in u32.
            terms.ends.push(terms.bytes.len() as u32);
            terms.hashes.push(hash);
            (terms.ends.len() - 1) as u32
        })
    }

    fn intern_bytes(&mut self, bytes: &[u8]) -> u32 {
        self.scratch.clear();
        self.scratch.extend_from_slice(bytes);
        self.intern()
    }

    /// Adds a quad given as canonical term forms (from another chunk).
    fn add_encoded(&mut self, [s, p, o]: [&[u8]; 3], graph: Option<&[u8]>) {
        let s = self.intern_bytes(s);
        let p = self.intern_bytes(p);
        let o = self.intern_bytes(o);
        let g = graph.map_or(DEFAULT_GRAPH, |g| self.intern_bytes(g));
        self.chunk.quads.push([s, p, o, g]);
    }

    fn add(&mut self, quad: QuadRef<'_>) {
        if self.languages.as_ref().is_some_and(|l| l.drops(quad)) {
            self.chunk.dropped += 1;
            return;
        }
        self.scratch.clear();
        encode_named_or_blank(quad.subject, &mut self.scratch);
        let s = self.intern();
        self.scratch.clear();
        encode_term(quad.predicate.into(), &mut self.scratch);
        let p = self.intern();
        self.scratch.clear();
        encode_term(quad.object, &mut self.scratch);
        let o = self.intern();
        self.scratch.clear();
        let g = if encode_graph_name(quad.graph_name, &mut self.scratch) {
            self.intern()
        } else {
            DEFAULT_GRAPH
        };
        self.chunk.quads.push([s, p, o, g]);
    }

    fn error(&mut self, line: u64, message: impl Into<String>) {
        self.chunk.errors.push(BadLine {
            line,
            message: message.into(),
        });
    }

    fn len(&self) -> usize {
        self.chunk.quads.len() + self.chunk.errors.len()
    }

    fn finish(self) -> ParsedChunk {
        self.chunk
    }
}

/// What the reader thread hands to the workers.
pub enum Work {
    /// Whole lines of a line-based file; `first_line` counts the lines before them (from 0).
    Lines {
        file: usize,
        format: InputFormat,
        data: Vec<u8>,
        first_line: u64,
        languages: Option<Arc<LanguageFilter>>,
    },
    Parsed(ParsedChunk),
    /// Reading failed (not a syntax error): the load stops.
    Failed(StoreError),
}

impl Work {
    /// Parses line-based work; already-parsed work passes through.
    pub fn parse(self) -> Result<ParsedChunk, StoreError> {
        match self {
            Self::Parsed(chunk) => Ok(chunk),
            Self::Failed(e) => Err(e),
            Self::Lines {
                file,
                format,
                data,
                first_line,
                languages,
            } => {
                let chunk = parse_lines(file, format, &data, first_line, languages.clone());
                if chunk.errors.is_empty() {
                    return Ok(chunk);
                }
                // The parser's recovery after an error can swallow the next statement. Lines of
                // these formats are independent, so parse each on its own for an exact account.
                let mut exact = ChunkBuilder::new(file, None);
                for (i, text) in data.split_inclusive(|&b| b == b'\n').enumerate() {
                    let one =
                        parse_lines(file, format, text, first_line + i as u64, languages.clone());
                    exact.chunk.dropped += one.dropped;
                    for quad in &one.quads {
                        let term = |i: u32| one.terms.get(i as usize);
                        let graph = (quad[3] != DEFAULT_GRAPH).then(|| term(quad[3]));
                        exact.add_encoded([term(quad[0]), term(quad[1]), term(quad[2])], graph);
                    }
                    exact.chunk.errors.extend(one.errors.into_iter().take(1));
                }
                Ok(exact.finish())
            }
        }
    }
}

fn parse_lines(
    file: usize,
    format: InputFormat,
    data: &[u8],
    first_line: u64,
    languages: Option<Arc<LanguageFilter>>,
) -> ParsedChunk {
    let mut builder = ChunkBuilder::new(file, languages);
    let error = |e: oxttl::TurtleSyntaxError, builder: &mut ChunkBuilder| {
        let at = e.location().start;
        let message = format!("{} (column {})", e.message(), at.column + 1);
        builder.error(first_line + at.line + 1, message);
    };
    if format == InputFormat::NQuads {
        for result in NQuadsParser::new().for_slice(data) {
            match result {
                Ok(quad) => builder.add(quad.as_ref()),
                Err(e) => error(e, &mut builder),
            }
        }
    } else {
        for result in NTriplesParser::new().for_slice(data) {
            match result {
                Ok(triple) => builder.add(triple.as_ref().in_graph(GraphNameRef::DefaultGraph)),
                Err(e) => error(e, &mut builder),
            }
        }
    }
    builder.finish()
}

/// Reads every input in order and sends its work down `tx`. Returns when done, on the first
/// read error (sent as `Work::Failed`), or when the receiver is gone (the load stopped).
pub fn read_inputs(
    inputs: &[LoadInput],
    counter: &Arc<AtomicU64>,
    tx: &Sender<Work>,
    languages: Option<&Arc<LanguageFilter>>,
) {
    for (file, input) in inputs.iter().enumerate() {
        let result = input
            .resolved_format()
            .and_then(|format| Ok((format, input.open(Arc::clone(counter))?)))
            .and_then(|(format, reader)| {
                if format.is_line_based() {
                    read_lines(file, format, input, reader, tx, languages)
                } else {
                    read_statements(file, format, input, reader, tx, languages)
                }
            });
        match result {
            Ok(true) => {}
            Ok(false) => return, // receiver gone
            Err(e) => {
                let _ = tx.send(Work::Failed(e));
                return;
            }
        }
    }
}

/// Cuts a line-based file into chunks of whole lines. `Ok(false)`: the receiver is gone.
fn read_lines(
    file: usize,
    format: InputFormat,
    input: &LoadInput,
    mut reader: Box<dyn Read + Send>,
    tx: &Sender<Work>,
    languages: Option<&Arc<LanguageFilter>>,
) -> Result<bool, StoreError> {
    let mut carry: Vec<u8> = Vec::new();
    let mut first_line = 0u64;
    loop {
        let mut data = std::mem::take(&mut carry);
        data.reserve(CHUNK_BYTES + (1 << 16));
        let mut eof = false;
        // Fill up to the chunk size, then on until a newline so that a chunk is whole lines.
        while !eof && (data.len() < CHUNK_BYTES || memchr::memchr(b'\n', &data).is_none()) {
            let len = data.len();
            data.resize(len + (1 << 16).max(CHUNK_BYTES.saturating_sub(len)), 0);
            let n = reader
                .read(&mut data[len..])
                .map_err(StoreError::io(&input.path))?;
            data.truncate(len + n);
            eof = n == 0;
        }
        if !eof {
            let cut = memchr::memrchr(b'\n', &data).expect("the loop ends on a newline") + 1;
            carry = data[cut..].to_vec();
            data.truncate(cut);
        }
        if data.is_empty() {
            return Ok(true);
        }
        let lines = memchr::memchr_iter(b'\n', &data).count() as u64;
        let work = Work::Lines {
            file,
            format,
            data,
            first_line,
            languages: languages.cloned(),
        };
        if tx.send(work).is_err() {
            return Ok(false);
        }
        first_line += lines;
        if eof {
            return Ok(true);
        }
    }
}

/// Parses a Turtle, TriG or RDF/XML file on this thread. `Ok(false)`: the receiver is gone.
fn read_statements(
    file: usize,
    format: InputFormat,
    input: &LoadInput,
    reader: Box<dyn Read + Send>,
    tx: &Sender<Work>,
    languages: Option<&Arc<LanguageFilter>>,
) -> Result<bool, StoreError> {
    let mut parser = RdfParser::from_format(format.rdf_format());
    if let Some(base) = &input.base_iri {
        parser = parser
            .with_base_iri(base)
            .map_err(|e| StoreError::InvalidInput(format!("invalid base IRI {base:?}: {e}")))?;
    }
    let mut builder = ChunkBuilder::new(file, languages.cloned());
    for result in parser.for_reader(reader) {
        match result {
            Ok(quad) => builder.add(quad.as_ref()),
            Err(RdfParseError::Syntax(e)) => {
                let line = e.location().map_or(0, |l| l.start.line + 1);
                builder.error(line, e.to_string());
            }
            Err(RdfParseError::Io(e)) => return Err(StoreError::io(&input.path)(e)),
        }
        if builder.len() >= CHUNK_QUADS {
            let full = std::mem::replace(&mut builder, ChunkBuilder::new(file, languages.cloned()));
            if tx.send(Work::Parsed(full.finish())).is_err() {
                return Ok(false);
            }
        }
    }
    Ok(tx.send(Work::Parsed(builder.finish())).is_ok())
}
