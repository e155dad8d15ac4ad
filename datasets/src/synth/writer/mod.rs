//! Rationales written by a language model, as the method has it: the question, its choices, the
//! gold answer and the item's paths (verbalised) go into a prompt, a writer completes it, and the
//! text replaces the template rationale if it is grounded in the paths (see [`grounding`]);
//! otherwise the template stays and the item is counted.
//!
//! A writer is anything that completes prompts ([`RationaleWriter`]): a server speaking OpenAI's
//! chat-completions API ([`OpenAiWriter`], here) or a local model (the trainer's, which links
//! libtorch and so lives in `kale-trainer`). [`WriterSpec`] is how the command line names one.
//! Completions are cached on disk ([`RationaleCache`]) under a key of everything that decides
//! them, so no rerun asks twice.

mod cache;
pub mod grounding;
mod openai;
mod prompt;

pub use super::source::RationaleSource;
pub use cache::{key as cache_key, RationaleCache};
pub use openai::{OpenAiSettings, OpenAiWriter};
pub use prompt::{PromptTemplate, DEFAULT_PROMPT};

use super::{Evidence, Synthesized, Template};
use crate::error::{DatasetError, Result};
use grounding::Refusal;
use kg_store::progress::{Progress, Unit};
use serde::Serialize;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

/// How new tokens are chosen, and how many.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    pub max_tokens: usize,
    /// 0: greedy (deterministic); else the softmax temperature of sampling.
    pub temperature: f64,
    /// Nucleus sampling: the smallest set of tokens whose probabilities reach this (1: all).
    pub top_p: f64,
    /// Seeds every sample (each request's seed also depends on its cache key, so a rerun draws
    /// the same text for the same item whatever else ran).
    pub seed: u64,
}

impl Default for Generation {
    fn default() -> Self {
        Self {
            max_tokens: 96,
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
        }
    }
}

impl Generation {
    pub fn check(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(DatasetError::Config(format!(
                "the temperature must be 0 (greedy) or positive, not {}",
                self.temperature
            )));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(DatasetError::Config(format!(
                "top-p must be in (0, 1], not {}",
                self.top_p
            )));
        }
        if self.max_tokens == 0 {
            return Err(DatasetError::Config("max tokens must be at least 1".into()));
        }
        Ok(())
    }

    pub fn greedy(&self) -> bool {
        self.temperature == 0.0
    }
}

/// One prompt for a writer.
#[derive(Clone, Debug)]
pub struct WriteRequest {
    /// The user message (writers apply their own chat format).
    pub prompt: String,
    /// This request's sampling seed.
    pub seed: u64,
}

/// Something that completes rationale prompts.
pub trait RationaleWriter: Send + Sync {
    /// What the writer is and which model it runs, as the cache key and the summary name it.
    fn id(&self) -> String;
    fn generation(&self) -> &Generation;
    /// Prompts handed over at once.
    fn batch_size(&self) -> usize;
    /// One text per request, in order. An error fails that request only.
    fn complete(&self, requests: &[WriteRequest]) -> Vec<Result<String>>;
}

/// A writer as the command line names it: `template`, `model:DIR` or `openai:URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriterSpec {
    /// The verbalised paths (no language model).
    Template,
    /// A local Hugging Face-layout model directory.
    Model(PathBuf),
    /// An OpenAI-compatible server's base URL (`http://host:port/v1`).
    OpenAi(String),
}

impl FromStr for WriterSpec {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        if text == "template" {
            Ok(Self::Template)
        } else if let Some(dir) = text.strip_prefix("model:").filter(|d| !d.is_empty()) {
            Ok(Self::Model(dir.into()))
        } else if let Some(url) = text.strip_prefix("openai:").filter(|u| !u.is_empty()) {
            Ok(Self::OpenAi(url.to_owned()))
        } else {
            Err(format!(
                "{text:?} is not a writer: use template, model:DIR or openai:URL"
            ))
        }
    }
}

impl std::fmt::Display for WriterSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Template => f.write_str("template"),
            Self::Model(dir) => write!(f, "model:{}", dir.display()),
            Self::OpenAi(url) => write!(f, "openai:{url}"),
        }
    }
}

