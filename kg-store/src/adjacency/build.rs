//! Building the CSR file from the triple indexes in bounded memory.
//!
//! The SPO index lists each subject's edges together and the OSP index each object's, so two
//! sequential scans produce both directions row by row: only one row is ever in memory. Rows go
//! to temporary files, which are then written behind the header (the two offset files
//! interleaved, then the two edge files) while the checksum is computed; the finished file
//! replaces the old one by rename.
//!
//! The finished file is written in whole 2 MiB chunks at 2 MiB offsets ([`ChunkWriter`]). A
//! filesystem with large folios (ext4 on recent kernels, XFS) then caches it in huge-page-sized
//! folios, which the kernel maps with one page-table entry per 2 MiB: path search's random reads
//! of a multi-gigabyte file stop missing the TLB on every hop. Written through 1 MiB buffered
//! writes at odd offsets, the same file sat in the cache as small folios, mapped 4 KiB at a
//! time, and 200M-triple queries were a quarter slower at p50 and p99 (README, "Huge pages for
//! the adjacency").

use super::csr::{CsrHeader, HEADER_BYTES};
use crate::error::{Result, StoreError};
use crate::id::TermId;
use crate::keys::QuadOrder;
use crate::progress::{Progress, Unit};
use crate::reader::StoreReader;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::Xxh3;

/// What a build produced.
#[derive(Clone, Debug)]
pub struct BuildSummary {
    pub rows: u64,
    pub edges: u64,
    pub bytes: u64,
    pub write_seq: u64,
}

/// One direction's rows being written: offsets and edges to two temporary files.
struct RowWriter {
    offsets: BufWriter<File>,
    edges: BufWriter<File>,
    paths: [PathBuf; 2],
    rows_written: u64,
    edge_count: u64,
    row: Vec<[u32; 2]>,
}

impl RowWriter {
    fn create(dir: &Path, name: &str) -> Result<Self> {
        let paths = [
            dir.join(format!("{name}.offsets")),
            dir.join(format!("{name}.edges")),
        ];
        let open = |p: &Path| {
            File::create(p)
                .map(|f| BufWriter::with_capacity(1 << 20, f))
                .map_err(StoreError::io(p))
        };
        let mut writer = Self {
            offsets: open(&paths[0])?,
            edges: open(&paths[1])?,
            paths,
            rows_written: 0,
            edge_count: 0,
            row: Vec::new(),
        };
        writer.write_offset()?;
        Ok(writer)
    }

    fn write_offset(&mut self) -> Result<()> {
        self.offsets
            .write_all(&self.edge_count.to_le_bytes())
            .map_err(StoreError::io(&self.paths[0]))
    }

    /// Ends rows up to and including `row` (earlier rows empty), with the buffered edges in `row`.
    fn finish_row(&mut self, row: u64) -> Result<()> {
        while self.rows_written < row {
            self.write_offset()?;
            self.rows_written += 1;
        }
        self.row.sort_unstable();
        self.row.dedup();
        for [n, p] in self.row.drain(..) {
            self.edges
                .write_all(&n.to_le_bytes())
                .and_then(|()| self.edges.write_all(&p.to_le_bytes()))
                .map_err(StoreError::io(&self.paths[1]))?;
            self.edge_count += 1;
        }
        self.write_offset()?;
        self.rows_written += 1;
        Ok(())
    }

    fn finish(mut self, rows: u64) -> Result<([PathBuf; 2], u64)> {
        while self.rows_written < rows {
            self.write_offset()?;
            self.rows_written += 1;
        }
        self.offsets
            .flush()
            .map_err(StoreError::io(&self.paths[0]))?;
        self.edges.flush().map_err(StoreError::io(&self.paths[1]))?;
        Ok((self.paths, self.edge_count))
    }
}

fn entity(id: TermId, what: &str) -> Result<u32> {
    id.entity_index()
        .ok_or_else(|| StoreError::Corruption(format!("{what} {id:?} is not an entity id")))
}

