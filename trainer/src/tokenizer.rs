//! Tokenizers: Hugging Face's `tokenizer.json` through the `tokenizers` crate (the same ids as
//! Python), the settings of `tokenizer_config.json` beside it (the chat template, rendered with
//! minijinja as text-generation-inference does; whether a BOS token starts a text), and training
//! new ones on text (byte-level BPE or word level).
//!
//! Texts are encoded without the post-processor's special tokens, as lm-evaluation-harness does
//! for causal models; a BOS token is prepended only when `tokenizer_config.json` says
//! `add_bos_token: true` (tokenizers trained here say so).

use crate::error::{Result, TrainerError};
use std::path::{Path, PathBuf};
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::wordlevel::{WordLevel, WordLevelTrainerBuilder};
use tokenizers::normalizers::{Lowercase, NormalizerWrapper};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::{AddedToken, Tokenizer, TokenizerBuilder};

/// The special token that ends a text (and starts one) in tokenizers we train.
pub const END_OF_TEXT: &str = "<|endoftext|>";
pub const PAD: &str = "<|pad|>";

/// A tokenizer and the ids of its special tokens.
pub struct TextTokenizer {
    inner: Tokenizer,
    pub path: PathBuf,
    pub eos: Option<i64>,
    pub pad: i64,
    /// The token that starts every encoded prompt, when the tokenizer asks for one.
    pub bos: Option<i64>,
    /// The model's chat template (a Jinja template), when it has one.
    pub chat_template: Option<String>,
    /// `tokenizer_config.json` as read (kept when a model is saved).
    config: Option<serde_json::Value>,
}

/// The file beside `tokenizer.json` that holds the chat template and the BOS setting.
pub const TOKENIZER_CONFIG: &str = "tokenizer_config.json";

/// Which kind of tokenizer to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenizerKind {
    /// Byte-level BPE, as GPT-2's: any text encodes.
    Bpe,
    /// One id per lower-cased word (unknown words share one id): tiny vocabularies for tests.
    #[value(name = "word")]
    WordLevel,
}