/// What one rewriting pass did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WriterSummary {
    pub writer: String,
    /// Items with evidence (the others have no rationale to write).
    pub items: usize,
    /// Of those, answered from the cache...
    pub cached: usize,
    /// ...and by the writer.
    pub generated: usize,
    pub accepted: usize,
    pub empty: usize,
    pub too_long: usize,
    pub ungrounded: usize,
    /// Refused for repeating a clause (a decoding loop).
    pub repetitive: usize,
    pub seconds: f64,
}

impl WriterSummary {
    pub fn acceptance(&self) -> f64 {
        self.accepted as f64 / self.items.max(1) as f64
    }

    /// Adds another pass's counts (streaming rewrites a batch at a time).
    pub fn add(&mut self, other: &Self) {
        self.items += other.items;
        self.cached += other.cached;
        self.generated += other.generated;
        self.accepted += other.accepted;
        self.empty += other.empty;
        self.too_long += other.too_long;
        self.ungrounded += other.ungrounded;
        self.repetitive += other.repetitive;
        self.seconds += other.seconds;
        if self.writer.is_empty() {
            self.writer.clone_from(&other.writer);
        }
    }
}

impl std::fmt::Display for WriterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} rationales, {:.1}% accepted ({} written now, {} from the cache; refused: {} ungrounded, {} repetitive, {} too long, {} empty) in {:.1}s",
            self.writer,
            self.items,
            100.0 * self.acceptance(),
            self.generated,
            self.cached,
            self.ungrounded,
            self.repetitive,
            self.too_long,
            self.empty,
            self.seconds,
        )
    }
}

/// The longest rationale accepted, in characters, unless told otherwise.
pub const DEFAULT_MAX_CHARS: usize = 800;

/// A writer with what it needs to rewrite items: the prompt, how paths read, the cache and the
/// length limit.
pub struct Rewriter {
    pub writer: Box<dyn RationaleWriter>,
    pub prompt: PromptTemplate,
    /// How the paths are verbalised in the prompt (the synthesis's template).
    pub template: Template,
    pub cache: Option<RationaleCache>,
    pub max_chars: usize,
}

impl Rewriter {
    pub fn new(writer: Box<dyn RationaleWriter>, template: Template) -> Self {
        Self {
            writer,
            prompt: PromptTemplate::default(),
            template,
            cache: None,
            max_chars: DEFAULT_MAX_CHARS,
        }
    }

    pub fn with_prompt(mut self, prompt: PromptTemplate) -> Self {
        self.prompt = prompt;
        self
    }

    pub fn with_cache(mut self, cache: RationaleCache) -> Self {
        self.cache = Some(cache);
        self
    }

    pub fn with_max_chars(mut self, max_chars: usize) -> Self {
        self.max_chars = max_chars;
        self
    }

    /// The cache key of an item's rationale; `writer`: the writer's id and settings, the same
    /// for every item of a pass.
    fn key(item: &Synthesized, writer: [&str; 2], prompt: &str) -> String {
        let paths = serde_json::to_string(&item.paths).expect("paths serialise");
        cache_key(&[&item.item.id, &paths, writer[0], writer[1], prompt])
    }

