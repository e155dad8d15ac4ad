//! The building blocks both architectures share: linear maps (with an optional LoRA branch),
//! normalisations and the way their parameters are created under Hugging Face's names.

use crate::lora::{LoraConfig, LoraPair};
use tch::nn::{self, Init};
use tch::{Kind, Tensor};

/// How one forward pass runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pass {
    /// Adapter dropout on.
    pub train: bool,
    /// Through the LoRA adapters (off: the base model alone).
    pub adapters: bool,
}

/// How a fresh weight is initialised (Hugging Face's defaults for these models).
pub fn normal_init() -> Init {
    Init::Randn {
        mean: 0.0,
        stdev: 0.02,
    }
}

/// A linear map `y = x W^T + b` named `{path}.weight`/`{path}.bias`. GPT-2's `Conv1D` stores
/// `W` transposed (`[in, out]`); `transposed` says so, and the file layout is kept.
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    transposed: bool,
    lora: Option<LoraPair>,
}

impl Linear {
    pub fn new(
        path: &nn::Path<'_>,
        inputs: i64,
        outputs: i64,
        bias: bool,
        lora: Option<&LoraConfig>,
        name: &str,
    ) -> Self {
        Self::build(path, inputs, outputs, bias, false, lora, name)
    }

    /// GPT-2's `Conv1D`: the weight is stored `[in, out]`.
    pub fn conv1d(
        path: &nn::Path<'_>,
        inputs: i64,
        outputs: i64,
        lora: Option<&LoraConfig>,
        name: &str,
    ) -> Self {
        Self::build(path, inputs, outputs, true, true, lora, name)
    }

    fn build(
        path: &nn::Path<'_>,
        inputs: i64,
        outputs: i64,
        bias: bool,
        transposed: bool,
        lora: Option<&LoraConfig>,
        name: &str,
    ) -> Self {
        let shape = if transposed {
            [inputs, outputs]
        } else {
            [outputs, inputs]
        };
        let weight = path.var("weight", &shape, normal_init());
        let bias = bias.then(|| path.var("bias", &[outputs], Init::Const(0.0)));
        let lora = lora
            .filter(|c| c.targets(name))
            .map(|c| LoraPair::new(path, inputs, outputs, c));
        Self {
            weight,
            bias,
            transposed,
            lora,
        }
    }

    pub fn forward(&self, x: &Tensor, pass: Pass) -> Tensor {
        let mut y = if self.transposed {
            x.matmul(&self.weight)
        } else {
            x.matmul(&self.weight.tr())
        };
        if let Some(b) = &self.bias {
            y += b;
        }
        if let Some(lora) = self.lora.as_ref().filter(|_| pass.adapters) {
            y += lora.forward(x, pass.train);
        }
        y
    }

    pub fn lora(&self) -> Option<&LoraPair> {
        self.lora.as_ref()
    }

    /// Folds the LoRA branch into the weight (`W += scale * B A`) and drops it.
    pub fn merge_lora(&mut self) {
        if let Some(lora) = self.lora.take() {
            let delta = lora.delta();
            tch::no_grad(|| {
                if self.transposed {
                    let _ = self.weight.g_add_(&delta.tr());
                } else {
                    let _ = self.weight.g_add_(&delta);
                }
            });
        }
    }
}

/// `{path}.weight` (and `.bias`): layer norm as GPT-2 uses it.
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
    size: i64,
}

impl LayerNorm {
    pub fn new(path: &nn::Path<'_>, size: i64, eps: f64) -> Self {
        Self {
            weight: path.var("weight", &[size], Init::Const(1.0)),
            bias: path.var("bias", &[size], Init::Const(0.0)),
            eps,
            size,
        }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.layer_norm(
            [self.size],
            Some(&self.weight),
            Some(&self.bias),
            self.eps,
            true,
        )
    }
}

/// RMS norm as Llama uses it: computed in fp32 whatever the input's precision.
pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    pub fn new(path: &nn::Path<'_>, size: i64, eps: f64) -> Self {
        Self {
            weight: path.var("weight", &[size], Init::Const(1.0)),
            eps,
        }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let kind = x.kind();
        let x32 = x.to_kind(Kind::Float);
        let variance = x32.pow_tensor_scalar(2).mean_dim(-1, true, Kind::Float);
        let normed = (x32 * (variance + self.eps).rsqrt()).to_kind(kind);
        &self.weight * normed
    }
}

/// The final hidden states `[batch, time, hidden]`, as they are or only `rows` of the flattened
/// positions, `[rows, hidden]`.
pub fn select_rows(h: &Tensor, rows: Option<&Tensor>) -> Tensor {
    match rows {
        Some(rows) => {
            let hidden = h.size()[2];
            h.view([-1, hidden]).index_select(0, rows)
        }
        None => h.shallow_clone(),
    }
}
