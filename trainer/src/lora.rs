//! LoRA adapters: low-rank updates `W + (alpha / r) B A` on chosen linear maps, trained while the
//! base weights stay frozen, saved in PEFT's layout (`adapter_config.json`,
//! `adapter_model.safetensors`) and merged into the base weights on request.
//!
//! A is initialised like PEFT does (Kaiming uniform) and B with zeros, so a fresh adapter changes
//! nothing: the frozen teacher of KA fine-tuning is then the base model plus the initial
//! adapters, at no cost of a second copy.

use crate::error::{Result, TrainerError};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::nn::{self, Init};
use tch::Tensor;

/// Which maps get adapters, and their shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoraConfig {
    pub r: i64,
    #[serde(rename = "lora_alpha")]
    pub alpha: f64,
    #[serde(rename = "lora_dropout")]
    pub dropout: f64,
    pub target_modules: Vec<String>,
}

impl LoraConfig {
    pub fn new(r: i64, alpha: f64, dropout: f64, target_modules: Vec<String>) -> Self {
        Self {
            r,
            alpha,
            dropout,
            target_modules,
        }
    }

    /// A rank of at least 1, a finite alpha and a dropout in [0, 1), or an error saying which.
    pub fn check(&self) -> Result<()> {
        let problem = if self.r < 1 {
            Some(format!(
                "the LoRA rank is {}: it must be at least 1",
                self.r
            ))
        } else if !self.alpha.is_finite() {
            Some(format!(
                "the LoRA alpha is {}: it must be a number",
                self.alpha
            ))
        } else if !(0.0..1.0).contains(&self.dropout) {
            Some(format!(
                "the LoRA dropout is {}: it must be in [0, 1)",
                self.dropout
            ))
        } else if self.target_modules.is_empty() {
            Some("no LoRA target modules given".to_owned())
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(TrainerError::InvalidInput(p)))
    }

    /// Whether a linear map (by its last name, `q_proj`) gets an adapter.
    pub fn targets(&self, name: &str) -> bool {
        self.target_modules.iter().any(|t| t == name)
    }

    pub fn scale(&self) -> f64 {
        self.alpha / self.r as f64
    }
}

/// The adapter of one linear map: `lora_A.weight` `[r, in]`, `lora_B.weight` `[out, r]`.
pub struct LoraPair {
    pub a: Tensor,
    pub b: Tensor,
    scale: f64,
    dropout: f64,
}

impl LoraPair {
    pub fn new(path: &nn::Path<'_>, inputs: i64, outputs: i64, config: &LoraConfig) -> Self {
        let a = (path / "lora_A").var(
            "weight",
            &[config.r, inputs],
            Init::Kaiming {
                dist: nn::init::NormalOrUniform::Uniform,
                fan: nn::init::FanInOut::FanIn,
                non_linearity: nn::init::NonLinearity::ReLU,
            },
        );
        let b = (path / "lora_B").var("weight", &[outputs, config.r], Init::Const(0.0));
        Self {
            a,
            b,
            scale: config.scale(),
            dropout: config.dropout,
        }
    }

    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let x = if train && self.dropout > 0.0 {
            x.dropout(self.dropout, true)
        } else {
            x.shallow_clone()
        };
        x.matmul(&self.a.tr()).matmul(&self.b.tr()) * self.scale
    }

    /// `scale * B A`, `[out, in]`.
    pub fn delta(&self) -> Tensor {
        tch::no_grad(|| self.b.matmul(&self.a) * self.scale)
    }
}

/// PEFT's name for an adapter tensor of ours (`model.layers.0.self_attn.q_proj.lora_A.weight`).
pub fn peft_name(name: &str) -> String {
    format!("base_model.model.{name}")
}

/// Writes `adapter_config.json` and `adapter_model.safetensors`.
pub fn save_adapters(
    dir: &Path,
    config: &LoraConfig,
    base_model: &str,
    tensors: &[(String, Tensor)],
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(TrainerError::io(dir))?;
    let mut json = serde_json::to_value(config).expect("serialisable");
    json["peft_type"] = "LORA".into();
    json["task_type"] = "CAUSAL_LM".into();
    json["base_model_name_or_path"] = base_model.into();
    json["bias"] = "none".into();
    json["fan_in_fan_out"] = false.into();
    json["inference_mode"] = true.into();
    let path = dir.join("adapter_config.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json).expect("JSON"))
        .map_err(TrainerError::io(&path))?;
    let named: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(n, t)| (peft_name(n), t.shallow_clone()))
        .collect();
    let path = dir.join("adapter_model.safetensors");
    Tensor::write_safetensors(&named, &path)?;
    Ok(())
}

/// Reads an adapter directory: its config and tensors under our names.
pub fn load_adapters(dir: &Path) -> Result<(LoraConfig, Vec<(String, Tensor)>)> {
    let path = dir.join("adapter_config.json");
    let text = std::fs::read_to_string(&path).map_err(TrainerError::io(&path))?;
    let config: LoraConfig = serde_json::from_str(&text).map_err(|e| TrainerError::Config {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let path = dir.join("adapter_model.safetensors");
    let tensors = Tensor::read_safetensors(&path)?
        .into_iter()
        .map(|(n, t)| {
            (
                n.strip_prefix("base_model.model.").unwrap_or(&n).to_owned(),
                t,
            )
        })
        .collect();
    Ok((config, tensors))
}
