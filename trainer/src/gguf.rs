//! Importing llama.cpp's GGUF checkpoints of the Llama family into the Hugging Face layout:
//! tensors dequantised (Q4_0, Q4_1, Q8_0, F16, BF16, F32), llama.cpp's Q/K row permutation undone,
//! names mapped, `config.json` and `tokenizer.json` (byte-level BPE, rebuilt from the embedded
//! vocabulary and merges as transformers does) written beside `model.safetensors`.
//!
//! Every size and offset comes from a file someone else made: arithmetic on them is checked (the
//! lint below keeps it so), and a product or sum that overflows is an error, never a wrap.
#![warn(clippy::arithmetic_side_effects)]

use crate::error::{Result, TrainerError};
use crate::tokenizer::TextTokenizer;
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{json, Value};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use tch::Tensor;

/// A metadata value.
#[derive(Clone, Debug)]
pub enum MetaValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Array(Vec<MetaValue>),
}

impl MetaValue {
    fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }

    fn as_float(&self) -> Option<f64> {
        match self {
            Self::Float(f) => Some(*f),
            Self::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
}

struct TensorInfo {
    name: String,
    /// ggml's order: the first dimension varies fastest.
    dims: Vec<u64>,
    kind: u32,
    offset: u64,
}

/// A parsed GGUF file.
///
/// Read with positioned reads, not a memory map: another process may rewrite the file while it
/// is imported, and a mapping of a file that changes underneath is undefined behaviour, where a
/// read only returns other bytes, which every length and offset is checked against.
pub struct GgufFile {
    path: PathBuf,
    file: File,
    len: u64,
    pub meta: FxHashMap<String, MetaValue>,
    tensors: Vec<TensorInfo>,
    data_start: usize,
}

/// Reads the header front to back, fetching more of the file as it goes (the header's size is
/// only known once it is read).
struct Cursor<'a> {
    file: &'a File,
    /// The file's first `bytes.len()` bytes.
    bytes: Vec<u8>,
    len: u64,
    at: usize,
    path: &'a Path,
}

impl Cursor<'_> {
    fn bad(&self, what: &str) -> TrainerError {
        TrainerError::Checkpoint {
            path: self.path.to_owned(),
            message: format!("{what} at byte {}", self.at),
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e as u64 <= self.len)
            .ok_or_else(|| self.bad("truncated file"))?;
        if end > self.bytes.len() {
            // At least double what is read, so a header of many small items costs few reads.
            let want = end
                .max(self.bytes.len().saturating_mul(2))
                .max(1 << 16)
                .min(self.len as usize);
            let have = self.bytes.len();
            self.bytes.resize(want, 0);
            self.file
                .read_exact_at(&mut self.bytes[have..], have as u64)
                .map_err(|e| self.bad(&format!("cannot read: {e}")))?;
        }
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn string(&mut self) -> Result<String> {
        let len = self.u64()? as usize;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| self.bad("invalid UTF-8 string"))
    }

    /// A metadata value of type `kind`, inside `depth` arrays.
    fn value(&mut self, kind: u32, depth: usize) -> Result<MetaValue> {
        Ok(match kind {
            0 => MetaValue::Int(i64::from(self.take(1)?[0])),
            1 => MetaValue::Int(i64::from(self.take(1)?[0] as i8)),
            2 => MetaValue::Int(i64::from(u16::from_le_bytes(
                self.take(2)?.try_into().expect("2"),
            ))),
            3 => MetaValue::Int(i64::from(i16::from_le_bytes(
                self.take(2)?.try_into().expect("2"),
            ))),
            4 => MetaValue::Int(i64::from(self.u32()?)),
            5 => MetaValue::Int(i64::from(self.u32()? as i32)),
            6 => {
                // Through the shortest decimal, so 1e-5 stays 1e-5 and not 9.99999974e-6.
                let f = f32::from_le_bytes(self.take(4)?.try_into().expect("4"));
                MetaValue::Float(f.to_string().parse().unwrap_or(f64::from(f)))
            }
            7 => MetaValue::Bool(self.take(1)?[0] != 0),
            8 => MetaValue::Str(self.string()?),
            9 => {
                // llama.cpp reads no nested arrays at all; a few levels are allowed here, and
                // a crafted file of arrays nested 200,000 deep is an error, not a stack overflow.
                if depth >= MAX_NESTING {
                    return Err(self.bad(&format!("arrays nested more than {MAX_NESTING} deep")));
                }
                let item = self.u32()?;
                let count = self.u64()?;
                // Every item takes at least a byte: a count past the file's end is an error
                // before anything is reserved for it.
                if count > self.len.saturating_sub(self.at as u64) {
                    return Err(self.bad(&format!(
                        "an array of {count} items past the end of the file"
                    )));
                }
                let mut items = Vec::with_capacity((count as usize).min(1 << 20));
                for _ in 0..count {
                    items.push(self.value(item, depth.saturating_add(1))?);
                }
                MetaValue::Array(items)
            }
            10 => MetaValue::Int(self.u64()? as i64),
            11 => MetaValue::Int(self.u64()? as i64),
            12 => MetaValue::Float(f64::from_le_bytes(self.take(8)?.try_into().expect("8"))),
            other => return Err(self.bad(&format!("unknown metadata type {other}"))),
        })
    }
}

