//! Term identifiers and the order-preserving byte encoding they take inside keys.
//!
//! Entities (IRIs and blank nodes) and literals are numbered in two dense id spaces; the low bit
//! of a [`TermId`] says which. An entity's index is its row in the adjacency arrays, so the
//! adjacency never needs a second mapping, and literals never occupy a row.

use std::fmt;

/// The id of an interned RDF term.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TermId(u64);

impl TermId {
    /// The id of the `index`-th entity (IRI or blank node).
    #[inline]
    pub const fn entity(index: u64) -> Self {
        Self(index << 1)
    }

    /// The id of the `index`-th literal.
    #[inline]
    pub const fn literal(index: u64) -> Self {
        Self((index << 1) | 1)
    }

    /// Rebuilds an id from [`TermId::as_u64`].
    #[inline]
    pub const fn from_u64(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw value, as stored in keys.
    #[inline]
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    #[inline]
    pub const fn is_literal(self) -> bool {
        self.0 & 1 == 1
    }

    #[inline]
    pub const fn is_entity(self) -> bool {
        self.0 & 1 == 0
    }

    /// The position inside its id space (entities and literals are counted separately).
    #[inline]
    pub const fn index(self) -> u64 {
        self.0 >> 1
    }

    /// The adjacency row of an entity; `None` for a literal.
    #[inline]
    pub fn entity_index(self) -> Option<u32> {
        if self.is_entity() {
            u32::try_from(self.index()).ok()
        } else {
            None
        }
    }
}

impl fmt::Debug for TermId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_literal() {
            write!(f, "L{}", self.index())
        } else {
            write!(f, "E{}", self.index())
        }
    }
}

/// Appends `value` in a self-delimiting, order-preserving form: one length byte (0 to 8) and the
/// value's significant big-endian bytes. Byte order of encodings equals numeric order, so sorted
/// keys are sorted ids, and small ids take few bytes (an id below 2^24 takes 4).
#[inline]
pub fn write_varint(buf: &mut Vec<u8>, value: u64) {
    let len = 8 - (value.leading_zeros() / 8) as usize;
    // `len` fits in a byte: at most 8.
    buf.push(len as u8);
    buf.extend_from_slice(&value.to_be_bytes()[8 - len..]);
}

/// Reads a value written by [`write_varint`], returning it and the rest of the input.
#[inline]
pub fn read_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (&len, rest) = bytes.split_first()?;
    let len = usize::from(len);
    if len > 8 || rest.len() < len {
        return None;
    }
    let mut buf = [0; 8];
    buf[8 - len..].copy_from_slice(&rest[..len]);
    Some((u64::from_be_bytes(buf), &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varint_round_trips(value: u64, tail: Vec<u8>) {
            let mut buf = Vec::new();
            write_varint(&mut buf, value);
            buf.extend_from_slice(&tail);
            let (decoded, rest) = read_varint(&buf).unwrap();
            prop_assert_eq!(decoded, value);
            prop_assert_eq!(rest, &tail[..]);
        }

        #[test]
        fn varint_preserves_order(a: u64, b: u64) {
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            write_varint(&mut ea, a);
            write_varint(&mut eb, b);
            prop_assert_eq!(a.cmp(&b), ea.cmp(&eb));
        }

        #[test]
        fn term_ids_keep_their_kind(index in 0u64..(1 << 62)) {
            let e = TermId::entity(index);
            let l = TermId::literal(index);
            prop_assert!(e.is_entity() && !e.is_literal());
            prop_assert!(l.is_literal() && !l.is_entity());
            prop_assert_eq!(e.index(), index);
            prop_assert_eq!(l.index(), index);
            prop_assert_eq!(TermId::from_u64(e.as_u64()), e);
        }
    }

    #[test]
    fn varint_rejects_truncated_input() {
        assert!(read_varint(&[]).is_none());
        assert!(read_varint(&[3, 1, 2]).is_none());
        assert!(read_varint(&[9, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_none());
    }
}
