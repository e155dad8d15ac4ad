//! The CSR file: for every entity, its out-edges and in-edges as sorted `(neighbour, predicate)`
//! pairs of entity indexes, mapped from disk with no copy into the heap.
//!
//! Layout (little-endian), version 2:
//!
//! | bytes | what |
//! | --- | --- |
//! | 0..8 | magic `KALECSR\0` |
//! | 8..12 | format version (2) |
//! | 16..24 | rows (entities) |
//! | 24..32, 32..40 | out-edges, in-edges |
//! | 40..48 | the store's `write_seq` this file reflects |
//! | 48..56 | the identity of the store it was built from |
//! | 56..64 | xxh3-64 of everything after the header |
//! | 64..72 | reserved (0) |
//! | 72..80 | xxh3-64 of bytes 0..72 |
//! | then | offsets: rows + 1 pairs (out, in) of u64; out edges, in edges (u32 pairs) |
//!
//! A row's out- and in-offsets sit side by side, so a node's degree (the hub test of path search,
//! made for every state it builds) costs one cache line, not two.
//!
//! Opening checks the length, the magic, the version, both checksums and the store identity: a
//! truncated, corrupted, foreign or other store's file is an error, never a wrong answer or
//! undefined behaviour. Arithmetic on the header's counts is checked (the lint below keeps it
//! so): a header that describes more than the address space is an error, not a wrap.
#![warn(clippy::arithmetic_side_effects)]

use crate::backend::{map_file, prefetch};
use crate::error::{Result, StoreError};
use memmap2::{Advice, Mmap};
use std::path::Path;
use xxhash_rust::xxh3::xxh3_64;

pub const MAGIC: &[u8; 8] = b"KALECSR\0";
pub const VERSION: u32 = 2;
pub const HEADER_BYTES: usize = 80;

/// The header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsrHeader {
    pub rows: u64,
    pub out_edges: u64,
    pub in_edges: u64,
    pub write_seq: u64,
    pub store_id: u64,
    pub data_checksum: u64,
}

impl CsrHeader {
    pub fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut h = [0; HEADER_BYTES];
        h[..8].copy_from_slice(MAGIC);
        h[8..12].copy_from_slice(&VERSION.to_le_bytes());
        let fields = [
            self.rows,
            self.out_edges,
            self.in_edges,
            self.write_seq,
            self.store_id,
            self.data_checksum,
            0,
        ];
        for (slot, v) in h[16..72].chunks_exact_mut(8).zip(fields) {
            slot.copy_from_slice(&v.to_le_bytes());
        }
        let check = xxh3_64(&h[..72]);
        h[72..].copy_from_slice(&check.to_le_bytes());
        h
    }

    fn decode(bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |reason: String| StoreError::Adjacency {
            path: path.to_owned(),
            reason,
        };
        if bytes.len() < HEADER_BYTES {
            return Err(bad(format!(
                "truncated: {} bytes, shorter than its header",
                bytes.len()
            )));
        }
        if &bytes[..8] != MAGIC {
            return Err(bad("not a kale adjacency file (bad magic)".into()));
        }
        let u64_at = |o: usize| u64::from_le_bytes(*bytes[o..].first_chunk().expect("8 bytes"));
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(bad(format!(
                "format version {version}, this build reads {VERSION}; rebuild it with `kale index`"
            )));
        }
        if xxh3_64(&bytes[..72]) != u64_at(72) {
            return Err(bad("corrupted header (checksum mismatch)".into()));
        }
        Ok(Self {
            rows: u64_at(16),
            out_edges: u64_at(24),
            in_edges: u64_at(32),
            write_seq: u64_at(40),
            store_id: u64_at(48),
            data_checksum: u64_at(56),
        })
    }

    /// The total file length this header describes.
    pub fn file_len(&self) -> Option<u64> {
        // (out, in) offset pairs of u64.
        let offsets = self.rows.checked_add(1)?.checked_mul(16)?;
        let edges = self.out_edges.checked_add(self.in_edges)?.checked_mul(8)?;
        (HEADER_BYTES as u64)
            .checked_add(offsets)?
            .checked_add(edges)
    }
}

/// A validated, mapped CSR file.
pub struct Csr {
    map: Mmap,
    pub header: CsrHeader,
    /// Where the out-edges and the in-edges start (the offsets end at the first).
    out_start: usize,
    in_start: usize,
}

