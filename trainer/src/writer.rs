//! The local-model rationale writer: a Hugging Face-layout model directory (SmolLM2 from the
//! GGUF import, a fine-tuned checkpoint) completing rationale prompts in its chat format,
//! batched, through the KV-cache generation of [`crate::generate`]. And [`rewriter`], which
//! makes whichever writer the command line names.

use crate::checkpoint::{load_model, Loaded};
use crate::error::{Result, TrainerError};
use crate::generate::{chat_prompt, generate, GenerateRequest};
use crate::runtime::Device;
use kale_datasets::synth::writer::{
    Generation, RationaleWriter, Rewriter, WriteRequest, WriterOptions, WriterSpec,
};
use kale_datasets::synth::Template;
use kale_datasets::DatasetError;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A local model that writes rationales. One generation runs at a time (the model uses every
/// thread libtorch has); callers on several threads queue on the lock.
pub struct ModelWriter {
    dir: PathBuf,
    /// What identifies the weights in the cache key: the directory and its files' sizes.
    fingerprint: String,
    loaded: Mutex<Loaded>,
    generation: Generation,
    batch: usize,
}

impl ModelWriter {
    pub fn load(dir: &Path, generation: Generation, batch: usize, device: Device) -> Result<Self> {
        generation.check()?;
        if batch == 0 {
            return Err(TrainerError::InvalidInput(
                "--writer-batch must be at least 1".into(),
            ));
        }
        let loaded = load_model(dir, device, None)?;
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .map_err(TrainerError::io(dir))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let len = e.metadata().ok()?.len();
                Some(format!("{}={len}", e.file_name().to_string_lossy()))
            })
            .collect();
        files.sort();
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        Ok(Self {
            fingerprint: format!("{} [{}]", dir.display(), files.join(" ")),
            dir,
            loaded: Mutex::new(loaded),
            generation,
            batch,
        })
    }

    fn complete_batch(&self, requests: &[WriteRequest]) -> Result<Vec<String>> {
        let loaded = self
            .loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let prompts = requests
            .iter()
            .map(|r| {
                let text = chat_prompt(&loaded.tokenizer, &r.prompt)?;
                loaded.tokenizer.encode_prompt(&text)
            })
            .collect::<Result<Vec<_>>>()?;
        let seeds: Vec<u64> = requests.iter().map(|r| r.seed).collect();
        let new = generate(
            &loaded.model,
            &loaded.tokenizer,
            &GenerateRequest {
                prompts: &prompts,
                seeds: &seeds,
                generation: &self.generation,
                kv_cache: true,
                min_tokens: 0,
            },
        )?;
        new.iter().map(|ids| loaded.tokenizer.decode(ids)).collect()
    }
}

impl RationaleWriter for ModelWriter {
    fn id(&self) -> String {
        format!("model:{}", self.fingerprint)
    }

    fn generation(&self) -> &Generation {
        &self.generation
    }

    fn batch_size(&self) -> usize {
        self.batch
    }

    fn complete(&self, requests: &[WriteRequest]) -> Vec<kale_datasets::Result<String>> {
        match self.complete_batch(requests) {
            Ok(texts) => texts.into_iter().map(Ok).collect(),
            Err(e) => {
                let message = e.to_string();
                requests
                    .iter()
                    .map(|_| {
                        Err(DatasetError::Writer {
                            writer: format!("model:{}", self.dir.display()),
                            message: message.clone(),
                        })
                    })
                    .collect()
            }
        }
    }
}

/// A writer as a job names it: the options and where a local model runs.
#[derive(Clone, Debug)]
pub struct WriterChoice {
    pub options: WriterOptions,
    pub device: Device,
}

/// The rewriter the options name, or `None` for the template writer (no language model).
/// `default_cache`: where completions are cached unless the options say.
pub fn rewriter(
    options: &WriterOptions,
    template: Template,
    default_cache: &Path,
    device: Device,
) -> Result<Option<Rewriter>> {
    let writer: Box<dyn RationaleWriter> = match &options.spec {
        WriterSpec::Template => return Ok(None),
        WriterSpec::OpenAi(url) => Box::new(options.openai(url)?),
        WriterSpec::Model(dir) => Box::new(ModelWriter::load(
            dir,
            options.generation.clone(),
            options.batch,
            device,
        )?),
    };
    Ok(Some(options.rewriter(writer, template, default_cache)?))
}
