//! Deterministic shards of a dataset (`kale synth --shard I/N`), so N hosts, each with a
//! snapshot of the store, can synthesise one dataset between them: item `p` (its position in
//! the input) belongs to shard `p mod N`. Synthesis of an item reads nothing of the others (fact
//! checks are seeded per item), so the N outputs, merged round-robin, are the unsharded output.

use crate::error::DatasetError;
use std::str::FromStr;

/// The `index`-th of `count` shards, counting from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The items of this shard, in input order.
    pub fn select<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(p, _)| p % self.count == self.index)
            .map(|(_, item)| item)
            .collect()
    }
}

impl FromStr for Shard {
    type Err = DatasetError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            DatasetError::Config(format!(
                "--shard {text:?}: use I/N with 0 <= I < N (e.g. 0/4 ... 3/4 for four hosts)"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_items_in_order() {
        let items: Vec<usize> = (0..10).collect();
        let shards: Vec<Vec<usize>> = (0..3)
            .map(|index| Shard { index, count: 3 }.select(items.clone()))
            .collect();
        assert_eq!(shards[0], [0, 3, 6, 9]);
        assert_eq!(shards[1], [1, 4, 7]);
        assert_eq!(shards[2], [2, 5, 8]);
        assert_eq!(
            "1/3".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 3 }
        );
        for bad in ["3/3", "0/0", "1", "a/2", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
