//! Training and evaluation data: records from JSONL (synthesised items with their rationale,
//! plain QA, or text for language modelling), their token ids, and deterministic batches.

use crate::error::{Result, TrainerError};
use crate::prompt::PromptFormat;
use crate::tokenizer::TextTokenizer;
use kale_datasets::qa::{detect_format, plain_item, read_items, QaFormat, QaItem};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// One thing to learn from.
#[derive(Clone, Debug, PartialEq)]
pub enum Example {
    /// A question; `rationale` when synthesis found one (empty ones are `None`).
    Qa {
        item: QaItem,
        rationale: Option<String>,
    },
    /// Plain text: every token is predicted (teaching facts as sentences).
    Text { id: String, text: String },
}

impl Example {
    pub fn id(&self) -> &str {
        match self {
            Self::Qa { item, .. } => &item.id,
            Self::Text { id, .. } => id,
        }
    }

    pub fn qa(&self) -> Option<(&QaItem, Option<&str>)> {
        match self {
            Self::Qa { item, rationale } => Some((item, rationale.as_deref())),
            Self::Text { .. } => None,
        }
    }
}

/// Reads examples: JSONL records with `text`, or with QA fields and an optional `rationale`
/// (what `kale synth` writes); any other QA format through `kale_datasets::qa`.
pub fn load_examples(path: &Path) -> Result<Vec<Example>> {
    let jsonl = path.extension().is_some_and(|e| e == "jsonl");
    // CommonsenseQA-style JSONL and the other formats go through the dataset reader; plain
    // records (which may carry `rationale`) and text records are read here.
    let dataset_format = matches!(
        detect_format(path),
        Ok(QaFormat::Csqa | QaFormat::Hf | QaFormat::Mmlu | QaFormat::Race)
    );
    if !jsonl || dataset_format {
        return Ok(read_items(path, None)?
            .into_iter()
            .map(|item| Example::Qa {
                item,
                rationale: None,
            })
            .collect());
    }
    let file = std::fs::File::open(path).map_err(TrainerError::io(path))?;
    let mut examples = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(TrainerError::io(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line).map_err(|e| {
            TrainerError::InvalidInput(format!("{}:{}: not JSON: {e}", path.display(), n + 1))
        })?;
        if let Some(text) = value.get("text").and_then(Value::as_str) {
            let id = value
                .get("id")
                .and_then(Value::as_str)
                .map_or_else(|| format!("text-{}", n + 1), str::to_owned);
            examples.push(Example::Text {
                id,
                text: text.to_owned(),
            });
        } else {
            examples.push(Example::Qa {
                item: plain_item(&value, path, n + 1)?,
                rationale: value
                    .get("rationale")
                    .and_then(Value::as_str)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
            });
        }
    }
    Ok(examples)
}

/// An example as token ids: `prompt` (x), `with_rationale` (x with r, for KA) and `answer` (y).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokenized {
    pub prompt: Vec<i64>,
    pub with_rationale: Option<Vec<i64>>,
    pub answer: Vec<i64>,
}