impl Csr {
    /// Opens and validates the file of the store with identity `store_id`.
    pub fn open(path: &Path, store_id: u64) -> Result<Self> {
        // The file is only ever replaced by rename (build.rs), and validated here before use.
        let map = match map_file(path) {
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Adjacency {
                    path: path.to_owned(),
                    reason: "the file is missing (deleted, or the store copied without it); rebuild it with `kale index`".into(),
                })
            }
            other => other?,
        };
        // Before the checksum pass below reads the whole file: where it is not cached, the
        // reads then fill the cache in huge-page folios (see build.rs for why that matters). A
        // kernel without transparent huge pages refuses the advice; the mapping works as is.
        let _ = map.advise(Advice::HugePage);
        let header = CsrHeader::decode(&map, path)?;
        let bad = |reason: String| StoreError::Adjacency {
            path: path.to_owned(),
            reason,
        };
        if header.store_id != store_id {
            return Err(bad(format!(
                "it was built from another store (identity {:016x}, this store's is {store_id:016x}): was it copied in? Rebuild it with `kale index`",
                header.store_id
            )));
        }
        match header.file_len() {
            Some(len) if len == map.len() as u64 => {}
            Some(len) => {
                return Err(bad(format!(
                    "truncated or padded: {} bytes, its header describes {len}",
                    map.len()
                )))
            }
            None => return Err(bad("impossible counts in the header".into())),
        }
        if xxh3_64(&map[HEADER_BYTES..]) != header.data_checksum {
            return Err(bad("corrupted data (checksum mismatch)".into()));
        }
        // Within the file's length, checked above: these fit in usize.
        let starts = usize::try_from(header.rows)
            .ok()
            .and_then(|rows| {
                rows.checked_add(1)?
                    .checked_mul(16)?
                    .checked_add(HEADER_BYTES)
            })
            .and_then(|out_start| {
                let out_bytes = usize::try_from(header.out_edges).ok()?.checked_mul(8)?;
                Some((out_start, out_start.checked_add(out_bytes)?))
            });
        let Some((out_start, in_start)) = starts else {
            return Err(bad("impossible counts in the header".into()));
        };
        let csr = Self {
            map,
            header,
            out_start,
            in_start,
        };
        if csr.offsets().last() != Some(&[header.out_edges, header.in_edges]) {
            return Err(bad("offsets do not match the edge counts".into()));
        }
        // Offsets only grow: a row's edges never lie outside the arrays.
        if csr
            .offsets()
            .windows(2)
            .any(|w| w[1][0] < w[0][0] || w[1][1] < w[0][1])
        {
            return Err(bad("offsets decrease".into()));
        }
        Ok(csr)
    }

    /// Per row, its (out, in) starting offsets; one pair more than rows.
    fn offsets(&self) -> &[[u64; 2]] {
        bytemuck::cast_slice(&self.map[HEADER_BYTES..self.out_start])
    }

    fn out_edge_array(&self) -> &[[u32; 2]] {
        bytemuck::cast_slice(&self.map[self.out_start..self.in_start])
    }

    fn in_edge_array(&self) -> &[[u32; 2]] {
        bytemuck::cast_slice(&self.map[self.in_start..])
    }

    /// Row `v`'s (out, in) offsets and the next row's; `None` for an entity newer than the
    /// file, whose edges are all in the delta.
    #[inline]
    fn bounds(&self, v: u32) -> Option<&[[u64; 2]; 2]> {
        self.offsets().get(v as usize..)?.first_chunk()
    }

    /// Row `v`'s edges in direction `d` (0 out, 1 in).
    #[inline]
    fn row<'a>(&self, v: u32, d: usize, edges: &'a [[u32; 2]]) -> &'a [[u32; 2]] {
        let Some([start, end]) = self.bounds(v) else {
            return &[];
        };
        edges
            .get(start[d] as usize..end[d] as usize)
            .unwrap_or_default()
    }

    /// `v`'s out-edges as `(object, predicate)`, sorted.
    #[inline]
    pub fn out_row(&self, v: u32) -> &[[u32; 2]] {
        self.row(v, 0, self.out_edge_array())
    }

    /// `v`'s in-edges as `(subject, predicate)`, sorted.
    #[inline]
    pub fn in_row(&self, v: u32) -> &[[u32; 2]] {
        self.row(v, 1, self.in_edge_array())
    }

    /// Asks the CPU to start loading row `v`'s offsets (the line [`Csr::degree`] reads), so
    /// that a search which will ask about many nodes has their cache misses in flight at once
    /// instead of one after another. Only a hint: no effect on what anything returns.
    #[inline]
    pub fn prefetch_offsets(&self, v: u32) {
        if let Some(bounds) = self.offsets().get(v as usize) {
            prefetch(bounds);
        }
    }

    /// Asks the CPU to start loading the first edges of row `v`'s out- and in-rows. Reads the
    /// row's offsets, so it pays off when those are already cached (after
    /// [`Csr::prefetch_offsets`] or a degree lookup).
    #[inline]
    pub fn prefetch_rows(&self, v: u32) {
        let Some([start, _]) = self.bounds(v) else {
            return;
        };
        if let Some(edge) = self.out_edge_array().get(start[0] as usize) {
            prefetch(edge);
        }
        if let Some(edge) = self.in_edge_array().get(start[1] as usize) {
            prefetch(edge);
        }
    }

    /// Edges at `v`, both directions, from the offsets alone (one cache line).
    #[inline]
    pub fn degree(&self, v: u32) -> u64 {
        let Some([[out_start, in_start], [out_end, in_end]]) = self.bounds(v) else {
            return 0;
        };
        // Offsets never decrease (checked at open), so neither difference saturates.
        out_end
            .saturating_sub(*out_start)
            .saturating_add(in_end.saturating_sub(*in_start))
    }

    pub fn bytes(&self) -> u64 {
        self.map.len() as u64
    }

    /// How much of the mapping the kernel maps with huge-page entries (`FilePmdMapped` in
    /// `/proc/self/smaps`): the page-cache state that decides path latency on a file larger than
    /// the TLB's reach. `None` where the kernel does not say.
    pub fn huge_mapped_bytes(&self) -> Option<u64> {
        let at = self.map.as_ptr() as usize;
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            // A mapping's first line starts with its address range, `lo-hi` in hex.
            let range = line.split_once(' ').and_then(|(r, _)| r.split_once('-'));
            if let Some((lo, hi)) = range {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    inside = lo <= at && at < hi;
                    continue;
                }
            }
            if let Some(kb) = line.strip_prefix("FilePmdMapped:").filter(|_| inside) {
                let kb: u64 = kb.trim().strip_suffix("kB")?.trim().parse().ok()?;
                return Some(kb.saturating_mul(1024));
            }
        }
        None
    }
}
