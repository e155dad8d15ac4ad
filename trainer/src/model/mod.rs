//! Decoder-only language models: the architectures, their parameters (named as Hugging Face
//! names them, so checkpoints round-trip), and what training needs of them.
//!
//! ```
//! use kale_trainer::config::{Arch, ModelConfig, ModelShape};
//! use kale_trainer::model::CausalLm;
//! use tch::{Device, Kind, Tensor};
//!
//! let config = ModelConfig::new(&ModelShape::tiny(Arch::Llama, 100)).unwrap();
//! let model = CausalLm::new(config, Device::Cpu, None);
//! let ids = Tensor::from_slice(&[1i64, 2, 3]).view([1, 3]);
//! let logits = model.forward(&ids, false);
//! assert_eq!(logits.size(), [1, 3, 100]);
//! assert_eq!(logits.kind(), Kind::Float);
//! ```

mod cache;
mod gpt2;
mod layers;
mod llama;

pub use cache::{Attend, KvCache};
pub use layers::{Linear, Pass};

use crate::config::{Arch, ModelConfig};
use crate::lora::LoraConfig;
use tch::{nn, Device, Tensor};

enum Network {
    Gpt2(gpt2::Gpt2),
    Llama(llama::Llama),
}

/// A causal language model and its variables.
pub struct CausalLm {
    pub config: ModelConfig,
    pub vs: nn::VarStore,
    net: Network,
    lora: Option<LoraConfig>,
}

/// Whether a variable belongs to a LoRA adapter.
pub fn is_adapter(name: &str) -> bool {
    name.contains(".lora_A.") || name.contains(".lora_B.")
}

impl CausalLm {
    /// A model with fresh weights (and fresh adapters when `lora` is given).
    pub fn new(config: ModelConfig, device: Device, lora: Option<LoraConfig>) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let net = match config.arch {
            Arch::Gpt2 => Network::Gpt2(gpt2::Gpt2::new(&root, &config, lora.as_ref())),
            Arch::Llama => Network::Llama(llama::Llama::new(&root, &config, lora.as_ref())),
        };
        let model = Self {
            config,
            vs,
            net,
            lora,
        };
        if model.lora.is_some() {
            // Only the adapters learn.
            for (name, var) in model.vs.variables() {
                if !is_adapter(&name) {
                    let _ = var.set_requires_grad(false);
                }
            }
        }
        model
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn lora(&self) -> Option<&LoraConfig> {
        self.lora.as_ref()
    }

    /// Logits `[batch, time, vocab]`; `train` turns adapter dropout on.
    pub fn forward(&self, ids: &Tensor, train: bool) -> Tensor {
        self.forward_pass(
            ids,
            Pass {
                train,
                adapters: true,
            },
            None,
        )
    }

    /// Logits `[rows, vocab]` of the given positions only (indices into the flattened
    /// `batch * time` positions): training needs the answer positions alone, and the output
    /// projection of every other position is a quarter of a small model's work.
    pub fn forward_rows(&self, ids: &Tensor, rows: &Tensor, train: bool) -> Tensor {
        self.forward_pass(
            ids,
            Pass {
                train,
                adapters: true,
            },
            Some(rows),
        )
    }

    /// Logits of `rows` (as in [`CausalLm::forward_rows`]) from the base model alone, adapters
    /// bypassed (with fresh adapters, whose B is zero, that is the model as it started: the
    /// frozen teacher at no cost of a copy).
    pub fn forward_base_rows(&self, ids: &Tensor, rows: &Tensor) -> Tensor {
        self.forward_pass(
            ids,
            Pass {
                train: false,
                adapters: false,
            },
            Some(rows),
        )
    }

    fn forward_pass(&self, ids: &Tensor, pass: Pass, rows: Option<&Tensor>) -> Tensor {
        let device = self.device();
        let run = || match &self.net {
            Network::Gpt2(m) => m.forward(ids, pass, rows),
            Network::Llama(m) => m.forward(ids, pass, rows),
        };
        // bf16 on GPUs (fp32 master weights), fp32 on the CPU, which has no autocast.
        if device.is_cuda() {
            tch::autocast(true, run).to_kind(tch::Kind::Float)
        } else {
            run()
        }
    }

    /// Final hidden states `[batch, time, hidden]` of `ids` read after cached positions (see
    /// [`Attend`]), and the extended cache when asked for; [`CausalLm::logits`] turns states into
    /// logits. Evaluation and generation run through here, under no-grad.
    pub fn forward_cached(&self, ids: &Tensor, attend: &Attend<'_>) -> (Tensor, Option<KvCache>) {
        let pass = Pass {
            train: false,
            adapters: true,
        };
        let run = || match &self.net {
            Network::Gpt2(m) => m.forward_cached(ids, attend, pass),
            Network::Llama(m) => m.forward_cached(ids, attend, pass),
        };
        if self.device().is_cuda() {
            let (h, cache) = tch::autocast(true, run);
            (h.to_kind(tch::Kind::Float), cache)
        } else {
            run()
        }
    }

    /// Logits `[.., vocab]` of final hidden states `[.., hidden]`.
    pub fn logits(&self, hidden: &Tensor) -> Tensor {
        let run = || match &self.net {
            Network::Gpt2(m) => m.head(hidden),
            Network::Llama(m) => m.head(hidden),
        };
        if self.device().is_cuda() {
            tch::autocast(true, run).to_kind(tch::Kind::Float)
        } else {
            run()
        }
    }

    /// The variables that learn, sorted by name: all of them, or only the adapters.
    pub fn trainable(&self) -> Vec<(String, Tensor)> {
        self.variables_where(|name| self.lora.is_none() || is_adapter(name))
    }

    /// The base model's variables (no adapters), sorted by name.
    pub fn base_variables(&self) -> Vec<(String, Tensor)> {
        self.variables_where(|name| !is_adapter(name))
    }

    /// The adapters' variables, sorted by name.
    pub fn adapter_variables(&self) -> Vec<(String, Tensor)> {
        self.variables_where(is_adapter)
    }

    /// The variables whose names `keep` accepts, sorted by name (so that saved files and
    /// optimizer state line up run to run).
    fn variables_where(&self, keep: impl Fn(&str) -> bool) -> Vec<(String, Tensor)> {
        let mut vars: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            .filter(|(name, _)| keep(name))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }

    fn linears_mut(&mut self) -> Vec<&mut Linear> {
        match &mut self.net {
            Network::Gpt2(m) => m.linears_mut(),
            Network::Llama(m) => m.linears_mut(),
        }
    }

    /// Folds every adapter into its base weight; the model is then an ordinary one.
    pub fn merge_lora(&mut self) {
        for linear in self.linears_mut() {
            linear.merge_lora();
        }
        self.lora = None;
    }

    /// A copy with the same weights, detached from this one: the frozen teacher of KA.
    pub fn frozen_copy(&self) -> Self {
        let copy = Self::new(self.config.clone(), self.device(), self.lora.clone());
        tch::no_grad(|| {
            let source = self.vs.variables();
            for (name, var) in copy.vs.variables() {
                let mut var = var;
                var.copy_(&source[&name]);
                let _ = var.set_requires_grad(false);
            }
        });
        copy
    }

    /// Parameters counted (all of them, and those that learn).
    pub fn parameter_counts(&self) -> (i64, i64) {
        let all = self
            .vs
            .variables()
            .values()
            .map(Tensor::numel)
            .sum::<usize>() as i64;
        let trainable = self
            .trainable()
            .iter()
            .map(|(_, t)| t.numel())
            .sum::<usize>() as i64;
        (all, trainable)
    }
}
