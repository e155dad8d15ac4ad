//! Hugging Face model directories: `config.json`, `model.safetensors` (or shards listed in
//! `model.safetensors.index.json`), `tokenizer.json`, `generation_config.json`. Loading checks
//! every tensor's presence and shape and names the one at fault; saving writes the same layout,
//! so what we save loads in transformers and the reverse.

use crate::config::{Arch, ModelConfig};
use crate::error::{Result, TrainerError};
use crate::lora::{load_adapters, save_adapters, LoraConfig};
use crate::model::{is_adapter, CausalLm};
use crate::tokenizer::TextTokenizer;
use rustc_hash::FxHashMap;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// A loaded model directory.
pub struct Loaded {
    pub model: CausalLm,
    pub tokenizer: TextTokenizer,
    /// Tensors in the files that the model does not use.
    pub unused: Vec<String>,
}

/// Buffers some checkpoints carry that are no parameters.
fn is_buffer(name: &str) -> bool {
    name.ends_with(".attn.bias")
        || name.ends_with(".attn.masked_bias")
        || name.ends_with("rotary_emb.inv_freq")
}

/// The safetensors files of a directory.
fn weight_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let single = dir.join("model.safetensors");
    if single.exists() {
        return Ok(vec![single]);
    }
    let index = dir.join("model.safetensors.index.json");
    if !index.exists() {
        return Err(TrainerError::Checkpoint {
            path: dir.to_owned(),
            message: "neither model.safetensors nor model.safetensors.index.json is there".into(),
        });
    }
    let text = std::fs::read_to_string(&index).map_err(TrainerError::io(&index))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| TrainerError::Checkpoint {
        path: index.clone(),
        message: format!("not JSON: {e}"),
    })?;
    let map = value
        .get("weight_map")
        .and_then(Value::as_object)
        .ok_or_else(|| TrainerError::Checkpoint {
            path: index.clone(),
            message: "no `weight_map`".into(),
        })?;
    let mut files: Vec<PathBuf> = map
        .values()
        .filter_map(Value::as_str)
        .map(|f| dir.join(f))
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// Every tensor of a checkpoint directory, by name (converted to fp32).
fn read_tensors(dir: &Path) -> Result<FxHashMap<String, (Tensor, PathBuf)>> {
    let mut tensors = FxHashMap::default();
    for file in weight_files(dir)? {
        if !file.exists() {
            return Err(TrainerError::Checkpoint {
                path: file,
                message: "listed in the index but missing".into(),
            });
        }
        let read = Tensor::read_safetensors(&file).map_err(|e| TrainerError::Checkpoint {
            path: file.clone(),
            message: format!("unreadable safetensors file: {e}"),
        })?;
        for (name, tensor) in read {
            tensors.insert(name, (tensor, file.clone()));
        }
    }
    Ok(tensors)
}

/// Loads a model directory onto a device, optionally with fresh LoRA adapters.
pub fn load_model(dir: &Path, device: Device, lora: Option<LoraConfig>) -> Result<Loaded> {
    if let Some(lora) = &lora {
        lora.check()?;
    }
    if !dir.is_dir() {
        return Err(TrainerError::Checkpoint {
            path: dir.to_owned(),
            message: "no such model directory".into(),
        });
    }
    let config = ModelConfig::from_file(&dir.join("config.json"))?;
    let tokenizer = TextTokenizer::load(&dir.join("tokenizer.json"), config.eos_token_id)?;
    // A tokenizer with ids past the embedding table would index out of range mid-training.
    if tokenizer.vocab_size() as i64 > config.vocab_size {
        return Err(TrainerError::Tokenizer {
            path: tokenizer.path.clone(),
            message: format!(
                "has {} tokens but the model's vocab_size (config.json) is {}",
                tokenizer.vocab_size(),
                config.vocab_size
            ),
        });
    }
    let mut tensors = read_tensors(dir)?;
    // Original GPT-2 checkpoints name parameters without the `transformer.` prefix.
    if config.arch == Arch::Gpt2 && !tensors.keys().any(|k| k.starts_with("transformer.")) {
        tensors = tensors
            .into_iter()
            .map(|(k, v)| {
                if k == "lm_head.weight" {
                    (k, v)
                } else {
                    (format!("transformer.{k}"), v)
                }
            })
            .collect();
    }
    let model = CausalLm::new(config, device, lora);
    tch::no_grad(|| -> Result<()> {
        for (name, var) in model.base_variables() {
            let Some((tensor, file)) = tensors.remove(&name) else {
                return Err(TrainerError::Tensor {
                    path: dir.to_owned(),
                    name,
                    message: "missing from the checkpoint".into(),
                });
            };
            if tensor.size() != var.size() {
                return Err(TrainerError::Tensor {
                    path: file,
                    name,
                    message: format!(
                        "has shape {:?}, the config implies {:?}",
                        tensor.size(),
                        var.size()
                    ),
                });
            }
            if !tensor.is_floating_point() {
                return Err(TrainerError::Tensor {
                    path: file,
                    name,
                    message: format!("has dtype {:?}, a float type is needed", tensor.kind()),
                });
            }
            let mut var = var;
            var.copy_(&tensor.to_kind(Kind::Float).to_device(device));
        }
        Ok(())
    })?;
    let mut unused: Vec<String> = tensors
        .into_keys()
        .filter(|k| !(is_buffer(k) || k == "lm_head.weight" && model.config.tie_word_embeddings))
        .collect();
    unused.sort();
    Ok(Loaded {
        model,
        tokenizer,
        unused,
    })
}

