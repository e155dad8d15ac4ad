//! The store's counters: one record under one key, so that every commit (a write batch or a
//! bulk load's ingestion) updates all of them atomically with the data they describe.

use crate::error::{Result, StoreError};
use crate::keys::META;

/// The key of the counters record.
pub const COUNTERS_KEY: &[u8] = &[META, b'c'];
/// The key of the format marker, written once when a store is created.
pub const FORMAT_KEY: &[u8] = &[META, b'f'];
/// The value of the format marker of this version.
pub const FORMAT: &[u8] = b"kale-store/1";
/// The key of the store's identity: 8 random bytes written when the store is created, which
/// derived files (the adjacency) carry so that one copied from another store is refused.
pub const STORE_ID_KEY: &[u8] = &[META, b'i'];

/// A fresh store identity: random enough that two stores never share one.
pub fn new_store_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    // Never 0: that is "no identity" in files of stores made before identities existed.
    hasher.finish().max(1)
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Entities (IRIs, blank nodes) ever interned: the next entity index.
    pub next_entity: u64,
    /// Literals ever interned: the next literal index.
    pub next_literal: u64,
    /// Quads stored now.
    pub quads: u64,
    /// Commits so far. Every live write and every bulk load adds one.
    pub write_seq: u64,
    /// The `write_seq` of the last commit that changed edges without recording them in the
    /// delta (a bulk load): an adjacency built before it is stale.
    pub adjacency_base: u64,
}

impl Counters {
    const LEN: usize = 5 * 8;

    pub fn encode(&self) -> Vec<u8> {
        [
            self.next_entity,
            self.next_literal,
            self.quads,
            self.write_seq,
            self.adjacency_base,
        ]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != Self::LEN {
            return Err(StoreError::Corruption(format!(
                "the counters record has {} bytes, expected {}",
                bytes.len(),
                Self::LEN
            )));
        }
        let field = |i: usize| {
            let mut b = [0; 8];
            b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_be_bytes(b)
        };
        Ok(Self {
            next_entity: field(0),
            next_literal: field(1),
            quads: field(2),
            write_seq: field(3),
            adjacency_base: field(4),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_round_trip_and_reject_bad_lengths() {
        let c = Counters {
            next_entity: 1,
            next_literal: 2,
            quads: 3,
            write_seq: 4,
            adjacency_base: 5,
        };
        assert_eq!(Counters::decode(&c.encode()).unwrap(), c);
        assert!(Counters::decode(&[0; 7]).is_err());
    }
}
