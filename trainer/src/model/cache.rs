//! What a cached forward pass reads and keeps: the keys and values of earlier positions, and
//! how this pass's queries attend to them.

use tch::Tensor;

/// Keys and values of earlier positions, per layer, `[batch, kv_heads, positions, head_dim]`:
/// what lets a prompt be read once and every continuation of it (each choice of a question, each
/// generated token) cost only its own tokens.
pub struct KvCache {
    pub(super) layers: Vec<(Tensor, Tensor)>,
}

impl KvCache {
    /// Positions held.
    pub fn positions(&self) -> i64 {
        self.layers.first().map_or(0, |(k, _)| k.size()[2])
    }

    /// The cache of some batch rows only, in the order given.
    pub fn select(&self, rows: &Tensor) -> Self {
        Self {
            layers: self
                .layers
                .iter()
                .map(|(k, v)| (k.index_select(0, rows), v.index_select(0, rows)))
                .collect(),
        }
    }
}

/// How a cached forward pass attends.
pub struct Attend<'a> {
    /// The position of each token, `[batch, time]` (rotary or learned position embeddings).
    pub positions: &'a Tensor,
    /// Which keys each query sees, `[batch, 1, time, past + time]`, `true` where it attends: the
    /// past positions of its own sequence (not padding), and causally this pass's.
    pub mask: &'a Tensor,
    /// Keys and values of earlier positions...
    pub past: Option<&'a KvCache>,
    /// ...and for each batch row the cache row it continues (`None`: row i continues row i).
    pub past_rows: Option<&'a Tensor>,
    /// Return the cache extended by this pass (generation); scoring choices needs none.
    pub keep: bool,
}

impl Attend<'_> {
    /// This pass's keys and values after the past ones of layer `layer`.
    pub(super) fn extend(&self, layer: usize, k: Tensor, v: Tensor) -> (Tensor, Tensor) {
        match self.past {
            Some(past) => {
                let (pk, pv) = &past.layers[layer];
                let (pk, pv) = match self.past_rows {
                    Some(rows) => (pk.index_select(0, rows), pv.index_select(0, rows)),
                    None => (pk.shallow_clone(), pv.shallow_clone()),
                };
                (Tensor::cat(&[pk, k], 2), Tensor::cat(&[pv, v], 2))
            }
            None => (k, v),
        }
    }
}
