//! The key space: one RocksDB column family, each table a one-byte key prefix.
//!
//! One column family (not one per table) because a bulk load commits by ingesting all its SST
//! files in a single call, and RocksDB makes that atomic only within one column family.
//!
//! Quad keys are `[table][a][b][c]` with ids in the [`write_varint`] form, plus `[g]` for a quad
//! in a named graph. A default-graph quad has no graph suffix, so it sorts just before the same
//! triple in named graphs and a prefix scan on `[a][b][c]` finds every graph's copy.

use crate::id::{read_varint, write_varint, TermId};

/// Counters and markers (see `meta.rs`).
pub const META: u8 = 0;
/// id -> canonical term.
pub const ID_TO_TERM: u8 = 1;
/// `[hash64][id]` -> empty: candidates for a term, confirmed against `ID_TO_TERM`.
pub const TERM_TO_ID: u8 = 2;
pub const SPO: u8 = 3;
pub const POS: u8 = 4;
pub const OSP: u8 = 5;
/// `[seq]` -> an edge added or removed after the adjacency was built.
pub const DELTA: u8 = 6;
/// `[normalised label][0][entity]` -> empty: the entity-linking index.
#[allow(dead_code)] // the entity-linking index (kale-datasets) will use it
pub const LABELS: u8 = 7;
/// `[graph]` -> empty: the named graphs the store knows (see `StoreReader::named_graphs`).
pub const GRAPHS: u8 = 8;

/// A quad as ids. `graph` is `None` for the default graph.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct EncodedQuad {
    pub subject: TermId,
    pub predicate: TermId,
    pub object: TermId,
    pub graph: Option<TermId>,
}

/// The three orders every quad is stored in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum QuadOrder {
    Spo,
    Pos,
    Osp,
}

impl QuadOrder {
    pub const ALL: [Self; 3] = [Self::Spo, Self::Pos, Self::Osp];

    pub const fn table(self) -> u8 {
        match self {
            Self::Spo => SPO,
            Self::Pos => POS,
            Self::Osp => OSP,
        }
    }

    /// The quad's three positions in this order.
    #[inline]
    pub fn permute(self, q: &EncodedQuad) -> [TermId; 3] {
        match self {
            Self::Spo => [q.subject, q.predicate, q.object],
            Self::Pos => [q.predicate, q.object, q.subject],
            Self::Osp => [q.object, q.subject, q.predicate],
        }
    }

    #[inline]
    fn unpermute(self, [a, b, c]: [TermId; 3], graph: Option<TermId>) -> EncodedQuad {
        let (subject, predicate, object) = match self {
            Self::Spo => (a, b, c),
            Self::Pos => (c, a, b),
            Self::Osp => (b, c, a),
        };
        EncodedQuad {
            subject,
            predicate,
            object,
            graph,
        }
    }

    /// Writes the key of `quad` in this order into `buf` (cleared first).
    #[inline]
    pub fn write_key(self, quad: &EncodedQuad, buf: &mut Vec<u8>) {
        buf.clear();
        buf.push(self.table());
        for id in self.permute(quad) {
            write_varint(buf, id.as_u64());
        }
        if let Some(g) = quad.graph {
            write_varint(buf, g.as_u64());
        }
    }

    /// Decodes a key of this order (table byte included).
    pub fn read_key(self, key: &[u8]) -> Option<EncodedQuad> {
        let (&table, rest) = key.split_first()?;
        if table != self.table() {
            return None;
        }
        let (a, rest) = read_varint(rest)?;
        let (b, rest) = read_varint(rest)?;
        let (c, rest) = read_varint(rest)?;
        let graph = if rest.is_empty() {
            None
        } else {
            let (g, rest) = read_varint(rest)?;
            if !rest.is_empty() {
                return None;
            }
            Some(TermId::from_u64(g))
        };
        Some(self.unpermute(
            [
                TermId::from_u64(a),
                TermId::from_u64(b),
                TermId::from_u64(c),
            ],
            graph,
        ))
    }
}

