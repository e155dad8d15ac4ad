//! The terms of recently read ids, shared by every reader of one open store.
//!
//! An id names one term for the life of a store: the dictionary is only ever added to, and a
//! reader sees an id only once the write that made it has committed. So a term once read can be
//! kept and handed to any later reader, whatever its snapshot, with no invalidation. Result rows
//! of a SPARQL query, rationales and rendered paths name the same entities, predicates and
//! labels again and again; each would otherwise be a RocksDB point lookup and a decode (as a node
//! cache of Jena's TDB spares it).
//!
//! Two generations per shard approximate LRU at the cost of a hash lookup: when the young one is
//! full it becomes the old one, and a hit in the old one moves the term back into the young.

use crate::id::TermId;
use oxrdf::Term;
use rustc_hash::FxHashMap;
use std::sync::Mutex;

/// Shards: readers on different threads rarely wait on one another's lock.
const SHARDS: usize = 16;

/// Terms per generation of a shard: 2 x 16 x 8,192 = 262,144 terms at most, some tens of MB.
const GENERATION: usize = 8_192;

#[derive(Default)]
struct Shard {
    young: FxHashMap<TermId, Term>,
    old: FxHashMap<TermId, Term>,
}

pub(crate) struct TermCache {
    shards: Vec<Mutex<Shard>>,
}

impl TermCache {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard(&self, id: TermId) -> std::sync::MutexGuard<'_, Shard> {
        // Ids are dense: their low bits spread them evenly (the lowest tells entity from literal).
        let index = (id.as_u64() >> 1) as usize % SHARDS;
        self.shards[index].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn get(&self, id: TermId) -> Option<Term> {
        let mut shard = self.shard(id);
        if let Some(term) = shard.young.get(&id) {
            return Some(term.clone());
        }
        let term = shard.old.remove(&id)?;
        shard.insert(id, term.clone());
        Some(term)
    }

    pub(crate) fn insert(&self, id: TermId, term: Term) {
        self.shard(id).insert(id, term);
    }
}

impl Shard {
    fn insert(&mut self, id: TermId, term: Term) {
        if self.young.len() >= GENERATION {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(id, term);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::NamedNode;

    fn term(i: u64) -> Term {
        NamedNode::new_unchecked(format!("http://e/{i}")).into()
    }

    #[test]
    fn recent_terms_stay_and_the_cache_stays_bounded() {
        let cache = TermCache::new();
        let hot = TermId::from_u64(0);
        cache.insert(hot, term(0));
        for i in 1..1_000_000u64 {
            cache.insert(TermId::from_u64(i * 2), term(i));
            if i % 1000 == 0 {
                // Read now and then, the hot term keeps moving back into the young generation.
                assert_eq!(cache.get(hot), Some(term(0)));
            }
        }
        assert_eq!(
            cache.get(TermId::from_u64(999_999 * 2)),
            Some(term(999_999))
        );
        assert_eq!(
            cache.get(TermId::from_u64(2)),
            None,
            "the oldest terms are gone"
        );
        let held: usize = cache
            .shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap();
                s.young.len() + s.old.len()
            })
            .sum();
        assert!(held <= 2 * SHARDS * GENERATION, "{held} terms held");
    }
}
