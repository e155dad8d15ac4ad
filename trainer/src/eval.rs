//! Multiple-choice evaluation the way the method's paper does it: each choice's text is scored by
//! the model's log-likelihood after the prompt (the sum, and the mean per token, which does not
//! favour short choices), the best choice is the answer; accuracy comes with a 95% interval.
//!
//! known&incorrect: a question is *known* when the model answers every single-hop fact check
//! behind it correctly; the rate is the share of known questions it still gets wrong.

use crate::data::Example;
use crate::error::{Result, TrainerError};
use crate::loss::cross_entropy_terms;
use crate::model::CausalLm;
use crate::prompt::PromptTemplate;
use crate::tokenizer::TextTokenizer;
use kale_datasets::qa::QaItem;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;
use tch::Tensor;

/// How choices are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Score {
    /// Mean log-probability per token (the default).
    Mean,
    /// Summed log-probability.
    Sum,
}

#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Put the item's rationale in the prompt (the teacher's view, or an upper bound).
    pub with_rationale: bool,
    pub score: Score,
    /// Sequences per forward pass.
    pub batch: usize,
    pub template: PromptTemplate,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            with_rationale: false,
            score: Score::Mean,
            batch: 32,
            template: PromptTemplate::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ChoiceScore {
    /// The choice's token ids, scored after `prompt_ids`.
    pub ids: Vec<i64>,
    pub logprob_sum: f64,
    /// Log-probability of the choice's first token alone.
    pub first_logprob: f64,
    /// What the choice is ranked by (the mean or the sum).
    pub score: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemResult {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub prompt_ids: Vec<i64>,
    pub choices: Vec<ChoiceScore>,
    pub chosen: usize,
    pub answer: usize,
    pub correct: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Accuracy {
    pub items: usize,
    pub correct: usize,
    pub accuracy: f64,
    /// Wilson 95% interval.
    pub ci95: [f64; 2],
}

impl Accuracy {
    pub fn of(correct: usize, items: usize) -> Self {
        let n = items.max(1) as f64;
        let p = correct as f64 / n;
        let z = 1.96f64;
        let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
        Self {
            items,
            correct,
            accuracy: p,
            ci95: [(centre - half).max(0.0), (centre + half).min(1.0)],
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    #[serde(flatten)]
    pub accuracy: Accuracy,
    /// Per question kind (generator template), when items have one.
    pub by_kind: BTreeMap<String, Accuracy>,
    /// Accuracy on the fact checks, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Accuracy>,
    /// Questions whose every fact check the model answers correctly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<usize>,
    /// Share of the known questions answered wrongly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_incorrect: Option<f64>,
    /// Mean over items of the probability that the model's answer starts like one of the
    /// choices (the next-token probability of the choices' distinct first tokens): how much of
    /// its answer lands on a choice at all. Accuracy only ranks the choices; a KA teacher hands
    /// over its whole distribution.
    pub choice_mass: f64,
    #[serde(skip)]
    pub results: Vec<ItemResult>,
}

/// Scores every choice of every item.
pub fn score_items(
    model: &CausalLm,
    tokenizer: &TextTokenizer,
    items: &[(&QaItem, Option<&str>)],
    options: &EvalOptions,
) -> Result<Vec<ItemResult>> {
    let bos: Vec<i64> = model.config.bos_token_id.into_iter().collect();
    let max_len = model.config.max_positions as usize;
    // (item, choice, prompt length, sequence)
    let mut sequences: Vec<(usize, usize, usize, Vec<i64>)> = Vec::new();
    let mut prompts = Vec::with_capacity(items.len());
    for (i, (item, rationale)) in items.iter().enumerate() {
        let rationale = if options.with_rationale {
            *rationale
        } else {
            None
        };
        let mut prompt = bos.clone();
        prompt.extend(tokenizer.encode(&options.template.render(item, rationale))?);
        for (c, choice) in item.choices.iter().enumerate() {
            let ids = tokenizer.encode(&PromptTemplate::answer_text(choice))?;
            let mut sequence = prompt.clone();
            sequence.extend(&ids);
            if sequence.len() > max_len {
                // Keep the end: the choice and the question's tail matter most.
                let cut = sequence.len() - max_len;
                if cut >= prompt.len() {
                    return Err(TrainerError::InvalidInput(format!(
                        "item {}: choice {c} alone is longer than the model's {max_len} positions",
                        item.id
                    )));
                }
                sequence.drain(..cut);
                sequences.push((i, c, prompt.len() - cut, sequence));
            } else {
                sequences.push((i, c, prompt.len(), sequence));
            }
        }
        prompts.push(prompt);
    }
    let mut order: Vec<usize> = (0..sequences.len()).collect();
    order.sort_by_key(|&s| sequences[s].3.len());
    let mut sums = vec![0.0; sequences.len()];
    let mut firsts = vec![0.0; sequences.len()];
    let pad = tokenizer.pad;
    tch::no_grad(|| -> Result<()> {
        for batch in order.chunks(options.batch.max(1)) {
            let width = batch
                .iter()
                .map(|&s| sequences[s].3.len())
                .max()
                .unwrap_or(1);
            let mut flat = Vec::with_capacity(batch.len() * width);
            for &s in batch {
                let seq = &sequences[s].3;
                flat.extend_from_slice(seq);
                flat.extend(std::iter::repeat_n(pad, width - seq.len()));
            }
            let ids = Tensor::from_slice(&flat)
                .view([batch.len() as i64, width as i64])
                .to_device(model.device());
            // Only the rows that predict choice tokens: the logits at position i predict token i+1.
            let (mut rows, mut targets, mut owner) = (Vec::new(), Vec::new(), Vec::new());
            let mut first = Vec::new();
            for (row, &s) in batch.iter().enumerate() {
                let (_, _, prompt_len, seq) = &sequences[s];
                for (pos, &token) in seq.iter().enumerate().skip(*prompt_len) {
                    rows.push((row * width + pos - 1) as i64);
                    targets.push(token);
                    owner.push(s);
                    first.push(pos == *prompt_len);
                }
            }
            let device = model.device();
            let picked =
                model.forward_rows(&ids, &Tensor::from_slice(&rows).to_device(device), false);
            let logp =
                -cross_entropy_terms(&picked, &Tensor::from_slice(&targets).to_device(device));
            let logp = logp.to_device(tch::Device::Cpu);
            let values: Vec<f32> = Vec::try_from(&logp).map_err(TrainerError::from)?;
            for ((s, v), first) in owner.into_iter().zip(values).zip(first) {
                sums[s] += f64::from(v);
                if first {
                    firsts[s] = f64::from(v);
                }
            }
        }
        Ok(())
    })?;
    let mut results: Vec<ItemResult> = items
        .iter()
        .zip(prompts)
        .map(|((item, _), prompt_ids)| ItemResult {
            id: item.id.clone(),
            kind: item.kind.clone(),
            prompt_ids,
            choices: Vec::new(),
            chosen: 0,
            answer: item.answer,
            correct: false,
        })
        .collect();
    for (s, (i, _, prompt_len, seq)) in sequences.iter().enumerate() {
        let ids = seq[*prompt_len..].to_vec();
        let score = match options.score {
            Score::Sum => sums[s],
            Score::Mean => sums[s] / ids.len().max(1) as f64,
        };
        results[*i].choices.push(ChoiceScore {
            ids,
            logprob_sum: sums[s],
            first_logprob: firsts[s],
            score,
        });
    }
    for r in &mut results {
        r.chosen = r
            .choices
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.score.total_cmp(&b.1.score).then(b.0.cmp(&a.0)))
            .map_or(0, |(i, _)| i);
        r.correct = r.chosen == r.answer;
    }
    Ok(results)
}

/// Accuracy (overall and per kind), and with fact checks the known&incorrect rate.
pub fn evaluate(
    model: &CausalLm,
    tokenizer: &TextTokenizer,
    examples: &[Example],
    facts: Option<&[Example]>,
    options: &EvalOptions,
) -> Result<EvalReport> {
    let items: Vec<(&QaItem, Option<&str>)> = examples.iter().filter_map(Example::qa).collect();
    let results = score_items(model, tokenizer, &items, options)?;
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for r in &results {
        if let Some(kind) = &r.kind {
            let e = by_kind.entry(kind.clone()).or_default();
            e.0 += usize::from(r.correct);
            e.1 += 1;
        }
    }
    let correct = results.iter().filter(|r| r.correct).count();
    let choice_mass = results
        .iter()
        .map(|r| {
            let mut firsts: Vec<(i64, f64)> = r
                .choices
                .iter()
                .filter_map(|c| Some((*c.ids.first()?, c.first_logprob.exp())))
                .collect();
            firsts.sort_by_key(|f| f.0);
            firsts.dedup_by_key(|f| f.0);
            firsts.iter().map(|f| f.1).sum::<f64>()
        })
        .sum::<f64>()
        / results.len().max(1) as f64;
    let mut report = EvalReport {
        accuracy: Accuracy::of(correct, results.len()),
        by_kind: by_kind
            .into_iter()
            .map(|(k, (c, n))| (k, Accuracy::of(c, n)))
            .collect(),
        facts: None,
        known: None,
        known_incorrect: None,
        choice_mass,
        results,
    };
    if let Some(facts) = facts {
        // Fact checks are asked without rationales: they measure what the model knows.
        let fact_items: Vec<(&QaItem, Option<&str>)> = facts
            .iter()
            .filter_map(Example::qa)
            .map(|(i, _)| (i, None))
            .collect();
        let plain = EvalOptions {
            with_rationale: false,
            ..options.clone()
        };
        let fact_results = score_items(model, tokenizer, &fact_items, &plain)?;
        let known_facts: FxHashMap<&str, bool> = fact_results
            .iter()
            .map(|r| (r.id.as_str(), r.correct))
            .collect();
        report.facts = Some(Accuracy::of(
            fact_results.iter().filter(|r| r.correct).count(),
            fact_results.len(),
        ));
        let mut known = 0;
        let mut known_wrong = 0;
        for ((item, _), result) in items.iter().zip(&report.results) {
            if !item.facts.is_empty()
                && item
                    .facts
                    .iter()
                    .all(|f| known_facts.get(f.as_str()) == Some(&true))
            {
                known += 1;
                known_wrong += usize::from(!result.correct);
            }
        }
        report.known = Some(known);
        report.known_incorrect = Some(if known == 0 {
            0.0
        } else {
            known_wrong as f64 / known as f64
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::Accuracy;

    #[test]
    fn wilson_interval_brackets_the_rate() {
        let a = Accuracy::of(30, 100);
        assert!((a.accuracy - 0.3).abs() < 1e-12);
        assert!(a.ci95[0] < 0.3 && a.ci95[1] > 0.3);
        assert!((a.ci95[0] - 0.2189).abs() < 1e-3 && (a.ci95[1] - 0.3958).abs() < 1e-3);
        let none = Accuracy::of(0, 0);
        assert_eq!(none.items, 0);
    }
}
