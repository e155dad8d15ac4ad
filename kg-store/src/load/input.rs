//! Input files: their RDF format and compression, told from the file name, and a reader that
//! counts the bytes taken from disk (what the progress bar measures against the file sizes).
//! The path `-` is standard input, read as it comes (decompress upstream, where `lbzip2 -dc` or
//! `pigz -dc` use every core), its format given with `--format`.

use crate::error::{Result, StoreError};
use oxrdfio::RdfFormat;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The RDF syntaxes the loader reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    #[value(name = "nt", aliases = ["ntriples", "n-triples"])]
    NTriples,
    #[value(name = "nq", aliases = ["nquads", "n-quads"])]
    NQuads,
    #[value(name = "ttl", alias = "turtle")]
    Turtle,
    #[value(name = "trig")]
    TriG,
    #[value(name = "rdf", aliases = ["xml", "rdfxml", "rdf/xml", "owl"])]
    RdfXml,
}

impl InputFormat {
    /// The short names of the command line (`nt`, `nq`, `ttl`, `trig`, `rdf`).
    pub fn from_name(name: &str) -> Option<Self> {
        <Self as clap::ValueEnum>::from_str(name, true).ok()
    }

    /// Line-based formats split at newlines and parse in parallel.
    pub fn is_line_based(self) -> bool {
        matches!(self, Self::NTriples | Self::NQuads)
    }

    /// The oxrdfio format.
    pub fn rdf_format(self) -> RdfFormat {
        match self {
            Self::NTriples => RdfFormat::NTriples,
            Self::NQuads => RdfFormat::NQuads,
            Self::Turtle => RdfFormat::Turtle,
            Self::TriG => RdfFormat::TriG,
            Self::RdfXml => RdfFormat::RdfXml,
        }
    }
}

/// How an input file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
}

/// The compression and, if the name tells it, the format of a file: `dump.nt.bz2` is bzip2'd
/// N-Triples.
pub fn detect(path: &Path) -> (Compression, Option<InputFormat>) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let (compression, rest) = if let Some(rest) = name.strip_suffix(".gz") {
        (Compression::Gzip, rest)
    } else if let Some(rest) = name
        .strip_suffix(".zst")
        .or_else(|| name.strip_suffix(".zstd"))
    {
        (Compression::Zstd, rest)
    } else if let Some(rest) = name.strip_suffix(".bz2") {
        (Compression::Bzip2, rest)
    } else {
        (Compression::None, name.as_str())
    };
    let format = rest
        .rsplit_once('.')
        .and_then(|(_, ext)| InputFormat::from_name(ext));
    (compression, format)
}

/// The path that means standard input.
pub const STDIN: &str = "-";

/// One file to load.
#[derive(Clone, Debug)]
pub struct LoadInput {
    pub path: PathBuf,
    /// Overrides the format told by the file name.
    pub format: Option<InputFormat>,
    /// Resolves relative IRIs (Turtle, TriG, RDF/XML).
    pub base_iri: Option<String>,
}

impl LoadInput {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            format: None,
            base_iri: None,
        }
    }

    /// Whether this input is standard input.
    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == STDIN
    }

    /// The compressed size on disk, where known (not for standard input).
    pub(crate) fn size(&self) -> Result<Option<u64>> {
        if self.is_stdin() {
            return Ok(None);
        }
        Ok(Some(
            std::fs::metadata(&self.path)
                .map_err(StoreError::io(&self.path))?
                .len(),
        ))
    }

    pub(crate) fn resolved_format(&self) -> Result<InputFormat> {
        if self.is_stdin() && self.format.is_none() {
            return Err(StoreError::InvalidInput(
                "standard input (-) has no name to tell its format by: give --format nt, nq, ttl, trig or rdf (and decompress upstream)".into(),
            ));
        }
        self.format
            .or_else(|| detect(&self.path).1)
            .ok_or_else(|| StoreError::UnknownFormat {
                path: self.path.clone(),
            })
    }

    /// The decompressed content and the format, for callers that parse it themselves.
    pub fn open_with_format(&self) -> Result<(Box<dyn Read + Send>, InputFormat)> {
        let format = self.resolved_format()?;
        Ok((self.open(Arc::new(AtomicU64::new(0)))?, format))
    }

    /// The decompressed content, and the counter of compressed bytes read so far.
    pub(crate) fn open(&self, counter: Arc<AtomicU64>) -> Result<Box<dyn Read + Send>> {
        if self.is_stdin() {
            let stdin = CountingReader {
                file: Box::new(io::stdin()),
                counter,
            };
            return Ok(Box::new(BufReader::with_capacity(1 << 20, stdin)));
        }
        let file = File::open(&self.path).map_err(StoreError::io(&self.path))?;
        let counted = BufReader::with_capacity(
            1 << 20,
            CountingReader {
                file: Box::new(file),
                counter,
            },
        );
        Ok(match detect(&self.path).0 {
            Compression::None => Box::new(counted),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
            Compression::Zstd => {
                Box::new(zstd::Decoder::with_buffer(counted).map_err(StoreError::io(&self.path))?)
            }
            Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(counted)),
        })
    }
}

struct CountingReader {
    file: Box<dyn Read + Send>,
    counter: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tell_compression_and_format() {
        let d = |n: &str| detect(Path::new(n));
        assert_eq!(
            d("latest-truthy.nt.bz2"),
            (Compression::Bzip2, Some(InputFormat::NTriples))
        );
        assert_eq!(d("a.nq.gz"), (Compression::Gzip, Some(InputFormat::NQuads)));
        assert_eq!(
            d("a.TTL.zst"),
            (Compression::Zstd, Some(InputFormat::Turtle))
        );
        assert_eq!(d("x.trig"), (Compression::None, Some(InputFormat::TriG)));
        assert_eq!(d("x.rdf"), (Compression::None, Some(InputFormat::RdfXml)));
        assert_eq!(d("x.gz"), (Compression::Gzip, None));
        assert_eq!(d("notes.txt"), (Compression::None, None));
    }
}