/// How deep metadata arrays may nest.
const MAX_NESTING: usize = 4;
/// ggml's GGML_MAX_DIMS.
const MAX_DIMS: u32 = 4;

const F32: u32 = 0;
const F16: u32 = 1;
const Q4_0: u32 = 2;
const Q4_1: u32 = 3;
const Q8_0: u32 = 8;
const BF16: u32 = 30;

fn f16(bytes: &[u8]) -> f32 {
    half_to_f32(u16::from_le_bytes([bytes[0], bytes[1]]))
}

/// IEEE half to single, exactly.
// Bit arithmetic on the fields of a 16-bit value: every operand is bounded by its mask (a
// subnormal's mantissa is non-zero, so `leading_zeros` is at least 22), nothing can overflow.
#[allow(clippy::arithmetic_side_effects)]
fn half_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exponent = u32::from((h >> 10) & 0x1f);
    let mantissa = u32::from(h & 0x3ff);
    let bits = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalise.
            let shift = m.leading_zeros() - 21;
            sign | ((113 - shift) << 23) | (((m << shift) & 0x3ff) << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

impl GgufFile {
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(TrainerError::io(path))?;
        let len = file.metadata().map_err(TrainerError::io(path))?.len();
        let mut c = Cursor {
            file: &file,
            bytes: Vec::new(),
            len,
            at: 0,
            path,
        };
        if c.take(4)? != b"GGUF" {
            return Err(TrainerError::Checkpoint {
                path: path.to_owned(),
                message: "not a GGUF file (bad magic)".into(),
            });
        }
        let version = c.u32()?;
        if !(2..=3).contains(&version) {
            return Err(TrainerError::Checkpoint {
                path: path.to_owned(),
                message: format!("GGUF version {version} (2 and 3 are read)"),
            });
        }
        let tensor_count = c.u64()?;
        let kv_count = c.u64()?;
        let mut meta = FxHashMap::default();
        for _ in 0..kv_count {
            let key = c.string()?;
            let kind = c.u32()?;
            meta.insert(key, c.value(kind, 0)?);
        }
        let mut tensors = Vec::new();
        let mut names = FxHashSet::default();
        for _ in 0..tensor_count {
            let name = c.string()?;
            let n_dims = c.u32()?;
            if n_dims > MAX_DIMS {
                return Err(c.bad(&format!(
                    "tensor `{name}` has {n_dims} dimensions (ggml has at most {MAX_DIMS})"
                )));
            }
            let dims = (0..n_dims).map(|_| c.u64()).collect::<Result<Vec<_>>>()?;
            let kind = c.u32()?;
            let offset = c.u64()?;
            // llama.cpp refuses a file that names a tensor twice; one written as a checkpoint
            // would have two weights under one name (safetensors' writer panicked on it).
            if !names.insert(name.clone()) {
                return Err(c.bad(&format!("tensor `{name}` appears twice")));
            }
            tensors.push(TensorInfo {
                name,
                dims,
                kind,
                offset,
            });
        }
        let alignment = match meta.get("general.alignment") {
            None => 32,
            Some(value) => match value.as_int() {
                Some(a) if a > 0 && a.count_ones() == 1 && a <= 1 << 30 => a as usize,
                _ => {
                    return Err(TrainerError::Checkpoint {
                        path: path.to_owned(),
                        message: format!(
                        "general.alignment {value:?} is not a power of two (as llama.cpp requires)"
                    ),
                    })
                }
            },
        };
        let data_start =
            c.at.div_ceil(alignment)
                .checked_mul(alignment)
                .ok_or_else(|| c.bad("tensor data aligned past the address space"))?;
        Ok(Self {
            path: path.to_owned(),
            file,
            len,
            meta,
            tensors,
            data_start,
        })
    }

    /// The names of the file's tensors, in file order.
    pub fn tensor_names(&self) -> impl Iterator<Item = &str> {
        self.tensors.iter().map(|t| t.name.as_str())
    }

    /// A tensor by name, dequantised to fp32, in PyTorch's dimension order.
    pub fn read(&self, name: &str) -> Result<Tensor> {
        let info = self
            .tensors
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| TrainerError::Tensor {
                path: self.path.clone(),
                name: name.to_owned(),
                message: "not in the file".into(),
            })?;
        self.tensor(info)
    }

    fn meta_int(&self, key: &str) -> Result<i64> {
        self.meta
            .get(key)
            .and_then(MetaValue::as_int)
            .ok_or_else(|| TrainerError::Checkpoint {
                path: self.path.clone(),
                message: format!("missing metadata `{key}`"),
            })
    }

    /// A tensor dequantised to fp32, in PyTorch's dimension order.
    fn tensor(&self, info: &TensorInfo) -> Result<Tensor> {
        let bad = |message: String| TrainerError::Tensor {
            path: self.path.clone(),
            name: info.name.clone(),
            message,
        };
        // Checked: crafted dimensions overflow a product, and a crafted offset the sum.
        let count = info
            .dims
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .filter(|&n| i64::try_from(n).is_ok())
            .ok_or_else(|| bad(format!("dimensions {:?} overflow", info.dims)))?
            as usize;
        let (block, bytes_per_block) = match info.kind {
            F32 => (1, 4),
            F16 | BF16 => (1, 2),
            Q4_0 => (32, 18),
            Q4_1 => (32, 20),
            Q8_0 => (32, 34),
            other => {
                return Err(bad(format!(
                    "ggml type {other} is not supported (F32, F16, BF16, Q4_0, Q4_1, Q8_0 are)"
                )))
            }
        };
        if !count.is_multiple_of(block) {
            return Err(bad(format!("{count} values do not fill blocks of {block}")));
        }
        let past_end = || bad("data past the end of the file".into());
        let start = usize::try_from(info.offset)
            .ok()
            .and_then(|o| o.checked_add(self.data_start))
            .ok_or_else(past_end)?;
        let len = count
            .checked_div(block)
            .and_then(|blocks| blocks.checked_mul(bytes_per_block))
            .ok_or_else(past_end)?;
        // Checked against the file's length before anything is allocated for it.
        start
            .checked_add(len)
            .filter(|&end| end as u64 <= self.len)
            .ok_or_else(past_end)?;
        let mut data = vec![0; len];
        self.file
            .read_exact_at(&mut data, start as u64)
            .map_err(|e| bad(format!("cannot read its data: {e}")))?;
        let data = &data[..];
        let mut out = Vec::with_capacity(count);
        match info.kind {
            F32 => out.extend(
                data.chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().expect("4"))),
            ),
            F16 => out.extend(data.chunks_exact(2).map(f16)),
            BF16 => out.extend(
                data.chunks_exact(2)
                    .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16)),
            ),
            Q4_0 => {
                for b in data.chunks_exact(18) {
                    let d = f16(&b[..2]);
                    let qs = &b[2..];
                    out.extend(qs.iter().map(|q| (f32::from(q & 0x0f) - 8.0) * d));
                    out.extend(qs.iter().map(|q| (f32::from(q >> 4) - 8.0) * d));
                }
            }
            Q4_1 => {
                for b in data.chunks_exact(20) {
                    let (d, m) = (f16(&b[..2]), f16(&b[2..4]));
                    let qs = &b[4..];
                    out.extend(qs.iter().map(|q| f32::from(q & 0x0f) * d + m));
                    out.extend(qs.iter().map(|q| f32::from(q >> 4) * d + m));
                }
            }
            Q8_0 => {
                for b in data.chunks_exact(34) {
                    let d = f16(&b[..2]);
                    out.extend(b[2..].iter().map(|&q| f32::from(q as i8) * d));
                }
            }
            _ => unreachable!("checked above"),
        }
        let shape: Vec<i64> = info.dims.iter().rev().map(|&d| d as i64).collect();
        Ok(Tensor::from_slice(&out).view(shape.as_slice()))
    }
}

