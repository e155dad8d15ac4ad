//! AdamW with decoupled weight decay (none on biases and norms), a linear-warmup cosine schedule,
//! and global-norm gradient clipping. Written here rather than taken from tch so that its state
//! (moments, step) can be saved in a checkpoint and a resumed run continues exactly.

use crate::error::Result;
use std::path::Path;
use tch::{Kind, Tensor};

/// The optimiser's settings.
#[derive(Clone, Debug)]
pub struct AdamWConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

struct Slot {
    name: String,
    param: Tensor,
    m: Tensor,
    v: Tensor,
    decay: bool,
}

pub struct AdamW {
    slots: Vec<Slot>,
    pub config: AdamWConfig,
    pub step: i64,
}

impl AdamW {
    /// Over named parameters; those of one dimension (biases, norm weights) get no decay.
    pub fn new(params: Vec<(String, Tensor)>, config: AdamWConfig) -> Self {
        let slots = params
            .into_iter()
            .map(|(name, param)| Slot {
                decay: param.dim() >= 2,
                m: param.zeros_like(),
                v: param.zeros_like(),
                name,
                param,
            })
            .collect();
        Self {
            slots,
            config,
            step: 0,
        }
    }

    /// The global L2 norm of the gradients; scales them down to `max` when above it.
    pub fn clip_grad_norm(&self, max: f64) -> f64 {
        let grads: Vec<Tensor> = self
            .slots
            .iter()
            .map(|s| s.param.grad())
            .filter(|g| g.defined())
            .collect();
        if grads.is_empty() {
            return 0.0;
        }
        let norm = tch::no_grad(|| {
            let squares: Vec<Tensor> = grads
                .iter()
                .map(|g| g.pow_tensor_scalar(2).sum(Kind::Float))
                .collect();
            Tensor::stack(&squares, 0)
                .sum(Kind::Float)
                .sqrt()
                .double_value(&[])
        });
        if max > 0.0 && norm > max {
            let scale = max / (norm + 1e-6);
            tch::no_grad(|| {
                for g in &grads {
                    let mut g = g.shallow_clone();
                    let _ = g.g_mul_scalar_(scale);
                }
            });
        }
        norm
    }

    /// One update at learning rate `lr`; gradients are then zeroed.
    pub fn step(&mut self, lr: f64) {
        self.step += 1;
        let c = &self.config;
        let bias1 = 1.0 - c.beta1.powi(self.step as i32);
        let bias2 = 1.0 - c.beta2.powi(self.step as i32);
        tch::no_grad(|| {
            for slot in &mut self.slots {
                let grad = slot.param.grad();
                if !grad.defined() {
                    continue;
                }
                if slot.decay && c.weight_decay > 0.0 {
                    let _ = slot.param.g_mul_scalar_(1.0 - lr * c.weight_decay);
                }
                // In place and with few temporaries (as torch.optim.AdamW's single-tensor path):
                // m <- m + (1 - b1)(g - m); v <- b2 v + (1 - b2) g^2;
                // p <- p - lr/bias1 * m / (sqrt(v)/sqrt(bias2) + eps).
                let _ = slot.m.lerp_(&grad, 1.0 - c.beta1);
                let _ = slot
                    .v
                    .g_mul_scalar_(c.beta2)
                    .addcmul_(&grad, &(&grad * (1.0 - c.beta2)));
                let mut denom = slot.v.sqrt();
                let _ = denom.g_div_scalar_(bias2.sqrt()).g_add_scalar_(c.eps);
                let _ = slot.param.addcdiv_(&(&slot.m * (-lr / bias1)), &denom);
            }
        });
        self.zero_grad();
    }

    pub fn zero_grad(&mut self) {
        for slot in &mut self.slots {
            let mut grad = slot.param.grad();
            if grad.defined() {
                let _ = grad.zero_();
            }
        }
    }

