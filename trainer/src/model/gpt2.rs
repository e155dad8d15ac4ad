//! GPT-2 with Hugging Face's parameter names (`transformer.h.0.attn.c_attn.weight`, ...).

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

    /// Logits `[batch, time, vocab]` of token ids `[batch, time]`, or with `rows` (indices into
    /// the flattened `batch * time` positions) only those rows' logits, `[rows, vocab]`.
    pub fn forward(&self, ids: &Tensor, pass: Pass, rows: Option<&Tensor>) -> Tensor {
        let (b, t) = ids.size2().expect("ids are [batch, time]");
        let positions = Tensor::arange(t, (Kind::Int64, ids.device()));
        let mut h = Tensor::embedding(&self.wte, ids, -1, false, false)
            + self.wpe.index_select(0, &positions);
        let hidden = h.size()[2];
        let head = hidden / self.heads;
        for block in &self.blocks {
            let x = block.ln_1.forward(&h);
            let qkv = block.c_attn.forward(&x, pass);
            let parts = qkv.split(hidden, 2);
            let split = |x: &Tensor| x.view([b, t, self.heads, head]).transpose(1, 2);
            let (q, k, v) = (split(&parts[0]), split(&parts[1]), split(&parts[2]));
            let y = Tensor::scaled_dot_product_attention::<Tensor>(
                &q, &k, &v, None, 0.0, true, None, false,
            );
            let y = y.transpose(1, 2).contiguous().view([b, t, hidden]);
            h = &h + block.attn_proj.forward(&y, pass);
            let x = block.ln_2.forward(&h);
            let x = block.c_fc.forward(&x, pass).gelu("tanh");
            h = &h + block.mlp_proj.forward(&x, pass);
        }
        select_rows(&self.ln_f.forward(&h), rows).matmul(&self.wte.tr())
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