/// llama.cpp stores q and k with the two halves of each head's rotary dimensions interleaved
/// (the other RoPE convention); this puts them back as Hugging Face's rotate-half expects.
fn unpermute(weight: &Tensor, heads: i64) -> Tensor {
    let shape = weight.size();
    let rows = shape[0];
    let rest: Vec<i64> = shape[1..].to_vec();
    // The caller checked that rows split into `heads` pairs (heads > 0).
    let per_head = rows.checked_div(heads.saturating_mul(2)).unwrap_or(0);
    let mut view = vec![heads, per_head, 2];
    view.extend(&rest);
    weight
        .view(view.as_slice())
        .transpose(1, 2)
        .reshape(shape.as_slice())
}

/// The Hugging Face name of a GGUF tensor of the Llama family.
fn hf_name(name: &str) -> Option<String> {
    let fixed = match name {
        "token_embd.weight" => Some("model.embed_tokens.weight"),
        "output_norm.weight" => Some("model.norm.weight"),
        "output.weight" => Some("lm_head.weight"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_owned());
    }
    let rest = name.strip_prefix("blk.")?;
    let (layer, part) = rest.split_once('.')?;
    let (module, suffix) = part.rsplit_once('.')?;
    let target = match module {
        "attn_norm" => "input_layernorm",
        "ffn_norm" => "post_attention_layernorm",
        "attn_q" => "self_attn.q_proj",
        "attn_k" => "self_attn.k_proj",
        "attn_v" => "self_attn.v_proj",
        "attn_output" => "self_attn.o_proj",
        "ffn_gate" => "mlp.gate_proj",
        "ffn_up" => "mlp.up_proj",
        "ffn_down" => "mlp.down_proj",
        _ => return None,
    };
    Some(format!("model.layers.{layer}.{target}.{suffix}"))
}

