//! The Llama family (Llama, Mistral, Qwen2) with Hugging Face's parameter names
//! (`model.layers.0.self_attn.q_proj.weight`, ...): RMS norm, rotary embeddings (rotate-half),
//! grouped-query attention through libtorch's fused attention, SwiGLU.

use super::cache::{Attend, KvCache};
use super::layers::{normal_init, select_rows, Linear, Pass, RmsNorm};
use crate::config::ModelConfig;
use crate::lora::LoraConfig;
use tch::nn;
use tch::{Kind, Tensor};

struct Layer {
    input_layernorm: RmsNorm,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    post_attention_layernorm: RmsNorm,
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

pub struct Llama {
    embed_tokens: Tensor,
    layers: Vec<Layer>,
    norm: RmsNorm,
    /// `None` when tied to the embeddings.
    lm_head: Option<Tensor>,
    heads: i64,
    kv_heads: i64,
    head_dim: i64,
    rope_theta: f64,
}

impl Llama {
    pub fn new(root: &nn::Path<'_>, c: &ModelConfig, lora: Option<&LoraConfig>) -> Self {
        let m = root / "model";
        let (h, hd) = (c.hidden_size, c.head_dim);
        let layers = (0..c.layers)
            .map(|i| {
                let l = &m / "layers" / i;
                let attn = &l / "self_attn";
                let mlp = &l / "mlp";
                Layer {
                    input_layernorm: RmsNorm::new(&(&l / "input_layernorm"), h, c.norm_eps),
                    q_proj: Linear::new(
                        &(&attn / "q_proj"),
                        h,
                        c.heads * hd,
                        c.qkv_bias,
                        lora,
                        "q_proj",
                    ),
                    k_proj: Linear::new(
                        &(&attn / "k_proj"),
                        h,
                        c.kv_heads * hd,
                        c.qkv_bias,
                        lora,
                        "k_proj",
                    ),
                    v_proj: Linear::new(
                        &(&attn / "v_proj"),
                        h,
                        c.kv_heads * hd,
                        c.qkv_bias,
                        lora,
                        "v_proj",
                    ),
                    o_proj: Linear::new(
                        &(&attn / "o_proj"),
                        c.heads * hd,
                        h,
                        c.o_bias,
                        lora,
                        "o_proj",
                    ),
                    post_attention_layernorm: RmsNorm::new(
                        &(&l / "post_attention_layernorm"),
                        h,
                        c.norm_eps,
                    ),
                    gate_proj: Linear::new(
                        &(&mlp / "gate_proj"),
                        h,
                        c.intermediate_size,
                        c.mlp_bias,
                        lora,
                        "gate_proj",
                    ),
                    up_proj: Linear::new(
                        &(&mlp / "up_proj"),
                        h,
                        c.intermediate_size,
                        c.mlp_bias,
                        lora,
                        "up_proj",
                    ),
                    down_proj: Linear::new(
                        &(&mlp / "down_proj"),
                        c.intermediate_size,
                        h,
                        c.mlp_bias,
                        lora,
                        "down_proj",
                    ),
                }
            })
            .collect();
        Self {
            embed_tokens: (&m / "embed_tokens").var("weight", &[c.vocab_size, h], normal_init()),
            layers,
            norm: RmsNorm::new(&(&m / "norm"), h, c.norm_eps),
            lm_head: (!c.tie_word_embeddings)
                .then(|| (root / "lm_head").var("weight", &[c.vocab_size, h], normal_init())),
            heads: c.heads,
            kv_heads: c.kv_heads,
            head_dim: hd,
            rope_theta: c.rope_theta,
        }
    }

    /// The inverse frequencies of rotary embeddings, `[head_dim / 2]`, as Hugging Face computes
    /// them.
    fn inv_freq(&self, device: tch::Device) -> Tensor {
        let half = Tensor::arange_start_step(0, self.head_dim, 2, (Kind::Int64, device))
            .to_kind(Kind::Float);
        Tensor::pow_scalar(self.rope_theta, &(half / self.head_dim as f64)).reciprocal()
    }

    /// `cos` and `sin` of rotary embeddings at `positions` (any shape `[..]`), `[.., head_dim]`.
    fn rope_at(&self, positions: &Tensor) -> (Tensor, Tensor) {
        let freqs =
            positions.to_kind(Kind::Float).unsqueeze(-1) * self.inv_freq(positions.device());
        let emb = Tensor::cat(&[&freqs, &freqs], -1);
        (emb.cos(), emb.sin())
    }

