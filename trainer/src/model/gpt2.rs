//! GPT-2 with Hugging Face's parameter names (`transformer.h.0.attn.c_attn.weight`, ...).

use super::cache::{Attend, KvCache};
use super::layers::{normal_init, select_rows, LayerNorm, Linear, Pass};
use crate::config::ModelConfig;
use crate::lora::LoraConfig;
use tch::nn;
use tch::{Kind, Tensor};

struct Block {
    ln_1: LayerNorm,
    c_attn: Linear,
    attn_proj: Linear,
    ln_2: LayerNorm,
    c_fc: Linear,
    mlp_proj: Linear,
}

pub struct Gpt2 {
    wte: Tensor,
    wpe: Tensor,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    heads: i64,
}

impl Gpt2 {
    pub fn new(root: &nn::Path<'_>, c: &ModelConfig, lora: Option<&LoraConfig>) -> Self {
        let t = root / "transformer";
        let h = c.hidden_size;
        let blocks = (0..c.layers)
            .map(|i| {
                let b = &t / "h" / i;
                Block {
                    ln_1: LayerNorm::new(&(&b / "ln_1"), h, c.norm_eps),
                    c_attn: Linear::conv1d(&(&b / "attn" / "c_attn"), h, 3 * h, lora, "c_attn"),
                    attn_proj: Linear::conv1d(&(&b / "attn" / "c_proj"), h, h, lora, "c_proj"),
                    ln_2: LayerNorm::new(&(&b / "ln_2"), h, c.norm_eps),
                    c_fc: Linear::conv1d(
                        &(&b / "mlp" / "c_fc"),
                        h,
                        c.intermediate_size,
                        lora,
                        "c_fc",
                    ),
                    mlp_proj: Linear::conv1d(
                        &(&b / "mlp" / "c_proj"),
                        c.intermediate_size,
                        h,
                        lora,
                        "c_proj",
                    ),
                }
            })
            .collect();
        Self {
            wte: (&t / "wte").var("weight", &[c.vocab_size, h], normal_init()),
            wpe: (&t / "wpe").var("weight", &[c.max_positions, h], normal_init()),
            blocks,
            ln_f: LayerNorm::new(&(&t / "ln_f"), h, c.norm_eps),
            heads: c.heads,
        }
    }

    /// The blocks over embeddings `h`; `attend(block, q, k, v)` computes the attention output
    /// `[batch, heads, time, head_dim]`. Returns the final normed states.
    fn run_blocks(
        &self,
        mut h: Tensor,
        pass: Pass,
        mut attend: impl FnMut(usize, Tensor, Tensor, Tensor) -> Tensor,
    ) -> Tensor {
        let (b, t, hidden) = h.size3().expect("states are [batch, time, hidden]");
        let head = hidden / self.heads;
        for (i, block) in self.blocks.iter().enumerate() {
            let x = block.ln_1.forward(&h);
            let qkv = block.c_attn.forward(&x, pass);
            let parts = qkv.split(hidden, 2);
            let split = |x: &Tensor| x.view([b, t, self.heads, head]).transpose(1, 2);
            let (q, k, v) = (split(&parts[0]), split(&parts[1]), split(&parts[2]));
            let y = attend(i, q, k, v);
            let y = y.transpose(1, 2).contiguous().view([b, t, hidden]);
            h = &h + block.attn_proj.forward(&y, pass);
            let x = block.ln_2.forward(&h);
            let x = block.c_fc.forward(&x, pass).gelu("tanh");
            h = &h + block.mlp_proj.forward(&x, pass);
        }
        self.ln_f.forward(&h)
    }

    /// Logits of final states `[.., hidden]` (the output projection is tied to `wte`).
    pub fn head(&self, h: &Tensor) -> Tensor {
        h.matmul(&self.wte.tr())
    }

    /// Logits `[batch, time, vocab]` of token ids `[batch, time]`, or with `rows` (indices into
    /// the flattened `batch * time` positions) only those rows' logits, `[rows, vocab]`.
    pub fn forward(&self, ids: &Tensor, pass: Pass, rows: Option<&Tensor>) -> Tensor {
        let (_, t) = ids.size2().expect("ids are [batch, time]");
        let positions = Tensor::arange(t, (Kind::Int64, ids.device()));
        let h = Tensor::embedding(&self.wte, ids, -1, false, false)
            + self.wpe.index_select(0, &positions);
        let h = self.run_blocks(h, pass, |_, q, k, v| {
            Tensor::scaled_dot_product_attention::<Tensor>(&q, &k, &v, None, 0.0, true, None, false)
        });
        self.head(&select_rows(&h, rows))
    }

    /// Final states after cached keys and values, as [`super::llama::Llama::forward_cached`].
    pub fn forward_cached(
        &self,
        ids: &Tensor,
        attend: &Attend<'_>,
        pass: Pass,
    ) -> (Tensor, Option<KvCache>) {
        let (b, t) = ids.size2().expect("ids are [batch, time]");
        let hidden = self.wte.size()[1];
        let h = Tensor::embedding(&self.wte, ids, -1, false, false)
            + self
                .wpe
                .index_select(0, &attend.positions.flatten(0, -1))
                .view([b, t, hidden]);
        let mut kept = Vec::new();
        let h = self.run_blocks(h, pass, |i, q, k, v| {
            let (k, v) = attend.extend(i, k, v);
            let y = Tensor::scaled_dot_product_attention::<Tensor>(
                &q,
                &k,
                &v,
                Some(attend.mask.shallow_clone()),
                0.0,
                false,
                None,
                false,
            );
            if attend.keep {
                kept.push((k, v));
            }
            y
        });
        (h, attend.keep.then_some(KvCache { layers: kept }))
    }

    pub fn linears_mut(&mut self) -> Vec<&mut Linear> {
        self.blocks
            .iter_mut()
            .flat_map(|b| {
                [
                    &mut b.c_attn,
                    &mut b.attn_proj,
                    &mut b.c_fc,
                    &mut b.mlp_proj,
                ]
            })
            .collect()
    }
}