/// Scans one index and writes one direction's rows: `row_of` picks the row entity of a quad and
/// `edge_of` its `(neighbour, predicate)`.
fn write_direction(
    reader: &StoreReader,
    order: QuadOrder,
    dir: &Path,
    rows: u64,
    progress: &dyn Progress,
) -> Result<([PathBuf; 2], u64)> {
    let name = match order {
        QuadOrder::Spo => "out",
        _ => "in",
    };
    let mut writer = RowWriter::create(dir, name)?;
    let mut current: Option<u32> = None;
    let mut seen = 0u64;
    for key in reader.scan_prefix(&[order.table()]) {
        let key = key?;
        let quad = order
            .read_key(&key)
            .ok_or_else(|| StoreError::Corruption(format!("bad {order:?} key {key:?}")))?;
        seen += 1;
        if seen.is_multiple_of(262_144) {
            progress.advance(262_144);
        }
        if quad.object.is_literal() {
            continue;
        }
        let (row, edge) = match order {
            QuadOrder::Spo => (
                entity(quad.subject, "subject")?,
                [
                    entity(quad.object, "object")?,
                    entity(quad.predicate, "predicate")?,
                ],
            ),
            _ => (
                entity(quad.object, "object")?,
                [
                    entity(quad.subject, "subject")?,
                    entity(quad.predicate, "predicate")?,
                ],
            ),
        };
        if current != Some(row) {
            if let Some(done) = current {
                writer.finish_row(u64::from(done))?;
            }
            current = Some(row);
        }
        writer.row.push(edge);
    }
    progress.advance(seen % 262_144);
    if let Some(done) = current {
        writer.finish_row(u64::from(done))?;
    }
    writer.finish(rows)
}

/// Builds the CSR of the state `reader` sees into `target` (replaced atomically).
pub(crate) fn build_csr(
    reader: &StoreReader,
    target: &Path,
    store_id: u64,
    progress: &dyn Progress,
) -> Result<BuildSummary> {
    let counters = reader.counters()?;
    let rows = counters.next_entity;
    if rows > u64::from(u32::MAX) {
        return Err(StoreError::InvalidInput(format!(
            "{rows} entities: the adjacency indexes at most 2^32"
        )));
    }
    let parent = target
        .parent()
        .expect("the adjacency file lives in a directory");
    fs::create_dir_all(parent).map_err(StoreError::io(parent))?;
    let scratch = tempfile_dir(parent)?;
    let result = (|| {
        progress.begin(
            "indexing out-edges",
            Some(counters.quads),
            Unit::Items("quads"),
        );
        let (out_paths, out_edges) =
            write_direction(reader, QuadOrder::Spo, &scratch, rows, progress)?;
        progress.end();
        progress.begin(
            "indexing in-edges",
            Some(counters.quads),
            Unit::Items("quads"),
        );
        let (in_paths, in_edges) =
            write_direction(reader, QuadOrder::Osp, &scratch, rows, progress)?;
        progress.end();

        let tmp = scratch.join("graph.csr");
        let file = File::create(&tmp).map_err(StoreError::io(&tmp))?;
        let mut out = ChunkWriter::new(file);
        out.write_all(&[0; HEADER_BYTES])
            .map_err(StoreError::io(&tmp))?;
        let mut hasher = Xxh3::new();
        let mut buf = vec![0; 1 << 20];
        // The offsets as (out, in) pairs: both files have rows + 1 u64s.
        let open = |p: &PathBuf| {
            File::open(p)
                .map(|f| BufReader::with_capacity(1 << 20, f))
                .map_err(StoreError::io(p))
        };
        let (mut outs, mut ins) = (open(&out_paths[0])?, open(&in_paths[0])?);
        let mut pair = [0u8; 16];
        for _ in 0..=rows {
            outs.read_exact(&mut pair[..8])
                .map_err(StoreError::io(&out_paths[0]))?;
            ins.read_exact(&mut pair[8..])
                .map_err(StoreError::io(&in_paths[0]))?;
            hasher.update(&pair);
            out.write_all(&pair).map_err(StoreError::io(&tmp))?;
        }
        for part in [&out_paths[1], &in_paths[1]] {
            let mut input = open(part)?;
            loop {
                let n = input.read(&mut buf).map_err(StoreError::io(part))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n]).map_err(StoreError::io(&tmp))?;
            }
        }
        let header = CsrHeader {
            rows,
            out_edges,
            in_edges,
            write_seq: counters.write_seq,
            store_id,
            data_checksum: hasher.digest(),
        };
        let mut file = out.finish().map_err(StoreError::io(&tmp))?;
        file.seek(SeekFrom::Start(0))
            .map_err(StoreError::io(&tmp))?;
        file.write_all(&header.encode())
            .map_err(StoreError::io(&tmp))?;
        file.sync_all().map_err(StoreError::io(&tmp))?;
        let bytes = file.metadata().map_err(StoreError::io(&tmp))?.len();
        fs::rename(&tmp, target).map_err(StoreError::io(target))?;
        File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(StoreError::io(parent))?;
        Ok(BuildSummary {
            rows,
            edges: out_edges,
            bytes,
            write_seq: counters.write_seq,
        })
    })();
    let _ = fs::remove_dir_all(&scratch);
    result
}