/// What an import wrote.
pub struct Imported {
    pub tensors: usize,
    pub parameters: i64,
    pub config: Value,
}

/// Converts a GGUF checkpoint of the Llama family into a Hugging Face directory. A failed
/// import leaves no directory behind that it created.
pub fn import_gguf(path: &Path, out: &Path) -> Result<Imported> {
    let file = GgufFile::open(path)?;
    let fresh = !out.exists();
    let result = convert(&file, path, out);
    if result.is_err() && fresh {
        let _ = std::fs::remove_dir_all(out);
    }
    result
}

fn convert(file: &GgufFile, path: &Path, out: &Path) -> Result<Imported> {
    let unsupported = |message: String| TrainerError::Checkpoint {
        path: path.to_owned(),
        message,
    };
    let arch = file
        .meta
        .get("general.architecture")
        .and_then(MetaValue::as_str)
        .unwrap_or("")
        .to_owned();
    let model_type = match arch.as_str() {
        "llama" => "llama",
        "qwen2" => "qwen2",
        other => {
            return Err(unsupported(format!(
                "architecture {other:?} (llama and qwen2 are imported)"
            )))
        }
    };
    let key = |k: &str| format!("{arch}.{k}");
    let heads = file.meta_int(&key("attention.head_count"))?;
    let kv_heads = file
        .meta
        .get(&key("attention.head_count_kv"))
        .and_then(MetaValue::as_int)
        .unwrap_or(heads);
    let hidden = file.meta_int(&key("embedding_length"))?;
    // Zero heads would divide by zero below; heads that do not share the width or the key-value
    // heads evenly would fail a reshape inside libtorch.
    if heads <= 0
        || kv_heads <= 0
        || hidden <= 0
        || heads.checked_rem(kv_heads) != Some(0)
        || hidden.checked_rem(heads) != Some(0)
    {
        return Err(unsupported(format!(
            "attention.head_count {heads} and head_count_kv {kv_heads} do not split embedding_length {hidden} evenly"
        )));
    }
    let tokens: Vec<String> = match file.meta.get("tokenizer.ggml.tokens") {
        Some(MetaValue::Array(items)) => items
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => {
            return Err(unsupported(
                "no embedded vocabulary (tokenizer.ggml.tokens)".into(),
            ))
        }
    };
    std::fs::create_dir_all(out).map_err(TrainerError::io(out))?;
    let mut named = Vec::new();
    let mut parameters = 0i64;
    let mut tied = true;
    for info in &file.tensors {
        let Some(name) = hf_name(&info.name) else {
            return Err(TrainerError::Tensor {
                path: path.to_owned(),
                name: info.name.clone(),
                message: "has no Hugging Face counterpart known here".into(),
            });
        };
        let mut tensor = file.tensor(info)?;
        let rotary_heads = if name.ends_with("self_attn.q_proj.weight")
            || name.ends_with("self_attn.q_proj.bias")
        {
            Some(heads)
        } else if name.ends_with("self_attn.k_proj.weight")
            || name.ends_with("self_attn.k_proj.bias")
        {
            Some(kv_heads)
        } else {
            None
        };
        if let Some(h) = rotary_heads {
            let rows = tensor.size().first().copied().unwrap_or(0);
            if h.checked_mul(2).and_then(|pair| rows.checked_rem(pair)) != Some(0) {
                return Err(TrainerError::Tensor {
                    path: path.to_owned(),
                    name: info.name.clone(),
                    message: format!("{rows} rows do not split into {h} heads of rotary pairs"),
                });
            }
            tensor = unpermute(&tensor, h);
        }
        tied &= name != "lm_head.weight";
        parameters = parameters.saturating_add(tensor.numel() as i64);
        named.push((name, tensor));
    }
    Tensor::write_safetensors(&named, out.join("model.safetensors"))?;
    let get_f = |k: &str, d: f64| {
        file.meta
            .get(&key(k))
            .and_then(MetaValue::as_float)
            .unwrap_or(d)
    };
    let bos = file
        .meta
        .get("tokenizer.ggml.bos_token_id")
        .and_then(MetaValue::as_int);
    let eos = file
        .meta
        .get("tokenizer.ggml.eos_token_id")
        .and_then(MetaValue::as_int);
    let config = json!({
        "architectures": [if model_type == "qwen2" { "Qwen2ForCausalLM" } else { "LlamaForCausalLM" }],
        "model_type": model_type,
        "vocab_size": tokens.len(),
        "hidden_size": hidden,
        "intermediate_size": file.meta_int(&key("feed_forward_length"))?,
        "num_hidden_layers": file.meta_int(&key("block_count"))?,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "max_position_embeddings": file.meta.get(&key("context_length")).and_then(MetaValue::as_int).unwrap_or(2048),
        "rope_theta": get_f("rope.freq_base", 10_000.0),
        "rms_norm_eps": get_f("attention.layer_norm_rms_epsilon", 1e-6),
        "tie_word_embeddings": tied,
        "hidden_act": "silu",
        "bos_token_id": bos,
        "eos_token_id": eos,
        "torch_dtype": "float32",
    });
    // The sizes a crafted file gives (a zero context, a negative epsilon) are refused as a
    // config.json of them would be.
    crate::config::ModelConfig::from_value(config.clone())
        .map_err(|e| unsupported(e.to_string()))?;
    let config_path = out.join("config.json");
    std::fs::write(
        &config_path,
        serde_json::to_string_pretty(&config).expect("JSON"),
    )
    .map_err(TrainerError::io(&config_path))?;
    let generation = json!({ "bos_token_id": bos, "eos_token_id": eos });
    let generation_path = out.join("generation_config.json");
    std::fs::write(&generation_path, generation.to_string())
        .map_err(TrainerError::io(&generation_path))?;
    // The chat template and the BOS rule, as transformers reads them (tokenizer_config.json).
    let name = |id: Option<i64>| {
        id.and_then(|i| usize::try_from(i).ok())
            .and_then(|i| tokens.get(i))
            .cloned()
    };
    let mut tokenizer_config = json!({
        "add_bos_token": file
            .meta
            .get("tokenizer.ggml.add_bos_token")
            .and_then(MetaValue::as_bool)
            .unwrap_or(false),
        "bos_token": name(bos),
        "eos_token": name(eos),
        "tokenizer_class": "PreTrainedTokenizerFast",
    });
    if let Some(template) = file
        .meta
        .get("tokenizer.chat_template")
        .and_then(MetaValue::as_str)
    {
        tokenizer_config["chat_template"] = template.into();
    }
    if let Some(pad) = name(
        file.meta
            .get("tokenizer.ggml.padding_token_id")
            .and_then(MetaValue::as_int),
    ) {
        tokenizer_config["pad_token"] = pad.into();
    }
    let tokenizer_config_path = out.join(crate::tokenizer::TOKENIZER_CONFIG);
    std::fs::write(
        &tokenizer_config_path,
        serde_json::to_string_pretty(&tokenizer_config).expect("JSON"),
    )
    .map_err(TrainerError::io(&tokenizer_config_path))?;
    write_tokenizer(file, &tokens, &out.join("tokenizer.json"))?;
    Ok(Imported {
        tensors: named.len(),
        parameters,
        config,
    })
}

