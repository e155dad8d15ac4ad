//! `kale bench generate`: generation speed, new tokens per second for a fixed number of new
//! tokens after prompts of a fixed length, per batch size, with and without the KV cache.
//! `benches/transformers_generate.py` measures transformers' `generate` the same way, on the
//! prompts file this writes, and the two runs' tokens are compared.
//!
//! The prompts are windows of one built-in text, tokenized by the model's tokenizer, so they read
//! like text (greedy decoding of random ids sits on near-ties where two implementations' rounding
//! may part). The stop tokens are ruled out until the limit, as transformers' `min_new_tokens`
//! does, so every run generates exactly the tokens it is timed for.

use super::median;
use crate::checkpoint::load_model;
use crate::error::{Result, TrainerError};
use crate::generate::{generate, stop_tokens, GenerateRequest};
use crate::runtime::Device;
use kale_datasets::synth::writer::Generation;
use kg_store::progress::Progress;
use std::path::PathBuf;
use std::time::Instant;

/// The text the prompts are cut from.
const TEXT: &str = "The Danube rises in the Black Forest and flows east for nearly three thousand \
kilometres, through Vienna, Bratislava, Budapest and Belgrade, before it reaches the Black Sea in \
Romania. Marie Curie was born in Warsaw, studied in Paris, and won Nobel prizes in physics and in \
chemistry; her daughter Irene shared the chemistry prize with her husband. The capital of \
Australia is Canberra, a city planned by the architects Walter Burley Griffin and Marion Mahony \
Griffin after a design competition held in 1911. Photosynthesis turns carbon dioxide and water \
into sugar and oxygen, using the energy of light caught by chlorophyll in the leaves of plants. \
Johann Sebastian Bach spent most of his working life in Leipzig, where he wrote cantatas for the \
churches of the city every week. The Amazon carries more water than any other river on Earth, \
and its basin holds the largest tropical rainforest. Question: which of these facts connects a \
scientist to the city where she was born, and which river flows through four capitals?";

/// What to measure.
#[derive(Clone, Debug)]
pub struct GenerateBench {
    pub model: PathBuf,
    /// Tokens per prompt.
    pub prompt: usize,
    /// New tokens per sequence.
    pub new_tokens: usize,
    /// Sequences per call, one measurement each.
    pub batches: Vec<usize>,
    /// With the KV cache, without it, or both (in this order).
    pub kv_cache: Vec<bool>,
    /// Timed calls per setting with the cache, after one untimed short call per batch size.
    pub runs: usize,
    /// Timed calls per setting without the cache (each costs a whole prefill per new token).
    pub uncached_runs: usize,
    pub device: Device,
    /// Write the prompts and stop tokens as JSON here (the reference script reads them).
    pub save_prompts: Option<PathBuf>,
}

/// One setting's measurement.
#[derive(Clone, Debug, serde::Serialize)]
pub struct GenerateRun {
    pub batch: usize,
    pub kv_cache: bool,
    /// New tokens of all sequences over the median call's wall time (prompt reading included).
    pub tokens_per_sec: f64,
    pub median_ms: f64,
    pub runs_ms: Vec<f64>,
    /// The first sequence's new tokens, to compare with another implementation's.
    pub first_tokens: Vec<i64>,
}

/// What `kale bench generate` measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct GenerateBenchReport {
    pub model: PathBuf,
    pub prompt: usize,
    pub new_tokens: usize,
    pub threads: i32,
    pub device: String,
    pub stop_tokens: Vec<i64>,
    pub runs: Vec<GenerateRun>,
}

/// The prompts file: what `benches/transformers_generate.py` reads.
#[derive(serde::Serialize)]
struct PromptsFile<'a> {
    prompts: &'a [Vec<i64>],
    stop_tokens: &'a [i64],
    new_tokens: usize,
}