    /// Saves the moments and the step count.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors: Vec<(String, Tensor)> = Vec::new();
        for s in &self.slots {
            tensors.push((format!("m.{}", s.name), s.m.to_device(tch::Device::Cpu)));
            tensors.push((format!("v.{}", s.name), s.v.to_device(tch::Device::Cpu)));
        }
        tensors.push(("step".into(), Tensor::from_slice(&[self.step])));
        Tensor::write_safetensors(&tensors, path)?;
        Ok(())
    }

    /// Restores what [`AdamW::save`] wrote.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let saved: std::collections::HashMap<String, Tensor> =
            Tensor::read_safetensors(path)?.into_iter().collect();
        let missing = |name: &str| crate::TrainerError::Tensor {
            path: path.to_owned(),
            name: name.to_owned(),
            message: "missing from the optimizer state".into(),
        };
        tch::no_grad(|| -> Result<()> {
            for s in &mut self.slots {
                let (m, v) = (format!("m.{}", s.name), format!("v.{}", s.name));
                s.m.copy_(saved.get(&m).ok_or_else(|| missing(&m))?);
                s.v.copy_(saved.get(&v).ok_or_else(|| missing(&v))?);
            }
            Ok(())
        })?;
        self.step = saved
            .get("step")
            .ok_or_else(|| missing("step"))?
            .int64_value(&[0]);
        Ok(())
    }
}

/// Linear warmup to the peak, then cosine decay to `min_ratio` of it at `total` steps.
pub fn learning_rate(step: i64, peak: f64, warmup: i64, total: i64, min_ratio: f64) -> f64 {
    if warmup > 0 && step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let span = (total - warmup).max(1) as f64;
    let progress = ((step - warmup) as f64 / span).clamp(0.0, 1.0);
    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
    peak * (min_ratio + (1.0 - min_ratio) * cosine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_the_floor() {
        assert!((learning_rate(0, 1.0, 10, 100, 0.1) - 0.1).abs() < 1e-12);
        assert!((learning_rate(9, 1.0, 10, 100, 0.1) - 1.0).abs() < 1e-12);
        assert!((learning_rate(10, 1.0, 10, 100, 0.1) - 1.0).abs() < 1e-12);
        assert!((learning_rate(100, 1.0, 10, 100, 0.1) - 0.1).abs() < 1e-12);
        assert!(learning_rate(55, 1.0, 10, 100, 0.1) < 0.6);
    }

    #[test]
    fn adamw_matches_the_update_rule_on_one_parameter() {
        let p = Tensor::from_slice(&[1.0f32, -2.0])
            .view([1, 2])
            .set_requires_grad(true);
        let mut opt = AdamW::new(
            vec![("w".into(), p.shallow_clone())],
            AdamWConfig {
                lr: 0.1,
                weight_decay: 0.5,
                ..AdamWConfig::default()
            },
        );
        (&p * &p).sum(Kind::Float).backward();
        opt.step(0.1);
        // First step: m/(1-b1) = g, v/(1-b2) = g^2, so the update is about lr * sign(g).
        let expected = [1.0 * (1.0 - 0.05) - 0.1, -2.0 * (1.0 - 0.05) + 0.1];
        let got: Vec<f32> = Vec::try_from(p.flatten(0, -1)).unwrap();
        for (g, e) in got.iter().zip(expected) {
            assert!((f64::from(*g) - e).abs() < 1e-4, "{got:?}");
        }
    }

    #[test]
    fn adamw_follows_the_reference_rule_over_several_steps() {
        let start = [0.5f64, -1.5, 2.0];
        let p = Tensor::from_slice(&start.map(|x| x as f32))
            .view([3, 1])
            .set_requires_grad(true);
        let config = AdamWConfig {
            weight_decay: 0.1,
            ..AdamWConfig::default()
        };
        let mut opt = AdamW::new(vec![("w".into(), p.shallow_clone())], config.clone());
        let (mut x, mut m, mut v) = (start, [0.0f64; 3], [0.0f64; 3]);
        for step in 1..=5 {
            let lr = 0.05 * step as f64;
            // loss = sum(x^3) / 3: gradient x^2.
            (p.pow_tensor_scalar(3).sum(Kind::Float) / 3.0).backward();
            opt.step(lr);
            for i in 0..3 {
                let g = x[i] * x[i];
                x[i] *= 1.0 - lr * config.weight_decay;
                m[i] = config.beta1 * m[i] + (1.0 - config.beta1) * g;
                v[i] = config.beta2 * v[i] + (1.0 - config.beta2) * g * g;
                let mhat = m[i] / (1.0 - config.beta1.powi(step));
                let vhat = v[i] / (1.0 - config.beta2.powi(step));
                x[i] -= lr * mhat / (vhat.sqrt() + config.eps);
            }
            let got: Vec<f32> = Vec::try_from(p.flatten(0, -1)).unwrap();
            for (g, e) in got.iter().zip(x) {
                assert!(
                    (f64::from(*g) - e).abs() < 1e-5,
                    "step {step}: {got:?} vs {x:?}"
                );
            }
        }
    }
}
