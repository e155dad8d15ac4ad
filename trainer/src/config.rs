//! A model's configuration, read from and written to Hugging Face's `config.json`.

use crate::error::{Result, TrainerError};
use serde_json::{json, Value};
use std::path::Path;

/// The architectures the trainer implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    Gpt2,
    /// Llama, Mistral and Qwen2: RMSNorm, rotary embeddings, grouped-query attention, SwiGLU.
    Llama,
}

/// The shape of a fresh model, field by field (what `kale init-model` takes), with presets.
///
/// ```
/// use kale_trainer::config::{Arch, ModelConfig, ModelShape};
///
/// let shape = ModelShape { layers: 3, ..ModelShape::tiny(Arch::Llama, 100) };
/// let config = ModelConfig::new(&shape)?;
/// assert_eq!((config.layers, config.hidden_size, config.kv_heads), (3, 32, 2));
/// # Ok::<_, kale_trainer::TrainerError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelShape {
    pub arch: Arch,
    pub vocab_size: i64,
    pub layers: i64,
    pub hidden_size: i64,
    pub heads: i64,
    /// Key-value heads (grouped-query attention, Llama); `heads` for none.
    pub kv_heads: i64,
    pub max_positions: i64,
    pub bos_token_id: i64,
    pub eos_token_id: i64,
}

impl ModelShape {
    /// A test-sized model: 2 layers 32 wide, 4 heads sharing 2 key-value heads, 64 positions.
    pub fn tiny(arch: Arch, vocab_size: i64) -> Self {
        Self {
            arch,
            vocab_size,
            layers: 2,
            hidden_size: 32,
            heads: 4,
            kv_heads: 2,
            max_positions: 64,
            bos_token_id: 0,
            eos_token_id: 0,
        }
    }

    /// The small model of the demo and the generated-world experiment: 3 layers 128 wide, 4
    /// heads, 512 positions (about 1M parameters besides the embeddings).
    pub fn small(arch: Arch, vocab_size: i64) -> Self {
        Self {
            layers: 3,
            hidden_size: 128,
            heads: 4,
            kv_heads: 4,
            max_positions: 512,
            ..Self::tiny(arch, vocab_size)
        }
    }

    /// The same shape with these begin- and end-of-text ids.
    pub fn with_special_tokens(self, bos: i64, eos: i64) -> Self {
        Self {
            bos_token_id: bos,
            eos_token_id: eos,
            ..self
        }
    }
}

#[derive(Clone, Debug)]
pub struct ModelConfig {
    pub arch: Arch,
    /// `gpt2`, `llama`, `mistral` or `qwen2`.
    pub model_type: String,
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub layers: i64,
    pub heads: i64,
    pub kv_heads: i64,
    pub head_dim: i64,
    pub intermediate_size: i64,
    pub max_positions: i64,
    pub rope_theta: f64,
    pub norm_eps: f64,
    pub tie_word_embeddings: bool,
    /// Biases on the q, k and v projections (Qwen2; Llama's `attention_bias`).
    pub qkv_bias: bool,
    /// A bias on the output projection too (Llama's `attention_bias`).
    pub o_bias: bool,
    pub mlp_bias: bool,
    pub bos_token_id: Option<i64>,
    pub eos_token_id: Option<i64>,
    /// The file as read, so that saving keeps what we do not interpret.
    pub raw: Value,
}

/// Bounds on a configuration's sizes, generous beside real checkpoints (the largest vocabularies
/// have about 260k tokens, the widest models a hidden size of about 16k).
const MAX_VOCAB: i64 = 1 << 22;
const MAX_HIDDEN: i64 = 1 << 16;
const MAX_LAYERS: i64 = 1 << 10;
const MAX_INTERMEDIATE: i64 = 1 << 19;
const MAX_POSITIONS: i64 = 1 << 24;

fn int(raw: &Value, keys: &[&str]) -> Option<i64> {
    keys.iter()
        .find_map(|k| raw.get(*k).and_then(Value::as_i64))
}

fn first_id(raw: &Value, key: &str) -> Option<i64> {
    match raw.get(key) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::Array(a)) => a.first().and_then(Value::as_i64),
        _ => None,
    }
}

