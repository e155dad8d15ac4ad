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
    /// The same divergence with JSD's weight on p set to `beta` (others have none).
    pub fn with_beta(self, beta: f64) -> Self {
        match self {
            Self::Jsd { .. } => Self::Jsd { beta },
            other => other,
        }
    }

    /// The name the command line and configurations use (`p||q`, `q||p`, `jsd`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Forward => "p||q",
            Self::Reverse => "q||p",
            Self::Jsd { .. } => "jsd",
        }
    }
}

/// Parsed by name; JSD's beta is 0.5 until [`Divergence::with_beta`].
impl clap::ValueEnum for Divergence {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Forward, Self::Reverse, Self::Jsd { beta: 0.5 }]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            Self::Forward => PossibleValue::new("p||q")
                .alias("forward")
                .help("KL(p || q), the paper's"),
            Self::Reverse => PossibleValue::new("q||p")
                .alias("reverse")
                .help("KL(q || p)"),
            Self::Jsd { .. } => {
                PossibleValue::new("jsd").help("Jensen-Shannon, weight --beta on p")
            }
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
    /// The same objective with SFT's weight in `ka+sft` set to `lambda` (others have none).
    pub fn with_lambda(self, lambda: f64) -> Self {
        match self {
            Self::KaSft { .. } => Self::KaSft { lambda },
            other => other,
        }
    }

    /// The name the command line and configurations use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sft => "sft",
            Self::Ka => "ka",
            Self::KaSft { .. } => "ka+sft",
            Self::RationaleSft => "rationale-sft",
        }
    }

    pub fn uses_teacher(self) -> bool {
        matches!(self, Self::Ka | Self::KaSft { .. })
    }
}