    /// Replaces the template rationale of every item with evidence by the writer's, where that
    /// is grounded. Completions go to the cache batch by batch, so a run that fails part way
    /// (a server that dies) keeps what it had; the first failed request is the error.
    pub fn rewrite(
        &self,
        items: &mut [Synthesized],
        progress: &dyn Progress,
    ) -> Result<WriterSummary> {
        let started = Instant::now();
        let mut summary = WriterSummary {
            writer: self.writer.id(),
            ..WriterSummary::default()
        };
        let wanted: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].evidence != Evidence::None)
            .collect();
        summary.items = wanted.len();
        let settings = format!("{:?}", self.writer.generation());
        let mut texts: Vec<Option<String>> = vec![None; items.len()];
        let mut missing = Vec::new();
        for &i in &wanted {
            let prompt = self.prompt.render(&items[i], &self.template);
            let key = Self::key(&items[i], [&summary.writer, &settings], &prompt);
            match self.cache.as_ref().and_then(|c| c.get(&key)) {
                Some(text) => {
                    summary.cached += 1;
                    texts[i] = Some(text);
                }
                None => missing.push((i, key, prompt)),
            }
        }
        if !missing.is_empty() {
            progress.begin(
                "writing rationales",
                Some(missing.len() as u64),
                Unit::Items("rationales"),
            );
        }
        let generation = self.writer.generation();
        for batch in missing.chunks(self.writer.batch_size().max(1)) {
            let requests: Vec<WriteRequest> = batch
                .iter()
                .map(|(_, key, prompt)| WriteRequest {
                    prompt: prompt.clone(),
                    seed: generation.seed ^ u64::from_str_radix(&key[..16], 16).unwrap_or(0),
                })
                .collect();
            let results = self.writer.complete(&requests);
            let mut done = Vec::new();
            let mut failed = None;
            for ((i, key, _), result) in batch.iter().zip(results) {
                match result {
                    Ok(text) => {
                        done.push((key.clone(), text.clone()));
                        texts[*i] = Some(text);
                    }
                    Err(e) => {
                        failed.get_or_insert(e);
                    }
                }
            }
            summary.generated += done.len();
            if let Some(cache) = &self.cache {
                cache.put(done)?;
            }
            progress.advance(batch.len() as u64);
            if let Some(e) = failed {
                progress.end();
                return Err(e);
            }
        }
        if !missing.is_empty() {
            progress.end();
        }
        for (item, text) in items.iter_mut().zip(texts) {
            let Some(text) = text else { continue };
            match grounding::check(&text, item, self.max_chars) {
                Ok(()) => {
                    summary.accepted += 1;
                    let template = std::mem::replace(&mut item.rationale, text.trim().to_owned());
                    item.template_rationale = Some(template);
                    item.rationale_by = RationaleSource::Writer;
                }
                Err(refusal) => {
                    match refusal {
                        Refusal::Empty => summary.empty += 1,
                        Refusal::TooLong => summary.too_long += 1,
                        Refusal::Ungrounded => summary.ungrounded += 1,
                        Refusal::Repetitive => summary.repetitive += 1,
                    }
                    item.rationale_by = RationaleSource::Fallback;
                    item.refused_rationale = Some(text);
                }
            }
        }
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }
}

/// A writer and its settings as the command line gives them.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    pub spec: WriterSpec,
    /// The model name an OpenAI-compatible server is asked for.
    pub model_name: Option<String>,
    /// A prompt template file; `None`: the built-in one ([`DEFAULT_PROMPT`]).
    pub prompt: Option<PathBuf>,
    /// The cache directory; `None`: the caller's default, beside its output.
    pub cache: Option<PathBuf>,
    pub max_chars: usize,
    pub generation: Generation,
    /// Requests in flight (OpenAI-compatible servers).
    pub concurrency: usize,
    /// Seconds per request (OpenAI-compatible servers).
    pub timeout_secs: f64,
    /// The environment variable with the API key.
    pub key_env: String,
    /// Prompts per batch (a local model).
    pub batch: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            spec: WriterSpec::Template,
            model_name: None,
            prompt: None,
            cache: None,
            max_chars: DEFAULT_MAX_CHARS,
            generation: Generation::default(),
            concurrency: 4,
            timeout_secs: 120.0,
            key_env: "OPENAI_API_KEY".into(),
            batch: 8,
        }
    }
}

impl WriterOptions {
    /// A rewriter around `writer`: the prompt read, the cache opened (in `default_cache` unless
    /// one was given).
    pub fn rewriter(
        &self,
        writer: Box<dyn RationaleWriter>,
        template: Template,
        default_cache: &std::path::Path,
    ) -> Result<Rewriter> {
        self.generation.check()?;
        let prompt = match &self.prompt {
            Some(file) => PromptTemplate::read(file)?,
            None => PromptTemplate::default(),
        };
        let cache = RationaleCache::open(self.cache.as_deref().unwrap_or(default_cache))?;
        Ok(Rewriter::new(writer, template)
            .with_prompt(prompt)
            .with_cache(cache)
            .with_max_chars(self.max_chars))
    }

