//! Text generation, batched, with a key/value cache: the prompts (left-padded to one length) are
//! read once, then each new token costs one position per sequence. Greedy, or sampled with a
//! temperature and nucleus (top-p) cut from a seeded generator per sequence; each sequence stops
//! at the end-of-text token or ChatML's end of turn. The path without the cache (every step
//! reads the whole sequence again) is kept to measure the cache against and to test it by.
//! `kale generate` and the model rationale writer both run through [`generate`].

use crate::error::Result;
use crate::model::{Attend, CausalLm, KvCache};
use crate::tokenizer::TextTokenizer;
use kale_datasets::synth::writer::Generation;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use tch::{Device, Kind, Tensor};

/// The ChatML turn markers of instruction-tuned models such as SmolLM2 and Qwen2.
const IM_START: &str = "<|im_start|>";
const IM_END: &str = "<|im_end|>";

/// Wraps a user message in the model's chat template when its tokenizer has one (ChatML when it
/// only has ChatML's markers); else returns the text as it is.
pub fn chat_prompt(tokenizer: &TextTokenizer, message: &str) -> Result<String> {
    if tokenizer.chat_template.is_some() {
        tokenizer.apply_chat_template(message)
    } else if tokenizer.token_id(IM_START).is_some() {
        Ok(format!(
            "{IM_START}user\n{message}{IM_END}\n{IM_START}assistant\n"
        ))
    } else {
        Ok(message.to_owned())
    }
}

/// The tokens that end a sequence: the end-of-text token and ChatML's end of turn, where the
/// tokenizer has them.
pub fn stop_tokens(tokenizer: &TextTokenizer) -> Vec<i64> {
    tokenizer
        .eos
        .into_iter()
        .chain(tokenizer.token_id(IM_END))
        .collect()
}

/// One generation call's prompts and settings.
pub struct GenerateRequest<'a> {
    /// Token ids of each prompt (a prompt longer than the model's positions keeps its end).
    pub prompts: &'a [Vec<i64>],
    /// One seed per prompt (only sampling reads them).
    pub seeds: &'a [u64],
    pub generation: &'a Generation,
    /// `false`: recompute the whole sequence at each step (the reference the cache is measured
    /// and tested against).
    pub kv_cache: bool,
    /// The stop tokens are ruled out of the first `min_tokens` choices (transformers'
    /// `min_new_tokens`), so a benchmark generates a fixed number of tokens.
    pub min_tokens: usize,
}

/// The new tokens of each prompt (without the stop token), in order.
pub fn generate(
    model: &CausalLm,
    tokenizer: &TextTokenizer,
    request: &GenerateRequest<'_>,
) -> Result<Vec<Vec<i64>>> {
    let stops = stop_tokens(tokenizer);
    let max_len = model.config.max_positions as usize;
    let g = request.generation;
    let n = request.prompts.len();
    let mut out = vec![Vec::new(); n];
    // A sequence with nothing to continue, or no room, is finished before it starts.
    let prompts: Vec<&[i64]> = request
        .prompts
        .iter()
        .map(|p| &p[p.len().saturating_sub(max_len)..])
        .collect();
    let mut done: Vec<bool> = prompts.iter().map(|p| p.is_empty()).collect();
    if done.iter().all(|d| *d) {
        return Ok(out);
    }
    let width = prompts.iter().map(|p| p.len()).max().unwrap_or(0);
    let mut rngs: Vec<Pcg64> = (0..n)
        .map(|i| Pcg64::seed_from_u64(request.seeds.get(i).copied().unwrap_or(g.seed)))
        .collect();
    // Left padding: every sequence's last prompt token sits in the last column.
    let mut seq = Batch::new(&prompts, width);
    let device = model.device();
    // The stop tokens ruled out of the first `min_tokens` choices, made once; one past the
    // model's vocabulary (a tokenizer larger than the model) can never be drawn anyway.
    let vocab = model.config.vocab_size;
    let maskable: Vec<i64> = stops
        .iter()
        .copied()
        .filter(|&t| (0..vocab).contains(&t))
        .collect();
    let masked = (request.min_tokens > 0 && !maskable.is_empty())
        .then(|| Tensor::from_slice(&maskable).to_device(device));
    tch::no_grad(|| -> Result<()> {
        let mut cache: Option<KvCache> = None;
        let mut fed = 0; // columns the cache holds
        for step in 0..g.max_tokens {
            let (ids, positions, mask) = seq.tensors(fed, device);
            let (hidden, kept) = model.forward_cached(
                &ids,
                &Attend {
                    positions: &positions,
                    mask: &mask,
                    past: cache.as_ref(),
                    past_rows: None,
                    keep: request.kv_cache,
                },
            );
            if request.kv_cache {
                cache = kept;
                fed = seq.columns();
            }
            let last = hidden.select(1, hidden.size()[1] - 1);
            let mut logits = model.logits(&last).to_kind(Kind::Float);
            if let Some(masked) = masked.as_ref().filter(|_| step < request.min_tokens) {
                logits = logits.f_index_fill(1, masked, f64::NEG_INFINITY)?;
            }
            let next = choose(&logits, g, &mut rngs)?;
            let mut column = Vec::with_capacity(n);
            for (i, &token) in next.iter().enumerate() {
                if done[i] || stops.contains(&token) {
                    done[i] = true;
                    column.push(None);
                    continue;
                }
                out[i].push(token);
                // A sequence at the model's last position ends with this token, unread.
                if seq.length(i) >= max_len {
                    done[i] = true;
                    column.push(None);
                } else {
                    column.push(Some(token));
                }
            }
            if done.iter().all(|d| *d) || step + 1 == g.max_tokens {
                break;
            }
            seq.push(&column);
        }
        Ok(())
    })?;
    Ok(out)
}