impl ModelConfig {
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(TrainerError::io(path))?;
        let raw: Value = serde_json::from_str(&text).map_err(|e| TrainerError::Config {
            path: path.to_owned(),
            message: format!("not JSON: {e}"),
        })?;
        Self::from_value(raw).map_err(|e| match e {
            TrainerError::UnsupportedModel(message) => TrainerError::Config {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// Reads a parsed `config.json`; [`TrainerError::UnsupportedModel`] says what is missing or
    /// not supported.
    pub fn from_value(raw: Value) -> Result<Self> {
        let unsupported = |message: String| TrainerError::UnsupportedModel(message);
        let model_type = raw
            .get("model_type")
            .and_then(Value::as_str)
            .ok_or_else(|| unsupported("missing `model_type`".into()))?
            .to_owned();
        let need = |keys: &[&str]| {
            int(&raw, keys).ok_or_else(|| {
                match keys.iter().find_map(|k| raw.get(*k).map(|v| (k, v))) {
                    Some((k, v)) => unsupported(format!("`{k}: {v}` is not an integer")),
                    None => unsupported(format!("missing `{}`", keys[0])),
                }
            })
        };
        let config = match model_type.as_str() {
            "gpt2" => {
                let hidden = need(&["n_embd", "hidden_size"])?;
                let heads = need(&["n_head", "num_attention_heads"])?;
                if let Some(act) = raw.get("activation_function").and_then(Value::as_str) {
                    if act != "gelu_new" && act != "gelu_pytorch_tanh" {
                        return Err(unsupported(format!("activation_function {act:?} is not supported (gelu_new is)")));
                    }
                }
                Self {
                    arch: Arch::Gpt2,
                    vocab_size: need(&["vocab_size"])?,
                    hidden_size: hidden,
                    layers: need(&["n_layer", "num_hidden_layers"])?,
                    heads,
                    kv_heads: heads,
                    head_dim: hidden.checked_div(heads).unwrap_or(0),
                    intermediate_size: int(&raw, &["n_inner"]).unwrap_or(hidden.saturating_mul(4)),
                    max_positions: need(&["n_positions", "n_ctx"])?,
                    rope_theta: 0.0,
                    norm_eps: raw.get("layer_norm_epsilon").and_then(Value::as_f64).unwrap_or(1e-5),
                    tie_word_embeddings: raw.get("tie_word_embeddings").and_then(Value::as_bool).unwrap_or(true),
                    qkv_bias: true,
                    o_bias: true,
                    mlp_bias: true,
                    bos_token_id: first_id(&raw, "bos_token_id"),
                    eos_token_id: first_id(&raw, "eos_token_id"),
                    model_type,
                    raw,
                }
            }
            "llama" | "mistral" | "qwen2" => {
                if raw.get("rope_scaling").is_some_and(|v| !v.is_null()) {
                    return Err(unsupported("`rope_scaling` is not supported".into()));
                }
                let hidden = need(&["hidden_size"])?;
                let heads = need(&["num_attention_heads"])?;
                let attention_bias = raw.get("attention_bias").and_then(Value::as_bool).unwrap_or(false);
                let qwen = model_type == "qwen2";
                Self {
                    arch: Arch::Llama,
                    vocab_size: need(&["vocab_size"])?,
                    hidden_size: hidden,
                    layers: need(&["num_hidden_layers"])?,
                    heads,
                    kv_heads: int(&raw, &["num_key_value_heads"]).unwrap_or(heads),
                    head_dim: int(&raw, &["head_dim"]).unwrap_or(hidden.checked_div(heads).unwrap_or(0)),
                    intermediate_size: need(&["intermediate_size"])?,
                    max_positions: int(&raw, &["max_position_embeddings"]).unwrap_or(2048),
                    rope_theta: raw.get("rope_theta").and_then(Value::as_f64).unwrap_or(10_000.0),
                    norm_eps: raw.get("rms_norm_eps").and_then(Value::as_f64).unwrap_or(1e-6),
                    tie_word_embeddings: raw.get("tie_word_embeddings").and_then(Value::as_bool).unwrap_or(false),
                    qkv_bias: qwen || attention_bias,
                    o_bias: !qwen && attention_bias,
                    mlp_bias: raw.get("mlp_bias").and_then(Value::as_bool).unwrap_or(false),
                    bos_token_id: first_id(&raw, "bos_token_id"),
                    eos_token_id: first_id(&raw, "eos_token_id"),
                    model_type,
                    raw,
                }
            }
            other => return Err(unsupported(format!("unknown architecture `model_type: {other:?}` (gpt2, llama, mistral and qwen2 are supported)"))),
        };
        config.check()?;
        Ok(config)
    }

    /// Every size positive and within what a real checkpoint has, the heads sharing the
    /// key-value heads and the hidden size evenly, the norm's epsilon and RoPE's base positive:
    /// a crafted or mistyped `config.json` is refused here, before a tensor of its shape is
    /// allocated (a vocabulary of 10^12 would abort the process) or a division by zero heads.
    fn check(&self) -> Result<()> {
        let bad = |m: String| Err(TrainerError::UnsupportedModel(m));
        for (name, value, max) in [
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("hidden_size", self.hidden_size, MAX_HIDDEN),
            ("num_hidden_layers", self.layers, MAX_LAYERS),
            ("num_attention_heads", self.heads, MAX_HIDDEN),
            ("num_key_value_heads", self.kv_heads, MAX_HIDDEN),
            ("head_dim", self.head_dim, MAX_HIDDEN),
            (
                "intermediate_size",
                self.intermediate_size,
                MAX_INTERMEDIATE,
            ),
            ("max_position_embeddings", self.max_positions, MAX_POSITIONS),
        ] {
            if !(1..=max).contains(&value) {
                return bad(format!("`{name}: {value}` is out of range (1 to {max})"));
            }
        }
        if self.heads % self.kv_heads != 0 {
            return bad(format!(
                "{} attention heads do not share {} key-value heads evenly",
                self.heads, self.kv_heads
            ));
        }
        if self.arch == Arch::Gpt2 && self.hidden_size % self.heads != 0 {
            return bad(format!(
                "hidden size {} is not a multiple of {} heads",
                self.hidden_size, self.heads
            ));
        }
        if !(self.norm_eps.is_finite() && self.norm_eps > 0.0) {
            return bad(format!(
                "the norm's epsilon must be a positive number, not {}",
                self.norm_eps
            ));
        }
        if self.arch == Arch::Llama && !(self.rope_theta.is_finite() && self.rope_theta > 0.0) {
            return bad(format!(
                "`rope_theta` must be a positive number, not {}",
                self.rope_theta
            ));
        }
        Ok(())
    }

    /// A fresh configuration of the given shape, in the layout transformers writes.
    pub fn new(shape: &ModelShape) -> Result<Self> {
        let ModelShape {
            arch,
            vocab_size,
            layers,
            hidden_size: hidden,
            heads,
            kv_heads,
            max_positions,
            bos_token_id: bos,
            eos_token_id: eos,
        } = *shape;
        let raw = match arch {
            Arch::Gpt2 => json!({
                "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
                "vocab_size": vocab_size, "n_embd": hidden, "n_layer": layers, "n_head": heads,
                "n_positions": max_positions, "n_inner": null, "activation_function": "gelu_new",
                "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
                "bos_token_id": bos, "eos_token_id": eos, "tie_word_embeddings": true,
                "torch_dtype": "float32",
            }),
            Arch::Llama => json!({
                "architectures": ["LlamaForCausalLM"], "model_type": "llama",
                "vocab_size": vocab_size, "hidden_size": hidden, "num_hidden_layers": layers,
                "num_attention_heads": heads, "num_key_value_heads": kv_heads,
                "intermediate_size": hidden * 8 / 3 / 8 * 8 + 8, "max_position_embeddings": max_positions,
                "rope_theta": 10000.0, "rms_norm_eps": 1e-5, "hidden_act": "silu",
                "attention_bias": false, "mlp_bias": false, "tie_word_embeddings": true,
                "bos_token_id": bos, "eos_token_id": eos, "torch_dtype": "float32",
            }),
        };
        Self::from_value(raw)
    }

    /// The JSON to write back.
    pub fn to_value(&self) -> Value {
        self.raw.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real small Llama configuration with one field changed.
    fn with(key: &str, value: Value) -> Result<ModelConfig> {
        let mut raw = ModelConfig::new(&ModelShape::tiny(Arch::Llama, 100))
            .unwrap()
            .to_value();
        raw[key] = value;
        ModelConfig::from_value(raw)
    }

    fn refused(key: &str, value: Value) -> String {
        match with(key, value.clone()) {
            Err(e) => e.to_string(),
            Ok(c) => panic!("`{key}: {value}` accepted: {c:?}"),
        }
    }

    #[test]
    fn crafted_sizes_are_refused_before_anything_is_allocated() {
        assert!(with("hidden_size", json!(64)).is_ok());
        assert!(refused("num_attention_heads", json!(0)).contains("`num_attention_heads: 0`"));
        assert!(refused("hidden_size", json!(-32)).contains("`hidden_size: -32` is out of range"));
        assert!(refused("vocab_size", json!(1_000_000_000_000_i64)).contains("out of range"));
        assert!(refused("vocab_size", json!(1e12)).contains("is not an integer"));
        assert!(refused("num_key_value_heads", json!(3)).contains("evenly"));
        assert!(refused("num_hidden_layers", json!(0)).contains("out of range"));
        assert!(refused("rms_norm_eps", json!(-1.0)).contains("epsilon"));
        assert!(refused("rope_theta", json!(0.0)).contains("rope_theta"));
        assert!(refused("intermediate_size", json!(i64::MAX)).contains("out of range"));
    }

    #[test]
    fn a_gpt2_config_needs_heads_that_divide_its_width() {
        let mut raw = ModelConfig::new(&ModelShape::tiny(Arch::Gpt2, 100))
            .unwrap()
            .to_value();
        raw["n_head"] = json!(0);
        let e = ModelConfig::from_value(raw.clone())
            .unwrap_err()
            .to_string();
        assert!(e.contains("num_attention_heads: 0"), "{e}");
        raw["n_head"] = json!(5);
        raw["n_embd"] = json!(32);
        let e = ModelConfig::from_value(raw).unwrap_err().to_string();
        assert!(e.contains("not a multiple of 5 heads"), "{e}");
    }
}