/// Loads PEFT adapters saved by [`save_model`] (or PEFT) into a model built with their config.
pub fn load_with_adapters(base: &Path, adapters: &Path, device: Device) -> Result<Loaded> {
    let (config, tensors) = load_adapters(adapters)?;
    let loaded = load_model(base, device, Some(config))?;
    let vars = loaded.model.vs.variables();
    tch::no_grad(|| -> Result<()> {
        for (name, tensor) in tensors {
            let Some(var) = vars.get(&name) else {
                return Err(TrainerError::Tensor {
                    path: adapters.to_owned(),
                    name,
                    message: "matches no adapter of the model".into(),
                });
            };
            let mut var = var.shallow_clone();
            var.copy_(&tensor.to_kind(Kind::Float).to_device(device));
        }
        Ok(())
    })?;
    Ok(loaded)
}

/// Saves a model in the Hugging Face layout. Adapters go to `adapters/` in PEFT's layout (the
/// base weights beside them stay the base model's), unless merged first.
pub fn save_model(model: &CausalLm, tokenizer: &TextTokenizer, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(TrainerError::io(dir))?;
    let config_path = dir.join("config.json");
    std::fs::write(
        &config_path,
        serde_json::to_string_pretty(&model.config.to_value()).expect("JSON"),
    )
    .map_err(TrainerError::io(&config_path))?;
    let generation = dir.join("generation_config.json");
    let mut gen = json!({ "_from_model_config": true });
    if let Some(bos) = model.config.bos_token_id {
        gen["bos_token_id"] = bos.into();
    }
    if let Some(eos) = model.config.eos_token_id {
        gen["eos_token_id"] = eos.into();
    }
    std::fs::write(
        &generation,
        serde_json::to_string_pretty(&gen).expect("JSON"),
    )
    .map_err(TrainerError::io(&generation))?;
    let tokenizer_path = dir.join("tokenizer.json");
    if tokenizer.path != tokenizer_path {
        std::fs::copy(&tokenizer.path, &tokenizer_path)
            .map_err(TrainerError::io(&tokenizer_path))?;
        // The chat template and the BOS rule travel with the tokenizer.
        if let Some(config) = tokenizer.config() {
            let path = dir.join(crate::tokenizer::TOKENIZER_CONFIG);
            std::fs::write(&path, serde_json::to_string_pretty(config).expect("JSON"))
                .map_err(TrainerError::io(&path))?;
        }
    }
    let weights: Vec<(String, Tensor)> = model
        .base_variables()
        .into_iter()
        .filter(|(name, _)| !is_adapter(name))
        .map(|(n, t)| (n, t.to_device(Device::Cpu).contiguous()))
        .collect();
    let tmp = dir.join("model.safetensors.tmp");
    Tensor::write_safetensors(&weights, &tmp)?;
    std::fs::rename(&tmp, dir.join("model.safetensors")).map_err(TrainerError::io(dir))?;
    if let Some(lora) = model.lora() {
        let adapters: Vec<(String, Tensor)> = model
            .adapter_variables()
            .into_iter()
            .map(|(n, t)| (n, t.to_device(Device::Cpu)))
            .collect();
        save_adapters(
            &dir.join("adapters"),
            lora,
            &dir.to_string_lossy(),
            &adapters,
        )?;
    }
    Ok(())
}
