//! The objectives, per answer token:
//! - `sft`: cross-entropy of the gold answer y given x;
//! - `ka` (KALE): the divergence between the student's next-token distribution without the
//!   rationale, p(. | x, y<t), and the teacher's with it, q(. | x, r, y<t), over the full
//!   vocabulary; p gets the gradient, q is a fixed target;
//! - `ka+sft`: `ka` + lambda * `sft`.
//! - `rationale-sft`: cross-entropy of y given x *and* r: how a model learns to use a rationale
//!   in its prompt (the skill KA's teacher needs), and the "rationale at test time" upper bound.
//!
//! The divergence is KL(p || q) by default, KL(q || p) or the Jensen-Shannon divergence with
//! weight beta on request; a temperature T softens both distributions and scales the term by T^2
//! (as distillation does, so gradients keep their size). Losses are means over answer tokens.

use tch::{Kind, Tensor};

/// Which divergence KA minimises.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Divergence {
    /// KL(p || q): the student's mass where the teacher has little costs most (the paper's).
    Forward,
    /// KL(q || p).
    Reverse,
    /// beta KL(p || m) + (1 - beta) KL(q || m), m = beta p + (1 - beta) q.
    Jsd { beta: f64 },
}

impl Divergence {
    pub fn parse(name: &str, beta: f64) -> Option<Self> {
        Some(match name {
            "p||q" | "forward" => Self::Forward,
            "q||p" | "reverse" => Self::Reverse,
            "jsd" => Self::Jsd { beta },
            _ => return None,
        })
    }
}

/// The training objective.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Objective {
    Sft,
    Ka,
    KaSft {
        lambda: f64,
    },
    /// SFT with the rationale in the prompt (examples without one train on x alone).
    RationaleSft,
}

impl Objective {
    pub fn parse(name: &str, lambda: f64) -> Option<Self> {
        Some(match name {
            "sft" => Self::Sft,
            "ka" => Self::Ka,
            "ka+sft" => Self::KaSft { lambda },
            "rationale-sft" => Self::RationaleSft,
            _ => return None,
        })
    }

    pub fn uses_teacher(self) -> bool {
        matches!(self, Self::Ka | Self::KaSft { .. })
    }
}

/// Per-token cross-entropy: `logits` `[n, vocab]`, `targets` `[n]` -> `[n]`.
pub fn cross_entropy_terms(logits: &Tensor, targets: &Tensor) -> Tensor {
    let logp = logits.log_softmax(-1, Kind::Float);
    -logp.gather(1, &targets.unsqueeze(1), false).squeeze_dim(1)
}

/// Per-token divergence between the student's logits and the teacher's, both `[n, vocab]`
/// -> `[n]`. The teacher's side carries no gradient.
pub fn divergence_terms(
    student: &Tensor,
    teacher: &Tensor,
    divergence: Divergence,
    temperature: f64,
) -> Tensor {
    let teacher = teacher.detach();
    let logp = (student / temperature).log_softmax(-1, Kind::Float);
    let logq = (&teacher / temperature).log_softmax(-1, Kind::Float);
    let kl = |loga: &Tensor, logb: &Tensor| {
        (loga.exp() * (loga - logb)).sum_dim_intlist(-1, false, Kind::Float)
    };
    let terms = match divergence {
        Divergence::Forward => kl(&logp, &logq),
        Divergence::Reverse => kl(&logq, &logp),
        Divergence::Jsd { beta } => {
            let m = (logp.exp() * beta + logq.exp() * (1.0 - beta))
                .clamp_min(1e-30)
                .log();
            kl(&logp, &m) * beta + kl(&logq, &m) * (1.0 - beta)
        }
    };
    terms * (temperature * temperature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergences_vanish_for_equal_distributions_and_are_positive_otherwise() {
        let a = Tensor::randn([5, 11], (Kind::Float, tch::Device::Cpu));
        let b = Tensor::randn([5, 11], (Kind::Float, tch::Device::Cpu));
        for d in [
            Divergence::Forward,
            Divergence::Reverse,
            Divergence::Jsd { beta: 0.5 },
        ] {
            let same = divergence_terms(&a, &a, d, 1.0)
                .abs()
                .max()
                .double_value(&[]);
            assert!(same < 1e-6, "{d:?}: {same}");
            let diff = divergence_terms(&a, &b, d, 2.0).min().double_value(&[]);
            assert!(diff > 0.0, "{d:?}");
        }
        // KL(p||q) and KL(q||p) swap with their arguments.
        let f = divergence_terms(&a, &b, Divergence::Forward, 1.0);
        let r = divergence_terms(&b, &a, Divergence::Reverse, 1.0);
        assert!(f.allclose(&r, 1e-5, 1e-6, false));
    }

    #[test]
    fn cross_entropy_matches_the_definition() {
        let logits = Tensor::from_slice(&[0.0f32, 1.0, 2.0]).view([1, 3]);
        let ce = cross_entropy_terms(&logits, &Tensor::from_slice(&[2i64])).double_value(&[0]);
        let expected = -(2.0f64.exp() / (1.0 + 1f64.exp() + 2f64.exp())).ln();
        assert!((ce - expected).abs() < 1e-6);
    }
}
