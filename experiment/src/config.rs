//! What an experiment is made of: the data, the model (a small one trained from scratch, or a
//! pretrained one fine-tuned with LoRA), the objectives compared, and the sizes. `kale experiment
//! --config FILE` reads it as JSON; fields left out keep their defaults.

use crate::error::{ExperimentError, Result};
use kale_trainer::loss::{Divergence, Objective};
use kale_trainer::train::TeacherKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::path::PathBuf;

/// Where the questions and the knowledge graph come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// The generated Wikidata-shaped world (nothing downloaded).
    World,
    /// WordNet's noun hierarchy (Debian's wordnet-base).
    Wordnet,
    /// BIG-bench's qa_wikidata facts composed into 2-hop questions (`scripts/setup.sh --data`).
    Wikidata,
    /// CommonsenseQA dev, rationales from WordNet.
    Csqa,
    /// ARC-Easy validation, rationales from WordNet.
    ArcEasy,
    /// ARC-Challenge validation, rationales from WordNet.
    ArcChallenge,
    /// OpenBookQA validation, rationales from WordNet.
    Obqa,
}

impl DataSource {
    pub const ALL: [Self; 7] = [
        Self::World,
        Self::Wordnet,
        Self::Wikidata,
        Self::Csqa,
        Self::ArcEasy,
        Self::ArcChallenge,
        Self::Obqa,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::World => "world",
            Self::Wordnet => "wordnet",
            Self::Wikidata => "wikidata",
            Self::Csqa => "csqa",
            Self::ArcEasy => "arc-easy",
            Self::ArcChallenge => "arc-challenge",
            Self::Obqa => "obqa",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                ExperimentError::Config(format!(
                    "data {name:?}: use {}",
                    Self::ALL.map(Self::name).join(", ")
                ))
            })
    }

    /// A benchmark of the method's paper (its own questions, rationales from WordNet).
    pub fn is_benchmark(self) -> bool {
        matches!(
            self,
            Self::Csqa | Self::ArcEasy | Self::ArcChallenge | Self::Obqa
        )
    }

    /// The prompt format lm-evaluation-harness scores this data with.
    pub fn default_prompt(self) -> &'static str {
        match self {
            Self::Obqa => "stem",
            Self::World | Self::Wordnet => "plain",
            _ => "cloze",
        }
    }
}

/// An objective and KA's divergence, written `name[@divergence]` (`ka@q||p`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectiveSpec {
    pub objective: Objective,
    pub divergence: Divergence,
}

impl ObjectiveSpec {
    pub fn parse(text: &str) -> Result<Self> {
        use clap::ValueEnum;
        let (name, kl) = text.split_once('@').unwrap_or((text, "p||q"));
        let objective = Objective::from_str(name, false).map_err(|_| {
            ExperimentError::Config(format!("objective {text:?}: use sft, ka, ka+sft or rationale-sft (ka@q||p, ka@jsd for another divergence)"))
        })?;
        let divergence = Divergence::from_str(kl, false).map_err(|_| {
            ExperimentError::Config(format!(
                "objective {text:?}: the divergence is p||q, q||p or jsd"
            ))
        })?;
        Ok(Self {
            objective,
            divergence,
        })
    }

    /// The written form.
    pub fn name(&self) -> String {
        let base = self.objective.name();
        match (self.objective.uses_teacher(), self.divergence) {
            (true, Divergence::Reverse) => format!("{base}@q||p"),
            (true, Divergence::Jsd { .. }) => format!("{base}@jsd"),
            _ => base.to_owned(),
        }
    }

    /// A directory name: only letters, digits and dashes.
    pub fn dir_name(&self) -> String {
        self.name()
            .replace('+', "-")
            .replace("||", "-")
            .replace('@', "-")
    }
}