    /// The decoder layers over embeddings `h` `[batch, time, hidden]`, with rotary tables that
    /// broadcast over `[batch, heads, time, head_dim]`; `attend(layer, q, k, v)` computes the
    /// attention output `[batch, heads, time, head_dim]`. Returns the final normed states.
    fn run_layers(
        &self,
        mut h: Tensor,
        (cos, sin): (&Tensor, &Tensor),
        pass: Pass,
        mut attend: impl FnMut(usize, Tensor, Tensor, Tensor) -> Tensor,
    ) -> Tensor {
        let (b, t, _) = h.size3().expect("states are [batch, time, hidden]");
        let (cos, sin) = (cos.to_kind(h.kind()), sin.to_kind(h.kind()));
        let rotate = |x: &Tensor| {
            // x [b, heads, t, hd]: x * cos + rotate_half(x) * sin
            let halves = x.chunk(2, -1);
            let rotated = Tensor::cat(&[&(-&halves[1]), &halves[0]], -1);
            x * &cos + rotated * &sin
        };
        for (i, layer) in self.layers.iter().enumerate() {
            let x = layer.input_layernorm.forward(&h);
            let q = layer
                .q_proj
                .forward(&x, pass)
                .view([b, t, self.heads, self.head_dim])
                .transpose(1, 2);
            let k = layer
                .k_proj
                .forward(&x, pass)
                .view([b, t, self.kv_heads, self.head_dim])
                .transpose(1, 2);
            let v = layer
                .v_proj
                .forward(&x, pass)
                .view([b, t, self.kv_heads, self.head_dim])
                .transpose(1, 2);
            let y = attend(i, rotate(&q), rotate(&k), v);
            let y = y
                .transpose(1, 2)
                .contiguous()
                .view([b, t, self.heads * self.head_dim]);
            h = &h + layer.o_proj.forward(&y, pass);
            let x = layer.post_attention_layernorm.forward(&h);
            let gated = layer.gate_proj.forward(&x, pass).silu() * layer.up_proj.forward(&x, pass);
            h = &h + layer.down_proj.forward(&gated, pass);
        }
        self.norm.forward(&h)
    }

    /// Logits of final states `[.., hidden]`.
    pub fn head(&self, h: &Tensor) -> Tensor {
        h.matmul(&self.lm_head.as_ref().unwrap_or(&self.embed_tokens).tr())
    }

    /// Logits `[batch, time, vocab]` of token ids `[batch, time]`, or with `rows` (indices into
    /// the flattened `batch * time` positions) only those rows' logits, `[rows, vocab]`.
    pub fn forward(&self, ids: &Tensor, pass: Pass, rows: Option<&Tensor>) -> Tensor {
        let (_, t) = ids.size2().expect("ids are [batch, time]");
        let h = Tensor::embedding(&self.embed_tokens, ids, -1, false, false);
        let (cos, sin) = self.rope_at(&Tensor::arange(t, (Kind::Int64, ids.device())));
        let gqa = self.kv_heads != self.heads;
        let h = self.run_layers(h, (&cos, &sin), pass, |_, q, k, v| {
            Tensor::scaled_dot_product_attention::<Tensor>(&q, &k, &v, None, 0.0, true, None, gqa)
        });
        self.head(&select_rows(&h, rows))
    }

    /// Final states `[batch, time, hidden]` of `ids` after the keys and values of earlier
    /// positions (see [`Attend`]); the cache extended by these positions when `attend.keep`.
    pub fn forward_cached(
        &self,
        ids: &Tensor,
        attend: &Attend<'_>,
        pass: Pass,
    ) -> (Tensor, Option<KvCache>) {
        let h = Tensor::embedding(&self.embed_tokens, ids, -1, false, false);
        let (cos, sin) = self.rope_at(attend.positions);
        let (cos, sin) = (cos.unsqueeze(1), sin.unsqueeze(1));
        let gqa = self.kv_heads != self.heads;
        let mut kept = Vec::new();
        let h = self.run_layers(h, (&cos, &sin), pass, |i, q, k, v| {
            let (k, v) = attend.extend(i, k, v);
            let y = Tensor::scaled_dot_product_attention::<Tensor>(
                &q,
                &k,
                &v,
                Some(attend.mask.shallow_clone()),
                0.0,
                false,
                None,
                gqa,
            );
            if attend.keep {
                kept.push((k, v));
            }
            y
        });
        (h, attend.keep.then_some(KvCache { layers: kept }))
    }

    pub fn linears_mut(&mut self) -> Vec<&mut Linear> {
        self.layers
            .iter_mut()
            .flat_map(|l| {
                [
                    &mut l.q_proj,
                    &mut l.k_proj,
                    &mut l.v_proj,
                    &mut l.o_proj,
                    &mut l.gate_proj,
                    &mut l.up_proj,
                    &mut l.down_proj,
                ]
            })
            .collect()
    }
}