fn tok_err(path: &Path, e: impl std::fmt::Display) -> TrainerError {
    TrainerError::Tokenizer {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

impl TextTokenizer {
    /// Loads `tokenizer.json`. `eos` overrides the end-of-text id (from `config.json`).
    pub fn load(path: &Path, eos: Option<i64>) -> Result<Self> {
        if !path.exists() {
            return Err(tok_err(path, "no such file"));
        }
        let inner = Tokenizer::from_file(path).map_err(|e| tok_err(path, e))?;
        let known = |t: &str| inner.token_to_id(t).map(i64::from);
        let eos = eos.or_else(|| {
            ["<|endoftext|>", "</s>", "<|im_end|>", "<eos>"]
                .iter()
                .find_map(|t| known(t))
        });
        let pad = known(PAD).or_else(|| known("<pad>")).or(eos).unwrap_or(0);
        let config_path = path.with_file_name(TOKENIZER_CONFIG);
        let config: Option<serde_json::Value> = if config_path.exists() {
            let text =
                std::fs::read_to_string(&config_path).map_err(TrainerError::io(&config_path))?;
            Some(
                serde_json::from_str(&text).map_err(|e| TrainerError::Config {
                    path: config_path.clone(),
                    message: format!("not JSON: {e}"),
                })?,
            )
        } else {
            None
        };
        let token_name = |key: &str| -> Option<String> {
            match config.as_ref()?.get(key)? {
                serde_json::Value::String(s) => Some(s.clone()),
                // The older layout: {"content": "<s>", ...}.
                other => other.get("content")?.as_str().map(str::to_owned),
            }
        };
        let add_bos = config
            .as_ref()
            .and_then(|c| c.get("add_bos_token"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let bos = if add_bos {
            let name = token_name("bos_token").ok_or_else(|| TrainerError::Config {
                path: config_path.clone(),
                message: "`add_bos_token` is true but there is no `bos_token`".into(),
            })?;
            Some(known(&name).ok_or_else(|| TrainerError::Config {
                path: config_path.clone(),
                message: format!("bos_token {name:?} is not in the vocabulary"),
            })?)
        } else {
            None
        };
        let chat_template = config
            .as_ref()
            .and_then(|c| c.get("chat_template"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        Ok(Self {
            inner,
            path: path.to_owned(),
            eos,
            pad,
            bos,
            chat_template,
            config,
        })
    }

    /// `tokenizer_config.json` as read, if there was one.
    pub fn config(&self) -> Option<&serde_json::Value> {
        self.config.as_ref()
    }

    /// Renders one user message with the chat template and the assistant's turn opened (as
    /// transformers' `apply_chat_template(messages, add_generation_prompt=True)`).
    pub fn apply_chat_template(&self, message: &str) -> Result<String> {
        let template = self.chat_template.as_deref().ok_or_else(|| {
            TrainerError::InvalidInput(format!(
                "{} has no chat template (tokenizer_config.json `chat_template`): use a plain prompt format",
                self.path.display()
            ))
        })?;
        let token = |key: &str| {
            self.config
                .as_ref()
                .and_then(|c| c.get(key))
                .and_then(|v| v.as_str().or_else(|| v.get("content")?.as_str()))
                .unwrap_or("")
                .to_owned()
        };
        crate::chat::render(
            template,
            &[("user", message)],
            true,
            &token("bos_token"),
            &token("eos_token"),
        )
        .map_err(|e| {
            let mut message = format!("chat template: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            TrainerError::Config {
                path: self.path.with_file_name(TOKENIZER_CONFIG),
                message,
            }
        })
    }

    /// Token ids of a prompt: the BOS token when the tokenizer asks for one, then the text.
    pub fn encode_prompt(&self, text: &str) -> Result<Vec<i64>> {
        let mut ids: Vec<i64> = self.bos.into_iter().collect();
        ids.extend(self.encode(text)?);
        Ok(ids)
    }

    /// Token ids of a text, without special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<i64>> {
        let encoding = self
            .inner
            .encode(text, false)
            .map_err(|e| tok_err(&self.path, e))?;
        Ok(encoding.get_ids().iter().map(|&i| i64::from(i)).collect())
    }

    pub fn decode(&self, ids: &[i64]) -> Result<String> {
        let ids: Vec<u32> = ids.iter().map(|&i| i as u32).collect();
        self.inner
            .decode(&ids, true)
            .map_err(|e| tok_err(&self.path, e))
    }

    /// The id of a token of the vocabulary (special or not).
    pub fn token_id(&self, token: &str) -> Option<i64> {
        self.inner.token_to_id(token).map(i64::from)
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Trains a tokenizer on texts and saves it as `tokenizer.json` at `path`.
    pub fn train(
        texts: &[String],
        kind: TokenizerKind,
        vocab_size: usize,
        path: &Path,
    ) -> Result<Self> {
        let specials = vec![
            AddedToken::from(END_OF_TEXT, true),
            AddedToken::from(PAD, true),
        ];
        let dir = tempfile_dir(path)?;
        let corpus = dir.join("corpus.txt");
        std::fs::write(&corpus, texts.join("\n")).map_err(TrainerError::io(&corpus))?;
        let files = vec![corpus.to_string_lossy().into_owned()];
        match kind {
            TokenizerKind::Bpe => {
                let mut tokenizer = TokenizerBuilder::new()
                    .with_model(BPE::default())
                    .with_normalizer(None::<NormalizerWrapper>)
                    .with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)))
                    .with_post_processor(Some(ByteLevel::default()))
                    .with_decoder(Some(ByteLevel::default()))
                    .build()
                    .map_err(|e| tok_err(path, e))?;
                let mut trainer = BpeTrainerBuilder::new()
                    .show_progress(false)
                    .vocab_size(vocab_size)
                    .min_frequency(1)
                    .special_tokens(specials)
                    .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
                    .build();
                tokenizer
                    .train_from_files(&mut trainer, files)
                    .map_err(|e| tok_err(path, e))?;
                tokenizer.save(path, false).map_err(|e| tok_err(path, e))?;
            }
            TokenizerKind::WordLevel => {
                let mut tokenizer = TokenizerBuilder::new()
                    .with_model(
                        WordLevel::builder()
                            .unk_token("<unk>".into())
                            .build()
                            .map_err(|e| tok_err(path, e))?,
                    )
                    .with_normalizer(Some(Lowercase))
                    .with_pre_tokenizer(Some(Whitespace {}))
                    .with_post_processor(None::<tokenizers::processors::PostProcessorWrapper>)
                    .with_decoder(None::<tokenizers::decoders::DecoderWrapper>)
                    .build()
                    .map_err(|e| tok_err(path, e))?;
                let mut specials = specials;
                specials.push(AddedToken::from("<unk>", true));
                let mut trainer = WordLevelTrainerBuilder::default()
                    .show_progress(false)
                    .vocab_size(vocab_size)
                    .min_frequency(1)
                    .special_tokens(specials)
                    .build()
                    .map_err(|e| tok_err(path, e))?;
                tokenizer
                    .train_from_files(&mut trainer, files)
                    .map_err(|e| tok_err(path, e))?;
                tokenizer.save(path, false).map_err(|e| tok_err(path, e))?;
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        // Texts start with the end-of-text token, as GPT-2's do.
        let config_path = path.with_file_name(TOKENIZER_CONFIG);
        let config = serde_json::json!({
            "add_bos_token": true,
            "bos_token": END_OF_TEXT,
            "eos_token": END_OF_TEXT,
            "pad_token": PAD,
            "tokenizer_class": "PreTrainedTokenizerFast",
        });
        std::fs::write(
            &config_path,
            serde_json::to_string_pretty(&config).expect("JSON"),
        )
        .map_err(TrainerError::io(&config_path))?;
        Self::load(path, None)
    }
}

fn tempfile_dir(near: &Path) -> Result<PathBuf> {
    let parent = near
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = parent.join(format!(".tokenizer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(TrainerError::io(&dir))?;
    Ok(dir)
}

/// Text to train a tokenizer on: the lines of a text file, or every string field of the records
/// of a `.jsonl` file.
pub fn read_corpus(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(TrainerError::io(path))?;
    if path.extension().is_none_or(|e| e != "jsonl") {
        return Ok(text.lines().map(str::to_owned).collect());
    }
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| TrainerError::Config {
                path: path.to_owned(),
                message: format!("line {}: not JSON: {e}", n + 1),
            })?;
        strings(&value, &mut out);
    }
    Ok(out)
}
