//! The command-line grammar (clap). Each subcommand's help says what it does and its defaults.

use clap::{Args, Parser, Subcommand};
use kale_datasets::qa::QaFormat;
use kale_datasets::synth::writer::{Generation, WriterOptions, WriterSpec};
use kale_datasets::synth::Shard;
use kale_experiment::{DataSource, ObjectiveSpec};
use kale_queries::OutputFormat;
use kale_trainer::config::Arch;
use kale_trainer::eval::Score;
use kale_trainer::loss::{Divergence, Objective};
use kale_trainer::runtime::{parse_device, Device};
use kale_trainer::tokenizer::TokenizerKind;
use kale_trainer::train::TeacherKind;
use kg_store::bench::PairSample;
use kg_store::parse_size;
use kg_store::{InputFormat, LanguageFilter};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Parser)]
#[command(
    name = "kale",
    version,
    about = "A knowledge-graph store and a knowledge-aware LLM trainer (KALE)"
)]
pub struct Cli {
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// The whole method on the built-in generated world, nothing downloaded.
    Demo(DemoArgs),
    /// KA against SFT over several seeds, on the generated world or WordNet: a Markdown and JSON
    /// report with intervals, and the charts.
    Experiment(ExperimentArgs),
    /// Generate test data: a Wikidata-shaped world.
    #[command(subcommand)]
    Gen(GenCommand),
    /// Bulk-load RDF files into a store (created if missing), in one atomic commit.
    Load(LoadArgs),
    /// Print a store's statistics.
    Stats {
        store: PathBuf,
        /// A JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write the whole store as N-Triples (N-Quads when it has named graphs).
    Dump {
        store: PathBuf,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the triples matching a pattern, as N-Triples (N-Quads for named graphs).
    Triples(TriplesArgs),
    /// Run a SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE; paths via SERVICE <urn:kale:paths>).
    Sparql(SparqlArgs),
    /// Run a SPARQL update (INSERT DATA, DELETE/INSERT WHERE, CLEAR, DROP, CREATE, LOAD), atomically.
    Update(UpdateArgs),
    /// Serve the SPARQL 1.1 Protocol at /query and /update.
    Serve(ServeArgs),
    /// Link text to the entities it names (longest label match).
    Link {
        store: PathBuf,
        text: String,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// KI synthesis: link each QA item, find the paths from question to answer, write rationales.
    Synth(SynthArgs),
    /// A fresh small model (random weights) with a tokenizer trained on your text.
    InitModel(InitModelArgs),
    /// Fine-tune a model: sft, ka (KALE), ka+sft or rationale-sft.
    Train(Box<TrainArgs>),
    /// Multiple-choice accuracy by log-likelihood, and known&incorrect with fact checks.
    Eval(EvalArgs),
    /// Fold LoRA adapters into their base model's weights.
    MergeLora {
        /// The base model directory.
        #[arg(long)]
        model: PathBuf,
        /// The adapters (adapter_config.json, adapter_model.safetensors).
        #[arg(long)]
        adapters: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Convert a llama.cpp GGUF checkpoint (Llama family) into a Hugging Face model directory.
    ImportGguf {
        /// The .gguf file.
        file: PathBuf,
        /// The model directory to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Continue a prompt with a model (greedy unless --temperature): a quick look at what it has
    /// learnt.
    Generate {
        /// The model directory.
        #[arg(long)]
        model: PathBuf,
        /// The prompt.
        prompt: String,
        /// At most this many new tokens.
        #[arg(long, default_value_t = 32)]
        max_tokens: usize,
        /// Send the prompt as-is, not wrapped in the model's chat format (when it has one).
        #[arg(long)]
        raw: bool,
        /// 0: greedy; else sample at this temperature.
        #[arg(long, default_value_t = 0.0)]
        temperature: f64,
        /// Sample from the most probable tokens whose probability mass reaches this.
        #[arg(long, default_value_t = 1.0)]
        top_p: f64,
        /// The sampling seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// cpu, cuda or cuda:N.
        #[arg(long, default_value = "cpu", value_parser = parse_device)]
        device: Device,
    },
    /// Draw loss and accuracy curves of training runs (their metrics.jsonl) into a PNG.
    Plot {
        /// One or more metrics.jsonl files; each run is labelled by its directory's name.
        #[arg(required = true)]
        metrics: Vec<PathBuf>,
        /// The PNG to write.
        #[arg(long, default_value = "curves.png")]
        out: PathBuf,
    },
    /// Rebuild the adjacency (CSR) files of a store from its triples.
    Index { store: PathBuf },
    /// Fold the live-update delta into new adjacency files and merge the tables into one sorted
    /// run (RocksDB's full compaction, as oxigraph's optimize()), so reads after many live writes
    /// or small loads touch one file per lookup; readers keep working meanwhile.
    Compact { store: PathBuf },
    /// A consistent read-only copy of a store (RocksDB's checkpoint and the adjacency file it
    /// was built to) in a new directory, to ship to other hosts: hard links on the same file
    /// system, so it is instant and small there.
    Snapshot { store: PathBuf, out: PathBuf },
    /// Paths between entities (all simple paths up to --max-hops, shortest first).
    ///
    /// Hubs, entities with more than --max-degree edges (sources and targets too), are met, never
    /// walked: their edges are never listed, and a hop at a hub is found by looking its other end
    /// up in the hub's sorted edge list. A path may pass through or end at hubs when all the hubs
    /// on it lie on one hop (one hub, or the two ends of a single hop); paths with two hubs
    /// apart are not returned.
    Paths(PathArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// SPARQL text given inline or in a file, with its base IRI: what `sparql` and `update` read.
#[derive(Args)]
pub struct SparqlText {
    /// The query or update (or give --file).
    #[arg(required_unless_present = "file", value_name = "TEXT")]
    pub text: Option<String>,
    /// Read it from a file.
    #[arg(long, conflicts_with = "text")]
    pub file: Option<PathBuf>,
    /// Base IRI for relative IRIs in it.
    #[arg(long)]
    pub base: Option<String>,
}

#[derive(Args)]
pub struct SparqlArgs {
    pub store: PathBuf,
    #[command(flatten)]
    pub text: SparqlText,
    /// Solutions: table, json, xml, csv or tsv. Graphs (CONSTRUCT, DESCRIBE): nt, ttl, nq, trig
    /// or rdf (default: table, and N-Triples for graphs).
    #[arg(long)]
    pub format: Option<OutputFormat>,
    /// Time budget in seconds (0: none).
    #[arg(long, default_value_t = 0.0)]
    pub timeout: f64,
    /// Most result rows; more is an error (0: no limit).
    #[arg(long, default_value_t = 1_000_000)]
    pub max_rows: usize,
}

#[derive(Args)]
pub struct UpdateArgs {
    pub store: PathBuf,
    #[command(flatten)]
    pub text: SparqlText,
}

#[derive(Args)]
pub struct ServeArgs {
    pub store: PathBuf,
    /// Address and port (port 0 picks a free one; the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub bind: SocketAddr,
    /// Accept SPARQL updates at /update.
    #[arg(long)]
    pub allow_update: bool,
    /// Time budget per query, in seconds (0: none).
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// Most result rows per query (0: no limit).
    #[arg(long, default_value_t = 1_000_000)]
    pub max_rows: usize,
    /// Queries and updates evaluated at once; further requests wait for a slot.
    #[arg(long, default_value_t = 4)]
    pub threads: usize,
    /// Seconds a request waits for a free slot before it is answered 503 (busy).
    #[arg(long, default_value_t = 10.0)]
    pub queue_wait: f64,
    /// Seconds a client has to send a request's headers; also how long an idle connection
    /// is kept open.
    #[arg(long, default_value_t = 10.0)]
    pub header_timeout: f64,
    /// Seconds a request's body may take to arrive (slower: 408).
    #[arg(long, default_value_t = 30.0)]
    pub body_timeout: f64,
}

#[derive(Args)]
pub struct SynthArgs {
    pub store: PathBuf,
    /// The QA file (CommonsenseQA/OpenBookQA/ARC JSONL, MMLU CSV, RACE JSON, plain JSONL).
    #[arg(long)]
    pub dataset: PathBuf,
    /// The dataset's format (default: detected).
    #[arg(long)]
    pub format: Option<QaFormat>,
    /// One JSON object per item, in input order.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 3)]
    pub max_hops: u32,
    /// Paths kept per item.
    #[arg(long, default_value_t = 5)]
    pub paths: usize,
    #[arg(long, default_value_t = kg_store::paths::DEFAULT_MAX_DEGREE)]
    pub max_degree: u64,
    #[arg(long)]
    pub allow: Vec<String>,
    #[arg(long)]
    pub deny: Vec<String>,
    #[arg(long)]
    pub forward_only: bool,
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// How a hop reads: `auto`, or a template with {s}, {p}, {o}.
    #[arg(long, default_value = "auto")]
    pub template: String,
    /// Also derive single-hop fact checks from each item's first path (for datasets without
    /// any, so known&incorrect can be measured) and write them here; the items' `facts` name them.
    #[arg(long)]
    pub fact_checks: Option<PathBuf>,
    /// Print the summary as JSON on standard output.
    #[arg(long)]
    pub json_summary: bool,
    /// Only the I-th of N deterministic shards of the dataset (0 <= I < N; item p goes to shard
    /// p mod N): N hosts, each with a copy of the store, split one run, and their
    /// outputs merged round-robin are the unsharded output.
    #[arg(long, value_parser = Shard::from_str)]
    pub shard: Option<Shard>,
    #[command(flatten)]
    pub writer: WriterArgs,
}

/// Who writes the rationales: the template (verbalised paths), a local model or an
/// OpenAI-compatible server; a model's text is used only where it names the entities of one of
/// the item's paths.
#[derive(Args, Clone, Debug)]
pub struct WriterArgs {
    /// template, model:DIR (a Hugging Face-layout model) or openai:URL (a chat-completions
    /// server's base URL, e.g. openai:http://127.0.0.1:8080/v1).
    #[arg(long, default_value = "template", value_parser = WriterSpec::from_str)]
    pub writer: WriterSpec,
    /// The model an OpenAI-compatible server is asked for.
    #[arg(long)]
    pub writer_model: Option<String>,
    /// A prompt template file with {question}, {choices}, {answer} and {facts}
    /// (default: the built-in one, datasets/prompts/rationale.txt).
    #[arg(long)]
    pub writer_prompt: Option<PathBuf>,
    /// Where written rationales are cached (default: beside the output).
    #[arg(long)]
    pub writer_cache: Option<PathBuf>,
    /// Longer rationales are refused (the template's is used).
    #[arg(long, default_value_t = kale_datasets::synth::writer::DEFAULT_MAX_CHARS)]
    pub writer_max_chars: usize,
    #[arg(long, default_value_t = 96)]
    pub writer_max_tokens: usize,
    /// 0: greedy (deterministic); else sample at this temperature.
    #[arg(long, default_value_t = 0.0)]
    pub writer_temperature: f64,
    #[arg(long, default_value_t = 1.0)]
    pub writer_top_p: f64,
    #[arg(long, default_value_t = 0)]
    pub writer_seed: u64,
    /// Requests in flight to an OpenAI-compatible server.
    #[arg(long, default_value_t = 4)]
    pub writer_concurrency: usize,
    /// Seconds per request to an OpenAI-compatible server.
    #[arg(long, default_value_t = 120.0)]
    pub writer_timeout: f64,
    /// The environment variable that holds the server's API key.
    #[arg(long, default_value = "OPENAI_API_KEY")]
    pub writer_key_env: String,
    /// Prompts generated at once by a local model.
    #[arg(long, default_value_t = 8)]
    pub writer_batch: usize,
    /// Where a local writer model runs: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub writer_device: Device,
}

impl WriterArgs {
    pub fn options(&self) -> WriterOptions {
        WriterOptions {
            spec: self.writer.clone(),
            model_name: self.writer_model.clone(),
            prompt: self.writer_prompt.clone(),
            cache: self.writer_cache.clone(),
            max_chars: self.writer_max_chars,
            generation: Generation {
                max_tokens: self.writer_max_tokens,
                temperature: self.writer_temperature,
                top_p: self.writer_top_p,
                seed: self.writer_seed,
            },
            concurrency: self.writer_concurrency,
            timeout_secs: self.writer_timeout,
            key_env: self.writer_key_env.clone(),
            batch: self.writer_batch,
        }
    }
}

#[derive(Args)]
pub struct InitModelArgs {
    #[arg(long)]
    pub arch: Arch,
    #[arg(long)]
    pub layers: i64,
    #[arg(long)]
    pub hidden: i64,
    #[arg(long)]
    pub heads: i64,
    /// Key-value heads (llama; default: --heads).
    #[arg(long)]
    pub kv_heads: Option<i64>,
    #[arg(long, default_value_t = 512)]
    pub max_positions: i64,
    #[arg(long)]
    pub out: PathBuf,
    /// Text to train the tokenizer on: a .txt file, or JSONL whose string fields are used.
    #[arg(long)]
    pub tokenizer_from: PathBuf,
    #[arg(long, default_value_t = 4_000)]
    pub vocab: usize,
    #[arg(long, value_enum, default_value_t = TokenizerKind::Bpe)]
    pub tokenizer: TokenizerKind,
    #[arg(long, default_value_t = 0)]
    pub seed: i64,
}

#[derive(Args, Clone)]
pub struct TrainArgs {
    /// The starting model (a Hugging Face directory), or with --resume the checkpoint.
    #[arg(long)]
    pub model: PathBuf,
    /// Training data: `kale synth` output, plain QA JSONL, or {"text": ...} lines.
    #[arg(long, required_unless_present = "store")]
    pub data: Option<PathBuf>,
    /// Stream from a live store instead: synthesise rationales for --dataset while training.
    #[arg(long, requires = "dataset")]
    pub store: Option<PathBuf>,
    /// The QA file to synthesise from (with --store).
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// With --store: also write the synthesised items here (JSONL).
    #[arg(long)]
    pub write_synth: Option<PathBuf>,
    /// Who writes the rationales when streaming from --store.
    #[command(flatten)]
    pub writer: WriterArgs,
    #[arg(long, default_value = "sft")]
    pub objective: Objective,
    #[arg(long)]
    pub out: PathBuf,
    /// KA's teacher.
    #[arg(long, value_enum, default_value_t = TeacherKind::Frozen)]
    pub teacher: TeacherKind,
    /// KA's divergence.
    #[arg(long, default_value = "p||q")]
    pub kl: Divergence,
    /// JSD's weight on p.
    #[arg(long, default_value_t = 0.5)]
    pub beta: f64,
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Weight of SFT in ka+sft.
    #[arg(long, default_value_t = 1.0)]
    pub lambda: f64,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Examples per optimizer step.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Examples per forward pass (gradients accumulate up to --batch).
    #[arg(long)]
    pub micro_batch: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub warmup: usize,
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Gradient clipping (global norm; 0: none).
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub save_every: Option<usize>,
    /// Continue from a checkpoint directory (checkpoint-N) of an interrupted run.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Train LoRA adapters of this rank instead of all weights.
    #[arg(long)]
    pub lora_r: Option<i64>,
    #[arg(long, default_value_t = 16.0)]
    pub lora_alpha: f64,
    #[arg(long, default_value_t = 0.0)]
    pub lora_dropout: f64,
    #[arg(long, value_delimiter = ',', default_value = "q_proj,v_proj")]
    pub lora_targets: Vec<String>,
    /// Fold the adapters into the saved model at the end.
    #[arg(long)]
    pub merge_lora: bool,
    /// Evaluate on this QA file every --eval-every steps and at the end.
    #[arg(long)]
    pub eval: Option<PathBuf>,
    /// The fact checks of --eval (for known&incorrect).
    #[arg(long)]
    pub facts: Option<PathBuf>,
    #[arg(long)]
    pub eval_every: Option<usize>,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub device: Device,
    /// libtorch threads (default: all cores).
    #[arg(long)]
    pub threads: Option<i32>,
    /// The prompt format: plain, chat, cloze, stem, letters, mmlu, or a JSON file (default: chat
    /// when the model has a chat template, plain otherwise).
    #[arg(long)]
    pub prompt: Option<String>,
    /// The frozen KA teacher's distributions kept as their top K tokens (computed once, reused
    /// every epoch; exact when K covers the vocabulary); 0: the teacher runs every step.
    #[arg(long, default_value_t = kale_trainer::train::DEFAULT_TEACHER_TOP_K)]
    pub teacher_top_k: usize,
}

#[derive(Args)]
pub struct EvalArgs {
    #[arg(long)]
    pub model: PathBuf,
    /// LoRA adapters to apply to --model.
    #[arg(long)]
    pub adapters: Option<PathBuf>,
    #[arg(long)]
    pub data: PathBuf,
    /// Single-hop fact checks (their ids in the items' `facts`), for known&incorrect.
    #[arg(long)]
    pub facts: Option<PathBuf>,
    /// Put each item's rationale in the prompt (the teacher's view).
    #[arg(long)]
    pub with_rationale: bool,
    /// What picks the answer (and decides known&incorrect). Both acc and acc_norm are reported
    /// whatever this is.
    #[arg(long, value_enum, default_value_t = Score::Norm)]
    pub score: Score,
    /// The prompt format: plain, chat, cloze (the harness's ARC), stem (its OpenBookQA),
    /// letters (its CommonsenseQA), mmlu, or a JSON file (default: chat when the model has a
    /// chat template, plain otherwise).
    #[arg(long)]
    pub prompt: Option<String>,
    /// Items scored per forward pass.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Also list every item: prompt ids, each choice's ids and log-probability, the choice made.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub device: Device,
    #[arg(long)]
    pub threads: Option<i32>,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Where everything is written.
    #[arg(long, default_value = "kale-demo")]
    pub out: PathBuf,
    /// A reduced configuration (for CI): a smaller world, shorter training.
    #[arg(long)]
    pub quick: bool,
    /// Size of the generated world (default 450, 260 with --quick).
    #[arg(long)]
    pub entities: Option<usize>,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Args)]
pub struct ExperimentArgs {
    /// A JSON configuration (sizes, objectives, epochs...; see the README); fields left out keep
    /// their defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// world or wordnet (a small model trained from scratch); with --model also wikidata, csqa,
    /// arc-easy, arc-challenge, obqa (`scripts/setup.sh --data` fetches them).
    #[arg(long)]
    pub data: Option<DataSource>,
    /// A pretrained model directory to fine-tune with LoRA (e.g. `kale import-gguf` of
    /// SmolLM2-135M-Instruct) instead of training a small model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// With --model: questions to fine-tune on and held out, per seed.
    #[arg(long)]
    pub train: Option<usize>,
    #[arg(long)]
    pub test: Option<usize>,
    /// With --model: the prompt format (default: the data's lm-evaluation-harness format).
    #[arg(long)]
    pub prompt: Option<String>,
    /// With --model: epochs of fine-tuning per objective.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// With --model: cpu, cuda or cuda:N.
    #[arg(long)]
    pub device: Option<String>,
    /// Where `scripts/setup.sh --data` put the real data.
    #[arg(long, default_value = ".cache/data")]
    pub data_dir: PathBuf,
    /// libtorch threads (default: all cores).
    #[arg(long)]
    pub threads: Option<i32>,
    /// Independent runs (each with its own world or questions, split and initialisation).
    #[arg(long, default_value_t = 3)]
    pub seeds: usize,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Objectives to compare, comma-separated: sft, ka, ka+sft, rationale-sft; `ka@q||p` or
    /// `ka@jsd` for another divergence.
    #[arg(long, value_delimiter = ',', value_parser = ObjectiveSpec::parse)]
    pub objectives: Option<Vec<ObjectiveSpec>>,
    #[arg(long, default_value = "kale-experiment")]
    pub out: PathBuf,
    /// Keep each seed's store (removed by default: they are regenerated from the seed).
    #[arg(long)]
    pub keep_stores: bool,
    /// Who writes the rationales (with --model).
    #[command(flatten)]
    pub writer: WriterArgs,
}

#[derive(Args)]
pub struct PathArgs {
    pub store: PathBuf,
    /// Source IRIs, comma-separated.
    #[arg(long)]
    pub from: Option<String>,
    /// Target IRIs, comma-separated.
    #[arg(long)]
    pub to: Option<String>,
    /// A TSV file of queries, one `FROM<TAB>TO` per line (each side comma-separated IRIs); run in
    /// parallel, printed in input order.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub pairs: Option<PathBuf>,
    /// One JSON object per query: {"paths":[{"hops":[{"s","p","o","forward"}]}],"truncated":..}.
    #[arg(long)]
    pub json: bool,
    /// Language of the labels shown beside IRIs.
    #[arg(long, default_value = "en")]
    pub lang: String,
    #[command(flatten)]
    pub filter: PathFilterArgs,
}

#[derive(Args, Clone)]
pub struct PathFilterArgs {
    /// Longest path, in hops.
    #[arg(long, default_value_t = 3)]
    pub max_hops: u32,
    /// Most paths per query.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Hub cap: entities with more edges than this are met, never walked (see above); 0: no cap.
    #[arg(long, default_value_t = kg_store::paths::DEFAULT_MAX_DEGREE)]
    pub max_degree: u64,
    /// Only these predicates (comma-separated IRIs; repeatable).
    #[arg(long)]
    pub allow: Vec<String>,
    /// Never these predicates (comma-separated IRIs; repeatable).
    #[arg(long)]
    pub deny: Vec<String>,
    /// Walk edges only from subject to object.
    #[arg(long)]
    pub forward_only: bool,
    /// Time budget per query, in milliseconds.
    #[arg(long)]
    pub timeout_ms: Option<u64>,
}

#[derive(Subcommand)]
pub enum GenCommand {
    /// A generated Wikidata-shaped world as N-Triples; deterministic per seed.
    World {
        #[arg(long)]
        out: PathBuf,
        /// About how many entities (about 11 triples each).
        #[arg(long, default_value_t = 2_000)]
        entities: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Write Wikidata's vocabulary (wd:Q…, wdt:P…, wikibase:directClaim) with labels in
        /// this many languages (1 to 60; en, fr, de, es, … first) instead of kale.example's.
        #[arg(long)]
        languages: Option<usize>,
    },
    /// Multiple-choice questions over a generated world (regenerated from --entities and
    /// --seed: use the values of `kale gen world`), with their single-hop fact checks.
    Qa {
        #[arg(long)]
        out: PathBuf,
        /// Where the fact-check questions go (default: beside --out, `.facts.jsonl`).
        #[arg(long)]
        facts: Option<PathBuf>,
        #[arg(long, default_value_t = 2_000)]
        entities: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 1_000)]
        questions: usize,
        /// Question templates to use, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        templates: Vec<String>,
    },
    /// BIG-bench's qa_wikidata facts (real Wikidata facts) as N-Triples with labels, and 2-hop
    /// questions over them ("What is the capital of the country of citizenship of X?") with
    /// their single-hop fact checks. Writes OUT/facts.nt, OUT/questions.jsonl and
    /// OUT/questions.facts.jsonl.
    WikidataFacts {
        /// The task file (`scripts/setup.sh --data` fetches it).
        #[arg(long, default_value = ".cache/data/qa_wikidata/task.json")]
        task: PathBuf,
        /// The directory to write (keep it out of version control: BIG-bench's canary).
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1_000)]
        questions: usize,
        /// Questions per bridge entity and second relation at most.
        #[arg(long, default_value_t = 5)]
        per_bridge: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// WordNet (Debian's wordnet-base) as N-Triples, optionally with questions over it.
    Wordnet {
        #[arg(long)]
        out: PathBuf,
        /// The WordNet database directory.
        #[arg(long, default_value = kale_datasets::wordnet::DEFAULT_DICT)]
        dict: PathBuf,
        /// Also write questions ("Which of these is a kind of vehicle?") here.
        #[arg(long)]
        qa: Option<PathBuf>,
        #[arg(long, default_value_t = 1_000)]
        questions: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Args)]
pub struct LoadArgs {
    pub store: PathBuf,
    /// Files to load; `-` reads standard input (uncompressed, with --format), e.g.
    /// `lbzip2 -dc latest-truthy.nt.bz2 | kale load store/ - --format nt`.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The syntax (default: told by each file's extension).
    #[arg(long)]
    pub format: Option<InputFormat>,
    /// Base IRI for relative IRIs (Turtle, TriG, RDF/XML).
    #[arg(long)]
    pub base: Option<String>,
    /// Skip malformed lines (counting and reporting the first few) instead of stopping.
    #[arg(long)]
    pub lenient: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Memory the process may hold while it loads, e.g. 4G, 512M (default 4G): what kale holds
    /// before it reads a byte (about 125 MB) and its chunks in flight (4 MiB each, three a
    /// thread and one) come off it.
    #[arg(long, value_parser = parse_size)]
    pub memory_limit: Option<usize>,
    /// Keep labels, alternative labels, names and descriptions in these languages only
    /// (comma-separated tags; `en` also keeps `en-gb`); text with no language tag and every
    /// other triple are kept. Default: all languages.
    #[arg(long, value_parser = LanguageFilter::parse)]
    pub languages: Option<LanguageFilter>,
}

#[derive(Args)]
pub struct TriplesArgs {
    pub store: PathBuf,
    /// Subject IRI (with or without <>).
    #[arg(long = "s")]
    pub subject: Option<String>,
    /// Predicate IRI.
    #[arg(long = "p")]
    pub predicate: Option<String>,
    /// Object: an IRI or an N-Triples literal such as '"Sun"@en' or '"5"^^<http://www.w3.org/2001/XMLSchema#integer>'.
    #[arg(long = "o")]
    pub object: Option<String>,
    /// At most this many triples.
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Bulk-load a file into a fresh store and report triples/s, peak memory and bytes per triple.
    Load {
        file: PathBuf,
        /// Where to build the store (default: a temporary directory, removed afterwards).
        #[arg(long)]
        store: Option<PathBuf>,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, value_parser = parse_size)]
        memory_limit: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Time a set of SPARQL queries (one per .rq file): median of --runs after a warm-up.
    Sparql {
        store: PathBuf,
        /// A directory of .rq files, or one file.
        #[arg(long)]
        queries: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Also time `kale paths` from this IRI (to --path-to) to compare with the path service.
        #[arg(long, requires = "path_to")]
        path_from: Option<String>,
        #[arg(long)]
        path_to: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Path queries between random entity pairs (seeded): pairs/s, latency percentiles, paths
    /// found, share truncated.
    Paths {
        store: PathBuf,
        /// How many random pairs.
        #[arg(long, default_value_t = 10_000)]
        pairs: usize,
        #[arg(long, default_value_t = 3)]
        max_hops: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        forward_only: bool,
        /// Hub cap (0: none).
        #[arg(long, default_value_t = kg_store::paths::DEFAULT_MAX_DEGREE)]
        max_degree: u64,
        /// How pairs are drawn.
        #[arg(long, value_enum, default_value_t = PairSample::Random)]
        sample: PairSample,
        /// Also write the pairs as TSV (for the side-by-side oxigraph script).
        #[arg(long)]
        save_pairs: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Training throughput (tokens/s) of a small Llama with the sft and ka objectives on
    /// synthetic batches; `benches/pytorch_train.py` runs the same in PyTorch.
    Train(BenchTrainArgs),
    /// Generation speed (new tokens/s) of a model per batch size, with and without the KV
    /// cache; `benches/transformers_generate.py` runs transformers' `generate` on the same
    /// prompts (`benches/generate.sh` runs both).
    Generate(BenchGenerateArgs),
}

#[derive(Args, Clone, Debug)]
pub struct BenchGenerateArgs {
    /// The model directory (e.g. SmolLM2 from `kale import-gguf`).
    #[arg(long)]
    pub model: PathBuf,
    /// Tokens per prompt.
    #[arg(long, default_value_t = 200)]
    pub prompt: usize,
    /// New tokens per sequence (the stop tokens are ruled out until then).
    #[arg(long, default_value_t = 64)]
    pub new_tokens: usize,
    /// Batch sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    pub batches: Vec<usize>,
    /// KV cache settings to measure, comma-separated: on, off.
    #[arg(long, value_delimiter = ',', default_value = "on,off", value_parser = parse_on_off)]
    pub cache: Vec<bool>,
    /// Timed calls per setting with the cache (after one short untimed call per batch size).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Timed calls per setting without the cache.
    #[arg(long, default_value_t = 1)]
    pub uncached_runs: usize,
    #[arg(long, default_value_t = 2)]
    pub threads: i32,
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub device: Device,
    /// Also write the prompts and stop tokens as JSON (the transformers script reads them).
    #[arg(long)]
    pub save_prompts: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{s:?}: use on or off")),
    }
}

#[derive(Args, Clone, Debug)]
pub struct BenchTrainArgs {
    #[arg(long, default_value_t = 4)]
    pub layers: i64,
    #[arg(long, default_value_t = 256)]
    pub hidden: i64,
    #[arg(long, default_value_t = 4)]
    pub heads: i64,
    #[arg(long, default_value_t = 4096)]
    pub vocab: i64,
    /// Examples per step.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Tokens of x (question and choices).
    #[arg(long, default_value_t = 48)]
    pub prompt: usize,
    /// Tokens of y (the answer).
    #[arg(long, default_value_t = 16)]
    pub answer: usize,
    /// Tokens of r (the rationale the ka teacher reads).
    #[arg(long, default_value_t = 32)]
    pub rationale: usize,
    /// Timed steps per objective (after --warmup untimed ones).
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    #[arg(long, default_value_t = 2)]
    pub threads: i32,
    /// Objectives, comma-separated: sft, ka (the frozen teacher kept as its top-k
    /// distributions, computed once), ka-uncached (the teacher run every step), ka+sft.
    #[arg(long, value_delimiter = ',', default_value = "sft,ka,ka-uncached")]
    pub objectives: Vec<String>,
    #[arg(long, default_value = "cpu", value_parser = parse_device)]
    pub device: Device,
    /// A pretrained model directory (e.g. SmolLM2 from `kale import-gguf`) instead of a fresh
    /// small Llama; --layers, --hidden, --heads and --vocab are then the model's.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Train LoRA adapters of this rank (with --model: the setting the method is run in).
    #[arg(long)]
    pub lora_r: Option<i64>,
    #[arg(long, default_value_t = 32.0)]
    pub lora_alpha: f64,
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "q_proj,k_proj,v_proj,o_proj"
    )]
    pub lora_targets: Vec<String>,
    /// The kept teacher's k.
    #[arg(long, default_value_t = kale_trainer::train::DEFAULT_TEACHER_TOP_K)]
    pub teacher_top_k: usize,
    #[arg(long)]
    pub json: bool,
}