/// The next token of every sequence.
fn choose(logits: &Tensor, g: &Generation, rngs: &mut [Pcg64]) -> Result<Vec<i64>> {
    if g.greedy() {
        return Ok(Vec::<i64>::try_from(logits.argmax(-1, false))?);
    }
    let probs = (logits / g.temperature).softmax(-1, Kind::Float);
    let rows = Vec::<Vec<f32>>::try_from(probs)?;
    Ok(rows
        .iter()
        .zip(rngs.iter_mut())
        .map(|(p, rng)| sample(p, g.top_p, rng))
        .collect())
}

/// A token drawn from `probs` within its nucleus: the most probable tokens whose mass first
/// reaches `top_p`.
fn sample(probs: &[f32], top_p: f64, rng: &mut Pcg64) -> i64 {
    let mut order: Vec<usize> = (0..probs.len()).collect();
    if top_p < 1.0 {
        order.sort_unstable_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
        let mut mass = 0.0;
        let mut keep = 0;
        for &i in &order {
            mass += f64::from(probs[i]);
            keep += 1;
            if mass >= top_p {
                break;
            }
        }
        order.truncate(keep);
    }
    let total: f64 = order.iter().map(|&i| f64::from(probs[i])).sum();
    let mut draw = rng.random::<f64>() * total;
    for &i in &order {
        draw -= f64::from(probs[i]);
        if draw <= 0.0 {
            return i as i64;
        }
    }
    *order.last().expect("a vocabulary is never empty") as i64
}

/// The token grid of a generation: one row per sequence, left-padded; which cells are real.
struct Batch {
    ids: Vec<Vec<i64>>,
    real: Vec<Vec<bool>>,
    /// Real tokens per row (the next token's position).
    lengths: Vec<usize>,
}

impl Batch {
    fn new(prompts: &[&[i64]], width: usize) -> Self {
        let mut ids = Vec::with_capacity(prompts.len());
        let mut real = Vec::with_capacity(prompts.len());
        for p in prompts {
            let pad = width - p.len();
            ids.push(
                std::iter::repeat_n(0, pad)
                    .chain(p.iter().copied())
                    .collect(),
            );
            real.push(
                std::iter::repeat_n(false, pad)
                    .chain(std::iter::repeat_n(true, p.len()))
                    .collect(),
            );
        }
        Self {
            ids,
            real,
            lengths: prompts.iter().map(|p| p.len()).collect(),
        }
    }

    fn columns(&self) -> usize {
        self.ids.first().map_or(0, Vec::len)
    }

    fn length(&self, row: usize) -> usize {
        self.lengths[row]
    }

    /// Appends one column: a token per row, `None` for a finished row (padding).
    fn push(&mut self, column: &[Option<i64>]) {
        for (row, token) in column.iter().enumerate() {
            self.ids[row].push(token.unwrap_or(0));
            self.real[row].push(token.is_some());
            if token.is_some() {
                self.lengths[row] += 1;
            }
        }
    }

    /// The ids, positions and attention mask of the columns from `from` on, the earlier ones
    /// being in the cache. Every query sees the real keys up to itself, and itself always (a
    /// padding query that saw nothing would give NaN, and NaN times a zero weight is NaN).
    fn tensors(&self, from: usize, device: Device) -> (Tensor, Tensor, Tensor) {
        let rows = self.ids.len() as i64;
        let columns = self.columns();
        let time = (columns - from) as i64;
        let mut ids = Vec::with_capacity(rows as usize * time as usize);
        let mut positions = Vec::with_capacity(ids.capacity());
        let mut mask = Vec::with_capacity(rows as usize * time as usize * columns);
        for (row, real) in self.ids.iter().zip(&self.real) {
            let pad = real.iter().take_while(|r| !**r).count();
            for (q, &id) in row.iter().enumerate().skip(from) {
                ids.push(id);
                positions.push(q.saturating_sub(pad) as i64);
                mask.extend((0..columns).map(|k| k == q || (k < q && real[k])));
            }
        }
        (
            Tensor::from_slice(&ids)
                .view([rows, time])
                .to_device(device),
            Tensor::from_slice(&positions)
                .view([rows, time])
                .to_device(device),
            Tensor::from_slice(&mask)
                .view([rows, 1, time, columns as i64])
                .to_device(device),
        )
    }
}