impl Tokenized {
    pub fn len(&self) -> usize {
        self.prompt.len() + self.answer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Turns questions into token ids one way for training and evaluation alike: the prompt format,
/// the tokenizer's BOS rule, and lm-evaluation-harness's split of a prompt and its continuation
/// (the prompt's trailing spaces move to the continuation; the continuation's ids are those of
/// the whole text after the prompt's own, so a choice is scored exactly as the harness scores
/// it). The answer is the gold choice's continuation, nothing appended: what training teaches
/// is what scoring reads.
#[derive(Clone, Debug)]
pub struct PromptEncoder {
    pub format: PromptFormat,
    /// The model's positions.
    pub max_len: usize,
}

impl PromptEncoder {
    pub fn new(format: PromptFormat, max_len: usize) -> Self {
        Self { format, max_len }
    }

    /// The ids of a prompt and of one continuation of it (harness `_encode_pair`).
    pub fn pair(
        &self,
        tokenizer: &TextTokenizer,
        prompt: &str,
        continuation: &str,
    ) -> Result<(Vec<i64>, Vec<i64>)> {
        let trimmed = prompt.trim_end();
        let moved = &prompt[trimmed.len()..];
        let context = tokenizer.encode_prompt(trimmed)?;
        let whole = tokenizer.encode_prompt(&format!("{trimmed}{moved}{continuation}"))?;
        let continuation = whole.get(context.len()..).unwrap_or_default().to_vec();
        Ok((context, continuation))
    }

    /// The prompt (x, or x with `rationale`) of an item and the continuation of choice `choice`.
    pub fn choice(
        &self,
        tokenizer: &TextTokenizer,
        item: &QaItem,
        rationale: Option<&str>,
        choice: usize,
    ) -> Result<(Vec<i64>, Vec<i64>)> {
        let prompt = self.format.prompt(tokenizer, item, rationale)?;
        self.pair(tokenizer, &prompt, &self.format.continuation(item, choice))
    }

    /// The teacher's prompt: x with as much of `rationale` as fits before `answer` in the
    /// model's positions, cut from the rationale's end only (never the question or passage).
    /// `None` when not even an empty rationale fits.
    pub fn with_rationale(
        &self,
        tokenizer: &TextTokenizer,
        item: &QaItem,
        rationale: &str,
        answer: usize,
    ) -> Result<Option<Vec<i64>>> {
        let fits = |text: &str| -> Result<Option<Vec<i64>>> {
            let prompt = self.format.prompt(tokenizer, item, Some(text))?;
            let ids = tokenizer.encode_prompt(prompt.trim_end())?;
            Ok((ids.len() + answer <= self.max_len).then_some(ids))
        };
        if let Some(ids) = fits(rationale)? {
            return Ok(Some(ids));
        }
        // The longest prefix of whole words that fits: a binary search over the word count.
        let words: Vec<&str> = rationale.split_whitespace().collect();
        let (mut low, mut high) = (0, words.len());
        let mut best = fits("")?;
        if best.is_none() {
            return Ok(None);
        }
        while low < high {
            let mid = (low + high).div_ceil(2);
            match fits(&words[..mid].join(" "))? {
                Some(ids) => {
                    best = Some(ids);
                    low = mid;
                }
                None => high = mid - 1,
            }
        }
        Ok(best)
    }

    /// An example for training; `None` for one whose question and answer cannot fit.
    pub fn tokenize(
        &self,
        tokenizer: &TextTokenizer,
        example: &Example,
    ) -> Result<Option<Tokenized>> {
        match example {
            Example::Text { text, .. } => {
                let mut ids = tokenizer.encode_prompt(text)?;
                ids.extend(tokenizer.eos);
                if ids.len() < 2 {
                    return Ok(None);
                }
                ids.truncate(self.max_len);
                let answer = ids.split_off(1);
                Ok(Some(Tokenized {
                    prompt: ids,
                    with_rationale: None,
                    answer,
                }))
            }
            Example::Qa { item, rationale } => {
                let (prompt, answer) = self.choice(tokenizer, item, None, item.answer)?;
                if prompt.len() + answer.len() > self.max_len || answer.is_empty() {
                    return Ok(None);
                }
                let with_rationale = match rationale {
                    Some(r) => self.with_rationale(tokenizer, item, r, answer.len())?,
                    None => None,
                };
                Ok(Some(Tokenized {
                    prompt,
                    with_rationale,
                    answer,
                }))
            }
        }
    }

    /// Every example that fits, and how many did not.
    pub fn tokenize_all(
        &self,
        tokenizer: &TextTokenizer,
        examples: &[Example],
    ) -> Result<(Vec<Tokenized>, usize)> {
        let mut out = Vec::with_capacity(examples.len());
        let mut skipped = 0;
        for example in examples {
            match self.tokenize(tokenizer, example)? {
                Some(t) => out.push(t),
                None => skipped += 1,
            }
        }
        Ok((out, skipped))
    }
}

/// The micro-batches of one epoch as indexes into the examples: shuffled with the seed and
/// epoch, grouped by length within windows (little padding), and the batches shuffled again.
pub fn epoch_batches(
    lengths: &[usize],
    micro_batch: usize,
    seed: u64,
    epoch: u64,
) -> Vec<Vec<usize>> {
    let mut rng =
        rand_pcg::Pcg64Mcg::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(epoch));
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(&mut rng);
    let window = micro_batch * 32;
    let mut batches = Vec::new();
    for chunk in order.chunks(window) {
        let mut chunk = chunk.to_vec();
        chunk.sort_by_key(|&i| lengths[i]);
        batches.extend(chunk.chunks(micro_batch).map(<[usize]>::to_vec));
    }
    batches.shuffle(&mut rng);
    batches
}

#[cfg(test)]
mod tests {
    use super::epoch_batches;

    #[test]
    fn batches_cover_every_example_once_and_depend_only_on_seed_and_epoch() {
        let lengths: Vec<usize> = (0..100).map(|i| (i * 37) % 50).collect();
        let a = epoch_batches(&lengths, 8, 1, 0);
        assert_eq!(a, epoch_batches(&lengths, 8, 1, 0));
        assert_ne!(a, epoch_batches(&lengths, 8, 1, 1));
        let mut all: Vec<usize> = a.concat();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }
}