impl Serialize for ObjectiveSpec {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for ObjectiveSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn objectives(names: &[&str]) -> Vec<ObjectiveSpec> {
    names
        .iter()
        .map(|n| ObjectiveSpec::parse(n).expect("a preset's objectives parse"))
        .collect()
}

/// A pretrained model fine-tuned with LoRA: the model the method is for.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretrainedConfig {
    /// A Hugging Face model directory (e.g. `kale import-gguf` of SmolLM2-135M-Instruct).
    pub model: PathBuf,
    /// Questions to fine-tune on and to test on, per seed.
    pub train: usize,
    pub test: usize,
    pub lora_r: i64,
    pub lora_alpha: f64,
    pub lora_targets: Vec<String>,
    /// The prompt format (`cloze`, `stem`, `letters`, `plain`, `chat`, or a JSON file); empty:
    /// the data's harness default.
    pub prompt: String,
    /// Wrap the format in the model's chat template.
    pub chat: bool,
    /// Fact checks evaluated per seed at most (known&incorrect before and after).
    pub max_facts: usize,
    /// cpu, cuda, cuda:N.
    pub device: String,
}

impl Default for PretrainedConfig {
    fn default() -> Self {
        Self {
            model: PathBuf::new(),
            train: 200,
            test: 150,
            lora_r: 16,
            lora_alpha: 32.0,
            lora_targets: ["q_proj", "k_proj", "v_proj", "o_proj"]
                .map(String::from)
                .to_vec(),
            prompt: String::new(),
            chat: false,
            max_facts: 300,
            device: "cpu".into(),
        }
    }
}

/// Everything a run is made of.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentConfig {
    pub data: DataSource,
    /// Set: fine-tune this pretrained model with LoRA instead of training a small one.
    pub pretrained: Option<PretrainedConfig>,
    /// Size of the generated world.
    pub entities: usize,
    /// Questions asked of WordNet (and composed from the Wikidata facts).
    pub questions: usize,
    /// The question kind fine-tuned and evaluated on (held-out half); small models only.
    pub target: String,
    /// Question kinds that teach the rationale skill (with the rationale in the prompt).
    pub skills: Vec<String>,
    /// Target questions used at most (train and test halves together).
    pub max_target: usize,
    pub layers: i64,
    pub hidden: i64,
    pub heads: i64,
    /// Epochs teaching the facts and the rationale skill.
    pub base_epochs: usize,
    pub base_lr: f64,
    /// Epochs of fine-tuning per objective.
    pub epochs: usize,
    pub lr: f64,
    pub batch: usize,
    /// Objectives compared: sft, ka, ka+sft, and rationale-sft (trained and evaluated with the
    /// rationale in the prompt: the upper bound). `ka@q||p` or `ka@jsd` picks KA's divergence
    /// (KL(p||q), the paper's, by default).
    pub objectives: Vec<ObjectiveSpec>,
    /// The KA teacher: frozen (the starting model) or live (the current weights).
    pub teacher: TeacherKind,
    /// Evaluations per fine-tuning run (for the curves).
    pub evals: usize,
    /// Paths kept per rationale.
    pub paths: usize,
    pub max_hops: u32,
    /// Where `scripts/setup.sh --data` put the real data.
    pub data_dir: PathBuf,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        Self {
            data: DataSource::World,
            pretrained: None,
            entities: 450,
            questions: 600,
            target: "birth-country".into(),
            skills: vec![
                "study-city".into(),
                "headquarters-country".into(),
                "capital-of-country".into(),
                "author-birthplace".into(),
            ],
            max_target: 400,
            layers: 3,
            hidden: 128,
            heads: 4,
            base_epochs: 30,
            base_lr: 3e-3,
            epochs: 6,
            lr: 1e-3,
            batch: 16,
            objectives: objectives(&["sft", "ka", "ka+sft", "ka@q||p", "rationale-sft"]),
            teacher: TeacherKind::Frozen,
            evals: 6,
            paths: 3,
            max_hops: 3,
            data_dir: PathBuf::from(".cache/data"),
        }
    }
}

impl ExperimentConfig {
    /// The reduced configuration of `--quick` (CI).
    pub fn quick() -> Self {
        Self {
            entities: 260,
            max_target: 120,
            base_epochs: 14,
            epochs: 3,
            hidden: 96,
            evals: 3,
            ..Self::default()
        }
    }

    /// The WordNet configuration: "which of these is a kind of X" as the target, part-of
    /// questions as the skill.
    pub fn wordnet() -> Self {
        Self {
            data: DataSource::Wordnet,
            questions: 300,
            target: "kind-of".into(),
            skills: vec!["part-of".into()],
            base_epochs: 20,
            ..Self::default()
        }
    }