/// The best order and key prefix for a pattern: every combination of bound positions is a
/// prefix scan of one of the three orders. The graph is filtered after the scan.
pub fn pattern_prefix(
    subject: Option<TermId>,
    predicate: Option<TermId>,
    object: Option<TermId>,
) -> (QuadOrder, Vec<u8>) {
    let (order, bound): (QuadOrder, &[TermId]) = match (subject, predicate, object) {
        (Some(s), Some(p), Some(o)) => (QuadOrder::Spo, &[s, p, o]),
        (Some(s), Some(p), None) => (QuadOrder::Spo, &[s, p]),
        (Some(s), None, Some(o)) => (QuadOrder::Osp, &[o, s]),
        (Some(s), None, None) => (QuadOrder::Spo, &[s]),
        (None, Some(p), Some(o)) => (QuadOrder::Pos, &[p, o]),
        (None, Some(p), None) => (QuadOrder::Pos, &[p]),
        (None, None, Some(o)) => (QuadOrder::Osp, &[o]),
        (None, None, None) => (QuadOrder::Spo, &[]),
    };
    let mut prefix = vec![order.table()];
    for id in bound {
        write_varint(&mut prefix, id.as_u64());
    }
    (order, prefix)
}

/// `[ID_TO_TERM][id]`
pub fn id_to_term_key(id: TermId) -> Vec<u8> {
    let mut key = Vec::with_capacity(10);
    key.push(ID_TO_TERM);
    write_varint(&mut key, id.as_u64());
    key
}

/// `[TERM_TO_ID][hash64]`: the prefix of a term's candidate ids.
pub fn term_to_id_prefix(hash: u64) -> [u8; 9] {
    let mut key = [0; 9];
    key[0] = TERM_TO_ID;
    key[1..].copy_from_slice(&hash.to_be_bytes());
    key
}

/// `[TERM_TO_ID][hash64][id]`
pub fn term_to_id_key(hash: u64, id: TermId, buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend_from_slice(&term_to_id_prefix(hash));
    write_varint(buf, id.as_u64());
}

/// `[GRAPHS][g]`
pub fn graph_key(graph: TermId) -> Vec<u8> {
    let mut key = vec![GRAPHS];
    write_varint(&mut key, graph.as_u64());
    key
}

/// The smallest key greater than every key that starts with `prefix` (`None`: no such key).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quad() -> impl Strategy<Value = EncodedQuad> {
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<Option<u64>>(),
        )
            .prop_map(|(s, p, o, g)| EncodedQuad {
                subject: TermId::from_u64(s),
                predicate: TermId::from_u64(p),
                object: TermId::from_u64(o),
                graph: g.map(TermId::from_u64),
            })
    }

    proptest! {
        #[test]
        fn quad_keys_round_trip(q in quad()) {
            let mut buf = Vec::new();
            for order in QuadOrder::ALL {
                order.write_key(&q, &mut buf);
                prop_assert_eq!(order.read_key(&buf), Some(q));
            }
        }

        #[test]
        fn key_order_is_tuple_order(a in quad(), b in quad()) {
            let (mut ka, mut kb) = (Vec::new(), Vec::new());
            for order in QuadOrder::ALL {
                order.write_key(&a, &mut ka);
                order.write_key(&b, &mut kb);
                let ta = (order.permute(&a), a.graph.map(|g| g.as_u64() as u128 + 1).unwrap_or(0));
                let tb = (order.permute(&b), b.graph.map(|g| g.as_u64() as u128 + 1).unwrap_or(0));
                prop_assert_eq!(ka.cmp(&kb), ta.cmp(&tb));
            }
        }

        #[test]
        fn pattern_prefixes_match_their_quads(q in quad(), mask in 0u8..8) {
            let s = (mask & 1 != 0).then_some(q.subject);
            let p = (mask & 2 != 0).then_some(q.predicate);
            let o = (mask & 4 != 0).then_some(q.object);
            let (order, prefix) = pattern_prefix(s, p, o);
            let mut key = Vec::new();
            order.write_key(&q, &mut key);
            prop_assert!(key.starts_with(&prefix));
        }
    }

    #[test]
    fn prefix_end_is_the_next_key() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 255]), Some(vec![2]));
        assert_eq!(prefix_end(&[255, 255]), None);
    }
}