/// The byte-level BPE tokenizer the file describes, as transformers rebuilds it.
fn write_tokenizer(file: &GgufFile, tokens: &[String], target: &Path) -> Result<()> {
    use tokenizers::models::bpe::BPE;
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    use tokenizers::{AddedToken, TokenizerBuilder};
    let model = file
        .meta
        .get("tokenizer.ggml.model")
        .and_then(MetaValue::as_str)
        .unwrap_or("");
    if model != "gpt2" {
        return Err(TrainerError::Checkpoint {
            path: file.path.clone(),
            message: format!("tokenizer.ggml.model {model:?}: only byte-level BPE (gpt2) vocabularies are rebuilt"),
        });
    }
    let merges: Vec<(String, String)> = match file.meta.get("tokenizer.ggml.merges") {
        Some(MetaValue::Array(items)) => items
            .iter()
            .filter_map(|m| {
                m.as_str()
                    .and_then(|s| s.split_once(' '))
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
            })
            .collect(),
        _ => Vec::new(),
    };
    let vocab: tokenizers::models::bpe::Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let bad = |e: tokenizers::Error| TrainerError::Tokenizer {
        path: target.to_owned(),
        message: e.to_string(),
    };
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(bad)?;
    let mut tokenizer = TokenizerBuilder::new()
        .with_model(bpe)
        .with_normalizer(None::<tokenizers::normalizers::NormalizerWrapper>)
        .with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)))
        .with_post_processor(Some(ByteLevel::default()))
        .with_decoder(Some(ByteLevel::default()))
        .build()
        .map_err(bad)?;
    // Control tokens (type 3) stay whole and are special.
    if let Some(MetaValue::Array(types)) = file.meta.get("tokenizer.ggml.token_type") {
        let control: Vec<AddedToken> = tokens
            .iter()
            .zip(types)
            .filter(|(_, t)| t.as_int() == Some(3))
            .map(|(tok, _)| AddedToken::from(tok.clone(), true).normalized(false))
            .collect();
        tokenizer.add_special_tokens(&control);
    }
    tokenizer.save(target, false).map_err(bad)?;
    TextTokenizer::load(target, None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::half_to_f32;

    #[test]
    fn halves_convert_exactly() {
        for (bits, value) in [
            (0x3c00u16, 1.0f32),
            (0xc000, -2.0),
            (0x3555, 0.333_251_95),
            (0x0001, 5.960_464_5e-8),
            (0x7bff, 65504.0),
            (0, 0.0),
        ] {
            assert_eq!(half_to_f32(bits), value, "{bits:#x}");
        }
        assert!(half_to_f32(0x7c00).is_infinite());
    }
}