/// Parsed by name; `ka+sft`'s lambda is 1 until [`Objective::with_lambda`].
impl clap::ValueEnum for Objective {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Self::Sft,
            Self::Ka,
            Self::KaSft { lambda: 1.0 },
            Self::RationaleSft,
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        let help = match self {
            Self::Sft => "cross-entropy of the answer",
            Self::Ka => "KALE: the answer's distribution without the rationale matched to the teacher's with it",
            Self::KaSft { .. } => "ka plus --lambda times sft",
            Self::RationaleSft => "sft with the rationale in the prompt",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

/// Per-token cross-entropy: `logits` `[n, vocab]`, `targets` `[n]` -> `[n]`.
pub fn cross_entropy_terms(logits: &Tensor, targets: &Tensor) -> Tensor {
    cross_entropy_terms_logp(&logits.log_softmax(-1, Kind::Float), targets)
}

/// [`cross_entropy_terms`] from log-probabilities.
pub fn cross_entropy_terms_logp(logp: &Tensor, targets: &Tensor) -> Tensor {
    -logp.gather(1, &targets.unsqueeze(1), false).squeeze_dim(1)
}

/// The student's log-probabilities at the KA temperature (at 1, those cross-entropy reads too:
/// one log-softmax over the vocabulary serves both).
pub fn log_probs(logits: &Tensor, temperature: f64) -> Tensor {
    if temperature == 1.0 {
        logits.log_softmax(-1, Kind::Float)
    } else {
        (logits / temperature).log_softmax(-1, Kind::Float)
    }
}

/// Per-token divergence between the student's logits and the teacher's, both `[n, vocab]`
/// -> `[n]`. The teacher's side carries no gradient.
pub fn divergence_terms(
    student: &Tensor,
    teacher: &Tensor,
    divergence: Divergence,
    temperature: f64,
) -> Tensor {
    divergence_terms_logp(
        &log_probs(student, temperature),
        teacher,
        divergence,
        temperature,
    )
}

/// [`divergence_terms`] from the student's log-probabilities at the temperature.
pub fn divergence_terms_logp(
    logp: &Tensor,
    teacher: &Tensor,
    divergence: Divergence,
    temperature: f64,
) -> Tensor {
    let teacher = teacher.detach();
    let logq = log_probs(&teacher, temperature);
    divergence_of(logp, &logq, divergence, temperature)
}

/// The divergence of two log-distributions over the same outcomes, per row, scaled by T^2.
fn divergence_of(logp: &Tensor, logq: &Tensor, divergence: Divergence, temperature: f64) -> Tensor {
    let kl = |loga: &Tensor, logb: &Tensor| {
        (loga.exp() * (loga - logb)).sum_dim_intlist(-1, false, Kind::Float)
    };
    let terms = match divergence {
        Divergence::Forward => kl(logp, logq),
        Divergence::Reverse => kl(logq, logp),
        Divergence::Jsd { beta } => {
            let m = (logp.exp() * beta + logq.exp() * (1.0 - beta))
                .clamp_min(1e-30)
                .log();
            kl(logp, &m) * beta + kl(logq, &m) * (1.0 - beta)
        }
    };
    terms * (temperature * temperature)
}

/// A frozen teacher's answer-token distributions, kept: per row its top-k tokens and their
/// log-probabilities at the KA temperature, and the log of the probability of every other token
/// together (`None` when k covers the vocabulary).
#[derive(Debug)]
pub struct TopK {
    pub ids: Tensor,
    pub logq: Tensor,
    pub rest: Option<Tensor>,
}

impl TopK {
    /// The top-`k` summary of teacher logits `[n, vocab]` at `temperature`.
    pub fn of(teacher: &Tensor, k: usize, temperature: f64) -> Self {
        let logq = (teacher.detach() / temperature).log_softmax(-1, Kind::Float);
        let vocab = logq.size()[1];
        let k = (k as i64).min(vocab);
        let (top, ids) = logq.topk(k, -1, true, true);
        let rest = (k < vocab).then(|| {
            logq.scatter_value(1, &ids, f64::NEG_INFINITY)
                .logsumexp([1], false)
        });
        Self {
            ids,
            logq: top,
            rest,
        }
    }

    /// Rows `range` of several summaries, concatenated in order.
    pub fn cat(parts: &[&TopK]) -> Self {
        let ids: Vec<&Tensor> = parts.iter().map(|p| &p.ids).collect();
        let logq: Vec<&Tensor> = parts.iter().map(|p| &p.logq).collect();
        let rest = parts
            .iter()
            .map(|p| p.rest.as_ref())
            .collect::<Option<Vec<&Tensor>>>()
            .map(|r| Tensor::cat(&r, 0));
        Self {
            ids: Tensor::cat(&ids, 0),
            logq: Tensor::cat(&logq, 0),
            rest,
        }
    }
}

/// [`divergence_terms`] against a kept [`TopK`] teacher: both distributions summed into the
/// teacher's k tokens and one bucket for the rest, the divergence taken over those k + 1
/// buckets. Exact when k covers the vocabulary; otherwise KL over the buckets is below the full
/// KL by exactly p(rest) times the KL of the two distributions within the rest (the chain rule),
/// which is small when the teacher's mass sits in its top k.
pub fn divergence_terms_topk(
    student: &Tensor,
    teacher: &TopK,
    divergence: Divergence,
    temperature: f64,
) -> Tensor {
    divergence_terms_topk_logp(
        &log_probs(student, temperature),
        teacher,
        divergence,
        temperature,
    )
}

/// [`divergence_terms_topk`] from the student's log-probabilities at the temperature.
pub fn divergence_terms_topk_logp(
    logp_all: &Tensor,
    teacher: &TopK,
    divergence: Divergence,
    temperature: f64,
) -> Tensor {
    let mut logp = logp_all.gather(1, &teacher.ids, false);
    let mut logq = teacher.logq.shallow_clone();
    if let Some(rest) = &teacher.rest {
        // log(1 - sum p_top), kept finite when the top k hold (almost) everything.
        let top_mass: Tensor = logp.exp().sum_dim_intlist(-1, false, Kind::Float);
        let p_rest = top_mass.neg().g_add_scalar(1.0).clamp_min(1e-30);
        logp = Tensor::cat(&[logp, p_rest.log().unsqueeze(1)], 1);
        logq = Tensor::cat(&[logq, rest.clamp_min(-69.0).unsqueeze(1)], 1);
    }
    divergence_of(&logp, &logq, divergence, temperature)
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
    fn the_kept_teacher_is_exact_over_the_vocabulary_and_obeys_the_chain_rule_below_it() {
        tch::manual_seed(3);
        let student = Tensor::randn([6, 40], (Kind::Float, tch::Device::Cpu));
        // A peaked teacher, as a trained one is.
        let teacher = Tensor::randn([6, 40], (Kind::Float, tch::Device::Cpu)) * 4.0;
        for d in [
            Divergence::Forward,
            Divergence::Reverse,
            Divergence::Jsd { beta: 0.3 },
        ] {
            let full = divergence_terms(&student, &teacher, d, 1.5);
            let kept = divergence_terms_topk(&student, &TopK::of(&teacher, 40, 1.5), d, 1.5);
            assert!(full.allclose(&kept, 1e-5, 1e-6, false), "{d:?}");
        }
        // k = 8: KL(p||q) over the buckets = full KL - p(rest) KL(p~ || q~) within the rest.
        let top = TopK::of(&teacher, 8, 1.0);
        let bucketed = divergence_terms_topk(&student, &top, Divergence::Forward, 1.0);
        let full = divergence_terms(&student, &teacher, Divergence::Forward, 1.0);
        let logp = student.log_softmax(-1, Kind::Float);
        let logq = teacher.log_softmax(-1, Kind::Float);
        let inside =
            Tensor::ones([6, 40], (Kind::Bool, tch::Device::Cpu)).scatter_value(1, &top.ids, 0);
        let masked = |x: &Tensor| x.masked_fill(&inside.logical_not(), f64::NEG_INFINITY);
        let (lp, lq) = (masked(&logp), masked(&logq));
        let p_rest = lp.logsumexp([1], false).exp();
        let lp_tilde = &lp - lp.logsumexp([1], true);
        let lq_tilde = &lq - lq.logsumexp([1], true);
        let within = (lp_tilde.exp() * (&lp_tilde - &lq_tilde))
            .nan_to_num(0.0, None, None)
            .sum_dim_intlist(-1, false, Kind::Float);
        let expected = &full - p_rest * within;
        assert!(
            bucketed.allclose(&expected, 1e-4, 1e-5, false),
            "{bucketed} {expected}"
        );
        assert!(
            (&full - &bucketed).min().double_value(&[]) > -1e-5,
            "below the full KL"
        );
    }

    #[test]
    fn cross_entropy_matches_the_definition() {
        let logits = Tensor::from_slice(&[0.0f32, 1.0, 2.0]).view([1, 3]);
        let ce = cross_entropy_terms(&logits, &Tensor::from_slice(&[2i64])).double_value(&[0]);
        let expected = -(2.0f64.exp() / (1.0 + 1f64.exp() + 2f64.exp())).ln();
        assert!((ce - expected).abs() < 1e-6);
    }
}
