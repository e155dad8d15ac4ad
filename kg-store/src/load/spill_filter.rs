//! The load's own filter over the terms its term map has spilled: a term it does not hold is
//! not in the spill table, which is then not read.
//!
//! Most terms a spilling load looks up are new, found nowhere. RocksDB's per-file Bloom filters
//! answered those, at a probe of every level's filter per term, and held outside any cache they
//! grew with what had spilled (40 MB of a 100M-triple load under 440M, past a GB at Wikidata's
//! terms). This filter is one table of a size fixed by the load's budget: it never grows, and
//! as more spills its false positives rise instead, each costing one lookup of the spill table.
//! A blocked Bloom filter: all of a term's bits lie in one 64-byte block, one cache miss a
//! probe, and they are taken from the term's 128-bit hash, which is already uniform.

/// Bits set per term. Optimal near 10 bits a term (a 1% false-positive rate in 512-bit blocks);
/// fewer bits a term, as the spill outgrows the filter, would want fewer.
const PROBES: u32 = 6;

#[derive(Clone, Copy)]
#[repr(align(64))]
struct Block([u64; 8]);

pub(super) struct SpillFilter {
    blocks: Vec<Block>,
}

impl SpillFilter {
    /// A filter of about `bytes` (at least one block). Its pages are only touched as terms are
    /// added, but a term's block is anywhere, so a spilling load soon touches them all.
    pub(super) fn with_memory(bytes: usize) -> Self {
        Self {
            blocks: vec![Block([0; 8]); (bytes / size_of::<Block>()).max(1)],
        }
    }

    pub(super) fn insert(&mut self, hash: u128) {
        let (block, bits) = self.locate(hash);
        let block = &mut self.blocks[block].0;
        for bit in bits {
            block[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// False when the term was never inserted; true when it was, and for a share of the rest.
    pub(super) fn may_contain(&self, hash: u128) -> bool {
        let (block, bits) = self.locate(hash);
        let block = &self.blocks[block].0;
        bits.into_iter()
            .all(|bit| block[bit / 64] & (1 << (bit % 64)) != 0)
    }

    /// The block (from the low word, scaled to the table so it need not be a power of two) and
    /// the bits in it (nine bits each from the high word, below its top bits, which pick the
    /// term map's rotation slices and so are skewed within one slice).
    #[inline]
    fn locate(&self, hash: u128) -> (usize, [usize; PROBES as usize]) {
        let block = ((u128::from(hash as u64) * self.blocks.len() as u128) >> 64) as usize;
        let high = (hash >> 64) as u64;
        let bits = std::array::from_fn(|i| ((high >> (9 * i)) & 511) as usize);
        (block, bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the filter's size, a term inserted is always said to be there.
        #[test]
        fn no_term_inserted_is_ever_turned_away(
            hashes in proptest::collection::vec(any::<u128>(), 1..2000),
            bytes in 1usize..100_000,
        ) {
            let mut filter = SpillFilter::with_memory(bytes);
            for &hash in &hashes {
                filter.insert(hash);
            }
            for &hash in &hashes {
                prop_assert!(filter.may_contain(hash));
            }
        }
    }

    /// At 10 bits a term about 1% of absent terms get through (0.8% for six probes of an
    /// unblocked filter, a little more in 512-bit blocks); at 2.5 bits a term, 56%, but not all.
    #[test]
    fn false_positives_follow_the_bits_per_term() {
        let hash = |i: u64| {
            let x = u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
            x ^ (x >> 61)
        };
        for (terms, bytes, low, high) in [
            (200_000, 250_000, 0.005, 0.02),
            (800_000, 250_000, 0.45, 0.65),
        ] {
            let mut filter = SpillFilter::with_memory(bytes);
            for i in 0..terms {
                filter.insert(hash(i));
            }
            let absent = 100_000;
            let passed = (terms..terms + absent)
                .filter(|&i| filter.may_contain(hash(i)))
                .count() as f64
                / absent as f64;
            assert!(
                (low..high).contains(&passed),
                "{terms} terms in {bytes} bytes: {passed}"
            );
        }
    }
}