/// The size of an x86-64 or arm64 (4 KiB granule) huge page, the unit the CSR file is written in.
const CHUNK: usize = 2 << 20;

/// A writer that passes its bytes on in whole [`CHUNK`]s only, the last part at [`finish`]:
/// written from offset 0, every write but the last starts at a multiple of the chunk, so the
/// page cache can hold the file in huge-page folios.
///
/// [`finish`]: ChunkWriter::finish
struct ChunkWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> ChunkWriter<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    /// Writes the last, partial chunk and hands the inner writer back.
    fn finish(mut self) -> std::io::Result<W> {
        self.inner.write_all(&self.buf)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ChunkWriter<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.inner.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(n)
    }

    /// Does nothing: a partial chunk written early would shift every later chunk off its
    /// boundary. [`ChunkWriter::finish`] writes it.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn tempfile_dir(parent: &Path) -> Result<PathBuf> {
    remove_abandoned_builds(parent);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = parent.join(format!(".build-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).map_err(StoreError::io(&dir))?;
    Ok(dir)
}

/// Removes the scratch directories of builds whose process is gone (a `kale index` killed part
/// way leaves its `.build-PID-TIME`). A directory whose process may still run is left alone;
/// where `/proc` is missing, every process may.
fn remove_abandoned_builds(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let proc = Path::new("/proc");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(".build-"))
            .and_then(|rest| rest.split('-').next())
            .filter(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if proc.join("self").exists() && !proc.join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the length of every write it is given.
    #[derive(Default)]
    struct Writes(Vec<u8>, Vec<usize>);

    impl Write for Writes {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.extend_from_slice(data);
            self.1.push(data.len());
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn chunk_writer_writes_whole_chunks_and_every_byte() {
        // The CSR's shape: an 80-byte header, 16-byte offset pairs, then large copied blocks.
        let mut expected = vec![7u8; HEADER_BYTES];
        let mut w = ChunkWriter::new(Writes::default());
        w.write_all(&expected).unwrap();
        for i in 0..300_000u64 {
            let pair = [i.to_le_bytes(), (i * 3).to_le_bytes()].concat();
            w.write_all(&pair).unwrap();
            expected.extend_from_slice(&pair);
        }
        let block: Vec<u8> = (0..(3 << 20) + 12_345).map(|i| i as u8).collect();
        for _ in 0..2 {
            w.flush().unwrap();
            w.write_all(&block).unwrap();
            expected.extend_from_slice(&block);
        }
        let Writes(bytes, lens) = w.finish().unwrap();
        assert_eq!(bytes, expected);
        let (last, whole) = lens.split_last().unwrap();
        assert!(whole.len() >= 5, "{} whole chunks", whole.len());
        assert!(whole.iter().all(|&n| n == CHUNK), "{whole:?}");
        assert_eq!(*last, expected.len() % CHUNK);
    }
}