    /// The OpenAI-compatible writer these options describe, for the server at `url`.
    pub fn openai(&self, url: &str) -> Result<OpenAiWriter> {
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0) {
            return Err(DatasetError::Config(format!(
                "--writer-timeout must be a positive number of seconds, not {}",
                self.timeout_secs
            )));
        }
        let mut settings = OpenAiSettings::new(url);
        if let Some(name) = &self.model_name {
            settings.model.clone_from(name);
        }
        settings.key_env.clone_from(&self.key_env);
        settings.concurrency = self.concurrency;
        settings.timeout = std::time::Duration::from_secs_f64(self.timeout_secs);
        OpenAiWriter::new(settings, self.generation.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qa::QaItem;
    use crate::synth::{LabelledHop, LabelledPath, LinkedEntities};
    use kg_store::progress::NoProgress;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn item(id: &str) -> Synthesized {
        let hop = |s: &str, p: &str, o: &str| LabelledHop {
            s: format!("http://x/{s}"),
            p: format!("http://x/{p}"),
            o: format!("http://x/{o}"),
            forward: true,
            s_label: s.into(),
            p_label: p.into(),
            o_label: o.into(),
        };
        Synthesized {
            item: QaItem {
                id: id.into(),
                question: "In which country was Ada Morvik born?".into(),
                context: None,
                choices: vec!["Norway".into(), "Peru".into()],
                answer: 0,
                facts: vec![],
                kind: None,
                concept: None,
                relations: vec![],
            },
            entities: LinkedEntities {
                question: vec![],
                answer: vec![],
            },
            evidence: Evidence::Paths,
            paths: vec![LabelledPath {
                hops: vec![
                    hop("Ada Morvik", "place of birth", "Bergen"),
                    hop("Bergen", "country", "Norway"),
                ],
            }],
            rationale: "Ada Morvik's place of birth is Bergen; Bergen's country is Norway.".into(),
            rationale_by: RationaleSource::Template,
            template_rationale: None,
            refused_rationale: None,
        }
    }

    /// A writer that answers from a table and counts what it was asked.
    struct Scripted {
        answer: fn(&str) -> String,
        asked: Arc<AtomicUsize>,
        generation: Generation,
    }

    impl RationaleWriter for Scripted {
        fn id(&self) -> String {
            "scripted".into()
        }
        fn generation(&self) -> &Generation {
            &self.generation
        }
        fn batch_size(&self) -> usize {
            2
        }
        fn complete(&self, requests: &[WriteRequest]) -> Vec<Result<String>> {
            self.asked.fetch_add(requests.len(), Ordering::SeqCst);
            requests
                .iter()
                .map(|r| Ok((self.answer)(&r.prompt)))
                .collect()
        }
    }

    fn scripted(answer: fn(&str) -> String) -> Box<Scripted> {
        Box::new(Scripted {
            answer,
            asked: Arc::default(),
            generation: Generation::default(),
        })
    }

    #[test]
    fn the_prompt_names_the_question_the_choices_the_answer_and_each_path() {
        let prompt = PromptTemplate::default().render(&item("a"), &Template::Auto);
        assert!(prompt.contains("Question: In which country was Ada Morvik born?"));
        assert!(prompt.contains("Choices: (A) Norway (B) Peru"));
        assert!(prompt.contains("Correct answer: Norway"));
        let facts: Vec<&str> = prompt.lines().filter(|l| l.starts_with("- ")).collect();
        assert_eq!(facts.len(), 1, "{prompt}");
        assert!(
            facts[0].contains("Bergen") && facts[0].contains("Norway"),
            "{prompt}"
        );
        // A placeholder inside the data is not expanded again.
        let mut tricky = item("b");
        tricky.item.question = "What is {answer}?".into();
        let prompt = PromptTemplate::new("Q: {question} A: {answer} F: {facts}".into())
            .unwrap()
            .render(&tricky, &Template::Auto);
        assert!(
            prompt.starts_with("Q: What is {answer}? A: Norway F: - "),
            "{prompt}"
        );
        assert!(PromptTemplate::new("no facts: {answer}".into()).is_err());
    }

    #[test]
    fn grounding_wants_every_entity_of_one_path_and_a_short_text() {
        let it = item("a");
        let check = |t: &str| grounding::check(t, &it, 120);
        assert_eq!(
            check("Ada Morvik was born in bergen, a city in NORWAY."),
            Ok(())
        );
        assert_eq!(
            check("Ada Morvik was born in Norway."),
            Err(Refusal::Ungrounded),
            "Bergen, the bridge, is missing"
        );
        assert_eq!(check("  \n"), Err(Refusal::Empty));
        assert_eq!(
            check(&"Ada Morvik Bergen Norway ".repeat(10)),
            Err(Refusal::TooLong)
        );
        let check = |t: &str| grounding::check(t, &it, 800);
        assert_eq!(
            check("Ada Morvik was born in Bergen; Bergen is in Norway; Bergen is in Norway; Bergen is in norway;"),
            Err(Refusal::Repetitive),
            "a decoding loop"
        );
        assert_eq!(
            check("Ada Morvik was born in Bergen. Bergen is in Norway. Bergen is in Norway."),
            Ok(()),
            "twice is not a loop"
        );
        assert_eq!(
            check("Ada Morvik, Bergen, Norway: yes, yes, yes. Born in Bergen."),
            Ok(()),
            "short clauses do not count"
        );
    }

    #[test]
    fn grounded_texts_replace_the_template_and_the_cache_answers_a_second_run() {
        let dir = tempfile::tempdir().unwrap();
        let run = |answer: fn(&str) -> String| {
            let writer = scripted(answer);
            let asked = Arc::clone(&writer.asked);
            let rewriter = Rewriter::new(writer, Template::Auto)
                .with_cache(RationaleCache::open(dir.path()).unwrap());
            let mut items = vec![item("a"), item("b"), item("c")];
            items[2].evidence = Evidence::None;
            items[2].paths.clear();
            let summary = rewriter.rewrite(&mut items, &NoProgress).unwrap();
            (items, summary, asked.load(Ordering::SeqCst))
        };
        let grounded = |_: &str| "Ada Morvik was born in Bergen, which is in Norway.".to_owned();
        let (items, summary, asked) = run(grounded);
        assert_eq!(asked, 2, "the item without evidence is not asked for");
        assert_eq!(
            (summary.items, summary.accepted, summary.generated),
            (2, 2, 2)
        );
        assert_eq!(items[0].rationale_by, RationaleSource::Writer);
        assert!(items[0].rationale.contains("Bergen, which is in Norway"));
        assert!(items[0]
            .template_rationale
            .as_deref()
            .unwrap()
            .contains("place of birth"));
        assert_eq!(items[2].rationale_by, RationaleSource::Template);
        // A second run asks nothing: the cache answers (even a writer that would refuse).
        let (items, summary, asked) = run(|_| String::new());
        assert_eq!(asked, 0);
        assert_eq!((summary.cached, summary.accepted), (2, 2));
        assert_eq!(items[1].rationale_by, RationaleSource::Writer);
        // And the cache survives a line cut short by a crash.
        let file = dir.path().join("rationales.jsonl");
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str("{\"key\":\"cut");
        std::fs::write(&file, text).unwrap();
        assert_eq!(RationaleCache::open(dir.path()).unwrap().len(), 2);
    }

    #[test]
    fn an_ungrounded_text_leaves_the_template_and_is_counted() {
        let mut items = vec![item("a")];
        let rewriter = Rewriter::new(
            scripted(|_| "Because it is the best country.".into()),
            Template::Auto,
        );
        let summary = rewriter.rewrite(&mut items, &NoProgress).unwrap();
        assert_eq!((summary.accepted, summary.ungrounded), (0, 1));
        assert_eq!(items[0].rationale_by, RationaleSource::Fallback);
        assert!(items[0].rationale.contains("place of birth"));
        assert_eq!(
            items[0].refused_rationale.as_deref(),
            Some("Because it is the best country.")
        );
    }

    #[test]
    fn writers_parse_from_the_command_line() {
        assert_eq!("template".parse::<WriterSpec>(), Ok(WriterSpec::Template));
        assert_eq!(
            "model:/m/smollm2".parse::<WriterSpec>(),
            Ok(WriterSpec::Model("/m/smollm2".into()))
        );
        assert_eq!(
            "openai:http://127.0.0.1:8080/v1".parse::<WriterSpec>(),
            Ok(WriterSpec::OpenAi("http://127.0.0.1:8080/v1".into()))
        );
        assert!("model:".parse::<WriterSpec>().is_err());
        assert!("gpt".parse::<WriterSpec>().is_err());
    }

    #[test]
    fn an_unreachable_server_is_an_error_that_names_it() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut settings = OpenAiSettings::new(&format!("http://127.0.0.1:{port}/v1"));
        settings.retries = 1;
        settings.backoff = std::time::Duration::from_millis(10);
        settings.timeout = std::time::Duration::from_secs(5);
        let writer = OpenAiWriter::new(settings, Generation::default()).unwrap();
        let mut items = vec![item("a")];
        let err = Rewriter::new(Box::new(writer), Template::Auto)
            .rewrite(&mut items, &NoProgress)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("127.0.0.1:{port}/v1/chat/completions"))
                && err.contains("cannot reach the server")
                && err.contains("gave up after 2 attempts"),
            "{err}"
        );
        assert!(
            OpenAiWriter::new(OpenAiSettings::new("localhost:8080"), Generation::default())
                .is_err()
        );
    }
}
