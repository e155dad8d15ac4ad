//! Multiple-choice evaluation as lm-evaluation-harness does it: each choice is scored by the
//! model's log-likelihood of its continuation after the prompt (split from the prompt as the
//! harness splits it, see [`PromptEncoder`]); `acc` picks the choice with the highest sum,
//! `acc_norm` the highest sum divided by the choice's length in characters. Both come with 95%
//! intervals; `--score` says which one decides `chosen` and known&incorrect (`mean`, the sum per
//! token, is kept as a third).
//!
//! Fast: each prompt is read once and every choice continues from its key/value cache, items
//! batched. known&incorrect: a question is *known* when the model answers every single-hop fact
//! check behind it correctly; the rate is the share of known questions it still gets wrong.

use crate::data::{Example, PromptEncoder};
use crate::error::{Result, TrainerError};
use crate::model::{Attend, CausalLm};
use crate::prompt::PromptFormat;
use crate::tokenizer::TextTokenizer;
use kale_datasets::qa::QaItem;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tch::{Kind, Tensor};

/// How choices are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Score {
    /// Summed log-probability (the harness's `acc`).
    #[value(alias = "acc")]
    Sum,
    /// Summed log-probability over the choice's length in characters (`acc_norm`).
    #[value(alias = "acc_norm")]
    Norm,
    /// Mean log-probability per token.
    Mean,
}

