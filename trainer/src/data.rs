//! Training and evaluation data: records from JSONL (synthesised items with their rationale,
//! plain QA, or text for language modelling), their token ids, and deterministic batches.

use crate::error::{Result, TrainerError};
use crate::prompt::PromptTemplate;
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
        Ok(QaFormat::Csqa | QaFormat::Mmlu | QaFormat::Race)
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

/// Tokenises examples for training; `None` for one that cannot fit `max_len` tokens.
pub fn tokenize(
    example: &Example,
    tokenizer: &TextTokenizer,
    template: &PromptTemplate,
    bos: Option<i64>,
    max_len: usize,
) -> Result<Option<Tokenized>> {
    let start: Vec<i64> = bos.into_iter().collect();
    match example {
        Example::Text { text, .. } => {
            let mut ids = start;
            ids.extend(tokenizer.encode(text)?);
            ids.extend(tokenizer.eos);
            if ids.len() < 2 {
                return Ok(None);
            }
            ids.truncate(max_len);
            let answer = ids.split_off(1);
            Ok(Some(Tokenized {
                prompt: ids,
                with_rationale: None,
                answer,
            }))
        }
        Example::Qa { item, rationale } => {
            let mut prompt = start.clone();
            prompt.extend(tokenizer.encode(&template.render(item, None))?);
            let mut answer = tokenizer.encode(&PromptTemplate::answer_text(item.answer_text()))?;
            answer.extend(tokenizer.eos);
            if prompt.len() + answer.len() > max_len {
                return Ok(None);
            }
            let with_rationale = match rationale {
                Some(r) => {
                    let mut ids = start;
                    ids.extend(tokenizer.encode(&template.render(item, Some(r)))?);
                    // A rationale too long for the context is cut from its end, keeping the
                    // prompt's tail ("Answer:") so the answer still lines up.
                    if ids.len() + answer.len() > max_len {
                        let tail = tokenizer.encode(&template.render(item, Some("")))?;
                        let keep = max_len.saturating_sub(answer.len() + 1);
                        let suffix = tail.len().min(keep);
                        let mut cut: Vec<i64> = ids[..keep - suffix].to_vec();
                        cut.extend_from_slice(&ids[ids.len() - suffix..]);
                        ids = cut;
                    }
                    Some(ids)
                }
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