impl GenerateBench {
    pub fn run(&self, progress: &dyn Progress) -> Result<GenerateBenchReport> {
        let invalid = |m: &str| Err(TrainerError::InvalidInput(m.to_owned()));
        if self.prompt == 0 || self.new_tokens == 0 {
            return invalid("--prompt and --new-tokens must be at least 1");
        }
        if self.batches.is_empty() || self.batches.contains(&0) {
            return invalid("--batches must list sizes of at least 1");
        }
        if self.kv_cache.is_empty() {
            return invalid("--cache must be on, off or both");
        }
        let loaded = load_model(&self.model, self.device, None)?;
        let max_positions = loaded.model.config.max_positions as usize;
        if self.prompt + self.new_tokens > max_positions {
            return Err(TrainerError::InvalidInput(format!(
                "--prompt {} plus --new-tokens {} exceed the model's {max_positions} positions",
                self.prompt, self.new_tokens
            )));
        }
        let text = loaded.tokenizer.encode(TEXT)?;
        if text.is_empty() {
            return invalid("the model's tokenizer makes no tokens of the benchmark's text");
        }
        let widest = self.batches.iter().copied().max().unwrap_or(1);
        // Row r starts 17 r tokens into the text, wrapping round.
        let prompts: Vec<Vec<i64>> = (0..widest)
            .map(|r| {
                loaded
                    .tokenizer
                    .bos
                    .into_iter()
                    .chain((0..self.prompt).map(|j| text[(17 * r + j) % text.len()]))
                    .take(self.prompt)
                    .collect()
            })
            .collect();
        let stops = stop_tokens(&loaded.tokenizer);
        if let Some(path) = &self.save_prompts {
            let file = PromptsFile {
                prompts: &prompts,
                stop_tokens: &stops,
                new_tokens: self.new_tokens,
            };
            std::fs::write(
                path,
                serde_json::to_vec(&file).expect("plain data serialises"),
            )
            .map_err(TrainerError::io(path.clone()))?;
        }
        let call = |batch: usize, kv_cache: bool, max_tokens: usize| -> Result<_> {
            let generation = Generation {
                max_tokens,
                ..Generation::default()
            };
            let started = Instant::now();
            let out = generate(
                &loaded.model,
                &loaded.tokenizer,
                &GenerateRequest {
                    prompts: &prompts[..batch],
                    seeds: &vec![0; batch],
                    generation: &generation,
                    kv_cache,
                    min_tokens: max_tokens,
                },
            )?;
            Ok((started.elapsed().as_secs_f64() * 1e3, out))
        };
        let mut runs = Vec::new();
        for &batch in &self.batches {
            call(batch, true, 4.min(self.new_tokens))?; // warm-up: allocator, threads, caches
            for &kv_cache in &self.kv_cache {
                let n = if kv_cache {
                    self.runs
                } else {
                    self.uncached_runs
                }
                .max(1);
                let mut times = Vec::with_capacity(n);
                let mut first = Vec::new();
                for i in 0..n {
                    progress.note(&format!(
                        "batch {batch}, cache {}: call {} of {n}",
                        if kv_cache { "on" } else { "off" },
                        i + 1
                    ));
                    let (ms, out) = call(batch, kv_cache, self.new_tokens)?;
                    times.push(ms);
                    first = out.into_iter().next().unwrap_or_default();
                }
                let median_ms = median(times.clone());
                runs.push(GenerateRun {
                    batch,
                    kv_cache,
                    tokens_per_sec: (batch * self.new_tokens) as f64 / (median_ms / 1e3),
                    median_ms,
                    runs_ms: times,
                    first_tokens: first,
                });
            }
        }
        Ok(GenerateBenchReport {
            model: self.model.clone(),
            prompt: self.prompt,
            new_tokens: self.new_tokens,
            threads: tch::get_num_threads(),
            device: format!("{:?}", self.device).to_lowercase(),
            stop_tokens: stops,
            runs,
        })
    }
}

impl std::fmt::Display for GenerateBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} new tokens after a {}-token prompt, {} threads, {}",
            self.new_tokens, self.prompt, self.threads, self.device
        )?;
        for r in &self.runs {
            writeln!(
                f,
                "batch {:>3}  cache {:<3}  {:>8.1} tokens/s  {:>9.0} ms per call",
                r.batch,
                if r.kv_cache { "on" } else { "off" },
                r.tokens_per_sec,
                r.median_ms
            )?;
        }
        Ok(())
    }
}