#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Put the item's rationale in the prompt (the teacher's view, or an upper bound).
    pub with_rationale: bool,
    /// What decides `chosen` (and known&incorrect).
    pub score: Score,
    /// Items per forward pass.
    pub batch: usize,
    pub format: PromptFormat,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            with_rationale: false,
            score: Score::Norm,
            batch: 8,
            format: PromptFormat::default(),
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
    /// Characters of the choice (`acc_norm`'s divisor).
    pub chars: usize,
    /// What the choice is ranked by under the chosen score.
    pub score: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemResult {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub prompt_ids: Vec<i64>,
    pub choices: Vec<ChoiceScore>,
    /// The choice the chosen score picks...
    pub chosen: usize,
    /// ...and those `acc` and `acc_norm` pick.
    pub chosen_acc: usize,
    pub chosen_acc_norm: usize,
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
    /// Under the chosen score.
    #[serde(flatten)]
    pub accuracy: Accuracy,
    pub score: Score,
    /// The harness's two metrics, whatever the chosen score.
    pub acc: Accuracy,
    pub acc_norm: Accuracy,
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

/// One item's prompt and choices as token ids.
struct Encoded {
    prompt: Vec<i64>,
    choices: Vec<Vec<i64>>,
    chars: Vec<usize>,
}

/// The prompt and every choice's continuation, as the harness splits them; a prompt too long
/// for the model loses its start (as the harness cuts it).
fn encode_item(
    encoder: &PromptEncoder,
    tokenizer: &TextTokenizer,
    item: &QaItem,
    rationale: Option<&str>,
) -> Result<Encoded> {
    let prompt_text = encoder.format.prompt(tokenizer, item, rationale)?;
    let mut prompt = Vec::new();
    let mut choices = Vec::with_capacity(item.choices.len());
    let mut chars = Vec::with_capacity(item.choices.len());
    for c in 0..item.choices.len() {
        let (context, continuation) = encoder.pair(
            tokenizer,
            &prompt_text,
            &encoder.format.continuation(item, c),
        )?;
        if continuation.is_empty() {
            return Err(TrainerError::InvalidInput(format!(
                "item {}: choice {c} ({:?}) encodes to no tokens",
                item.id, item.choices[c]
            )));
        }
        prompt = context;
        chars.push(encoder.format.choice_text(item, c).chars().count().max(1));
        choices.push(continuation);
    }
    let longest = choices.iter().map(Vec::len).max().unwrap_or(0);
    if prompt.len() + longest > encoder.max_len {
        let cut = prompt.len() + longest - encoder.max_len;
        if cut >= prompt.len() {
            return Err(TrainerError::InvalidInput(format!(
                "item {}: a choice alone is longer than the model's {} positions",
                item.id, encoder.max_len
            )));
        }
        prompt.drain(..cut);
    }
    Ok(Encoded {
        prompt,
        choices,
        chars,
    })
}

/// `[rows, 1, queries, keys]` of `allowed(row, query, key)`.
fn mask(
    rows: usize,
    queries: usize,
    keys: usize,
    allowed: impl Fn(usize, usize, usize) -> bool,
) -> Tensor {
    let mut flat = Vec::with_capacity(rows * queries * keys);
    for r in 0..rows {
        for q in 0..queries {
            for k in 0..keys {
                flat.push(allowed(r, q, k));
            }
        }
    }
    Tensor::from_slice(&flat).view([rows as i64, 1, queries as i64, keys as i64])
}

/// Log-probabilities of each choice token of a batch of items: the prompts in one pass that
/// keeps their cache, then every choice in one pass continuing from it. Returns, per item and
/// choice, the token log-probabilities in order.
fn score_batch(model: &CausalLm, pad: i64, batch: &[&Encoded]) -> Result<Vec<Vec<Vec<f64>>>> {
    let device = model.device();
    let lens: Vec<usize> = batch.iter().map(|e| e.prompt.len()).collect();
    let width = lens.iter().copied().max().unwrap_or(1).max(1);
    let mut flat = Vec::with_capacity(batch.len() * width);
    for e in batch {
        flat.extend_from_slice(&e.prompt);
        flat.extend(std::iter::repeat_n(pad, width - e.prompt.len()));
    }
    let b = batch.len() as i64;
    let ids = Tensor::from_slice(&flat)
        .view([b, width as i64])
        .to_device(device);
    let positions = Tensor::arange(width as i64, (Kind::Int64, device))
        .unsqueeze(0)
        .expand([b, width as i64], false);
    let prompt_mask =
        mask(batch.len(), width, width, |r, q, k| k <= q && k < lens[r]).to_device(device);
    let (hidden, cache) = model.forward_cached(
        &ids,
        &Attend {
            positions: &positions,
            mask: &prompt_mask,
            past: None,
            past_rows: None,
            keep: true,
        },
    );
    let cache = cache.expect("kept");
    let h = hidden.size()[2];
    // The last prompt position predicts each choice's first token.
    let last: Vec<i64> = lens
        .iter()
        .enumerate()
        .map(|(r, &len)| (r * width + len - 1) as i64)
        .collect();
    let first_logp = model
        .logits(
            &hidden
                .view([-1, h])
                .index_select(0, &Tensor::from_slice(&last).to_device(device)),
        )
        .log_softmax(-1, Kind::Float);
    // Choice rows: every choice's tokens but its last, after its item's prompt.
    let mut rows = Vec::new(); // (item, choice)
    for (i, e) in batch.iter().enumerate() {
        for c in 0..e.choices.len() {
            rows.push((i, c));
        }
    }
    let mut out: Vec<Vec<Vec<f64>>> = batch
        .iter()
        .map(|e| vec![Vec::new(); e.choices.len()])
        .collect();
    let (mut gather_rows, mut gather_targets) = (Vec::new(), Vec::new());
    for &(i, c) in &rows {
        gather_rows.push(i as i64);
        gather_targets.push(batch[i].choices[c][0]);
    }
    let firsts = first_logp
        .index_select(0, &Tensor::from_slice(&gather_rows).to_device(device))
        .gather(
            1,
            &Tensor::from_slice(&gather_targets)
                .to_device(device)
                .unsqueeze(1),
            false,
        )
        .squeeze_dim(1)
        .to_device(tch::Device::Cpu);
    let firsts: Vec<f32> = Vec::try_from(&firsts).map_err(TrainerError::from)?;
    for (&(i, c), v) in rows.iter().zip(firsts) {
        out[i][c].push(f64::from(v));
    }
    let rest: Vec<(usize, usize)> = rows
        .into_iter()
        .filter(|&(i, c)| batch[i].choices[c].len() > 1)
        .collect();
    if !rest.is_empty() {
        let inputs: Vec<&[i64]> = rest
            .iter()
            .map(|&(i, c)| &batch[i].choices[c][..batch[i].choices[c].len() - 1])
            .collect();
        let cw = inputs.iter().map(|s| s.len()).max().unwrap_or(1);
        let mut flat = Vec::with_capacity(inputs.len() * cw);
        let mut pos = Vec::with_capacity(inputs.len() * cw);
        for (&(i, _), s) in rest.iter().zip(&inputs) {
            flat.extend_from_slice(s);
            flat.extend(std::iter::repeat_n(pad, cw - s.len()));
            pos.extend((0..cw).map(|j| (lens[i] + j) as i64));
        }
        let r = rest.len() as i64;
        let ids = Tensor::from_slice(&flat)
            .view([r, cw as i64])
            .to_device(device);
        let positions = Tensor::from_slice(&pos)
            .view([r, cw as i64])
            .to_device(device);
        let choice_mask = mask(rest.len(), cw, width + cw, |row, q, k| {
            if k < width {
                k < lens[rest[row].0]
            } else {
                k - width <= q
            }
        })
        .to_device(device);
        let past_rows =
            Tensor::from_slice(&rest.iter().map(|&(i, _)| i as i64).collect::<Vec<_>>())
                .to_device(device);
        let (hidden, _) = model.forward_cached(
            &ids,
            &Attend {
                positions: &positions,
                mask: &choice_mask,
                past: Some(&cache),
                past_rows: Some(&past_rows),
                keep: false,
            },
        );
        let (mut picked, mut targets) = (Vec::new(), Vec::new());
        for (row, (&(i, c), s)) in rest.iter().zip(&inputs).enumerate() {
            for j in 0..s.len() {
                picked.push((row * cw + j) as i64);
                targets.push(batch[i].choices[c][j + 1]);
            }
        }
        let logits = model.logits(
            &hidden
                .view([-1, h])
                .index_select(0, &Tensor::from_slice(&picked).to_device(device)),
        );
        let logp = -crate::loss::cross_entropy_terms(
            &logits,
            &Tensor::from_slice(&targets).to_device(device),
        );
        let values: Vec<f32> =
            Vec::try_from(&logp.to_device(tch::Device::Cpu)).map_err(TrainerError::from)?;
        let mut values = values.into_iter();
        for (&(i, c), s) in rest.iter().zip(&inputs) {
            for _ in 0..s.len() {
                out[i][c].push(f64::from(values.next().expect("one value per target")));
            }
        }
    }
    Ok(out)
}

/// The choice a score picks (ties: the first, as numpy's argmax).
fn pick(values: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Scores every choice of every item.
pub fn score_items(
    model: &CausalLm,
    tokenizer: &TextTokenizer,
    items: &[(&QaItem, Option<&str>)],
    options: &EvalOptions,
) -> Result<Vec<ItemResult>> {
    let encoder = PromptEncoder::new(options.format.clone(), model.config.max_positions as usize);
    let encoded: Vec<Encoded> = items
        .iter()
        .map(|(item, rationale)| {
            let rationale = if options.with_rationale {
                *rationale
            } else {
                None
            };
            encode_item(&encoder, tokenizer, item, rationale)
        })
        .collect::<Result<_>>()?;
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    order.sort_by_key(|&i| encoded[i].prompt.len());
    let mut logps: Vec<Vec<Vec<f64>>> = vec![Vec::new(); encoded.len()];
    tch::no_grad(|| -> Result<()> {
        for chunk in order.chunks(options.batch.max(1)) {
            let batch: Vec<&Encoded> = chunk.iter().map(|&i| &encoded[i]).collect();
            for (&i, scores) in chunk.iter().zip(score_batch(model, tokenizer.pad, &batch)?) {
                logps[i] = scores;
            }
        }
        Ok(())
    })?;
    let mut results = Vec::with_capacity(items.len());
    for (((item, _), e), logp) in items.iter().zip(encoded).zip(logps) {
        let mut choices = Vec::with_capacity(e.choices.len());
        for ((ids, chars), lp) in e.choices.into_iter().zip(e.chars).zip(logp) {
            let sum: f64 = lp.iter().sum();
            if !sum.is_finite() {
                return Err(TrainerError::InvalidInput(format!(
                    "item {}: the model's log-probabilities are not finite ({sum}); its weights or config.json (rms_norm_eps, rope_theta) are broken",
                    item.id
                )));
            }
            let score = match options.score {
                Score::Sum => sum,
                Score::Norm => sum / chars as f64,
                Score::Mean => sum / ids.len() as f64,
            };
            choices.push(ChoiceScore {
                first_logprob: lp[0],
                ids,
                logprob_sum: sum,
                chars,
                score,
            });
        }
        let chosen = pick(choices.iter().map(|c| c.score));
        results.push(ItemResult {
            id: item.id.clone(),
            kind: item.kind.clone(),
            prompt_ids: e.prompt,
            chosen,
            chosen_acc: pick(choices.iter().map(|c| c.logprob_sum)),
            chosen_acc_norm: pick(choices.iter().map(|c| c.logprob_sum / c.chars as f64)),
            answer: item.answer,
            correct: chosen == item.answer,
            choices,
        });
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
    if items.is_empty() {
        return Err(TrainerError::InvalidInput(
            "nothing to evaluate: no questions in the data".into(),
        ));
    }
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
    let count = |f: &dyn Fn(&ItemResult) -> bool| results.iter().filter(|r| f(r)).count();
    let mut report = EvalReport {
        accuracy: Accuracy::of(correct, results.len()),
        score: options.score,
        acc: Accuracy::of(count(&|r| r.chosen_acc == r.answer), results.len()),
        acc_norm: Accuracy::of(count(&|r| r.chosen_acc_norm == r.answer), results.len()),
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