    /// A pretrained model on real data: LoRA, the base model and the oracle (the rationale in
    /// the prompt) beside sft, ka and ka+sft. Sized to take about an hour per dataset for a
    /// 135M model on 2 CPU cores.
    pub fn pretrained(data: DataSource, model: PathBuf) -> Self {
        Self {
            data,
            pretrained: Some(PretrainedConfig {
                model,
                ..PretrainedConfig::default()
            }),
            questions: 1_000,
            epochs: 2,
            lr: 2e-4,
            batch: 8,
            // The end of each run only: an evaluation of a 135M model costs minutes on a CPU.
            evals: 1,
            paths: 3,
            objectives: objectives(&["sft", "ka", "ka+sft"]),
            ..Self::default()
        }
    }

    pub fn read(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(ExperimentError::io(path))?;
        let config: Self = serde_json::from_str(&text).map_err(|e| {
            ExperimentError::Config(format!(
                "{}: not a valid experiment configuration: {e}",
                path.display()
            ))
        })?;
        config.check()?;
        Ok(config)
    }

    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(ExperimentError::Config(m));
        match &self.pretrained {
            None if !matches!(self.data, DataSource::World | DataSource::Wordnet) => bad(format!(
                "data {}: a small model trained from scratch runs on world or wordnet; give a pretrained model (--model DIR) for real data",
                self.data.name()
            )),
            None if self.hidden % self.heads != 0 => bad(format!(
                "hidden {} is not a multiple of heads {}",
                self.hidden, self.heads
            )),
            Some(p) if p.train == 0 || p.test == 0 => {
                bad("train and test sizes must be at least 1".into())
            }
            Some(p) if p.lora_r <= 0 => bad(format!("lora_r {} must be positive", p.lora_r)),
            _ if !(self.lr.is_finite() && self.lr > 0.0) => {
                bad(format!("lr {} must be a positive number", self.lr))
            }
            _ if self.objectives.is_empty() => bad("no objectives to compare".into()),
            _ => Ok(()),
        }
    }
}

/// What the command line sets on top of a configuration: its file (or the defaults of the data
/// and model given), then each field given.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// A JSON configuration; fields left out keep their defaults.
    pub config: Option<PathBuf>,
    pub data: Option<DataSource>,
    /// A pretrained model to fine-tune with LoRA instead of a small one trained from scratch.
    pub model: Option<PathBuf>,
    pub objectives: Option<Vec<ObjectiveSpec>>,
    pub epochs: Option<usize>,
    pub data_dir: Option<PathBuf>,
    /// With a pretrained model: questions to fine-tune on and held out per seed, the prompt
    /// format, the device.
    pub train: Option<usize>,
    pub test: Option<usize>,
    pub prompt: Option<String>,
    pub device: Option<String>,
}

impl Overrides {
    /// The configuration these give.
    pub fn config(&self) -> Result<ExperimentConfig> {
        let mut config = match (&self.config, &self.model, self.data) {
            (Some(path), _, _) => ExperimentConfig::read(path)?,
            (None, Some(model), data) => {
                ExperimentConfig::pretrained(data.unwrap_or(DataSource::Wikidata), model.clone())
            }
            (None, None, Some(DataSource::Wordnet)) => ExperimentConfig::wordnet(),
            (None, None, Some(DataSource::World) | None) => ExperimentConfig::default(),
            (None, None, Some(other)) => {
                return Err(ExperimentError::Config(format!(
                    "--data {}: real data needs a pretrained model to fine-tune (--model DIR)",
                    other.name()
                )))
            }
        };
        if let Some(objectives) = &self.objectives {
            config.objectives = objectives.clone();
        }
        if let Some(epochs) = self.epochs {
            config.epochs = epochs;
        }
        if let Some(dir) = &self.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(p) = config.pretrained.as_mut() {
            if let Some(train) = self.train {
                p.train = train;
            }
            if let Some(test) = self.test {
                p.test = test;
            }
            if let Some(prompt) = &self.prompt {
                p.prompt = prompt.clone();
            }
            if let Some(device) = &self.device {
                p.device = device.clone();
            }
        } else if self.train.is_some() || self.test.is_some() || self.prompt.is_some() {
            return Err(ExperimentError::Config(
                "--train, --test and --prompt go with --model (a pretrained model)".into(),
            ));
        }
        Ok(config)
    }
}
