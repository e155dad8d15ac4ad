//! Data written to files, as `kale gen` writes it: the generated world and its questions,
//! BIG-bench's Wikidata facts as a graph with 2-hop questions, WordNet as a graph with its
//! questions. Each function returns what it wrote, for the caller to report.

use crate::error::{DatasetError, Result};
use crate::qa::{write_items, QaItem};
use crate::wikidata_facts::{FactsQaConfig, WikidataFacts};
use crate::wordnet::WordNet;
use crate::world::{
    generate_qa, label_languages, GeneratedQa, QaConfig, World, WorldConfig, LABEL_LANGUAGES,
};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes a file through a buffer with `write` (which returns what it counted) and flushes it;
/// any I/O error names the file.
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<u64>,
) -> Result<u64> {
    let io = || DatasetError::io(path, None);
    let mut writer = BufWriter::with_capacity(1 << 20, File::create(path).map_err(io())?);
    let count = write(&mut writer).map_err(io())?;
    writer.flush().map_err(io())?;
    Ok(count)
}

/// Questions and their fact checks, written side by side.
#[derive(Clone, Debug)]
pub struct WrittenQa {
    pub questions: PathBuf,
    pub question_count: usize,
    pub facts: PathBuf,
    pub fact_count: usize,
}

fn write_qa(
    questions: &Path,
    items: &[QaItem],
    facts: &Path,
    checks: &[QaItem],
) -> Result<WrittenQa> {
    write_items(questions, items)?;
    write_items(facts, checks)?;
    Ok(WrittenQa {
        questions: questions.to_owned(),
        question_count: items.len(),
        facts: facts.to_owned(),
        fact_count: checks.len(),
    })
}

impl std::fmt::Display for WrittenQa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "wrote {} questions to {} and {} fact checks to {}",
            self.question_count,
            self.questions.display(),
            self.fact_count,
            self.facts.display()
        )
    }
}

/// Where a fact-check file goes by default: beside the questions, `.facts.jsonl`.
pub fn facts_path(questions: &Path) -> PathBuf {
    questions.with_extension("facts.jsonl")
}

/// The generated world as N-Triples: its entity and triple counts.
pub fn world(out: &Path, config: WorldConfig) -> Result<(usize, u64)> {
    world_in(out, config, None)
}

/// [`world`], in Wikidata's vocabulary with labels in `languages` languages when given (see
/// [`World::write_wikidata_ntriples`]).
pub fn world_in(out: &Path, config: WorldConfig, languages: Option<usize>) -> Result<(usize, u64)> {
    let languages = languages
        .map(|n| {
            label_languages(n).ok_or_else(|| {
                DatasetError::Config(format!(
                    "--languages {n}: give 1 to {} label languages",
                    LABEL_LANGUAGES.len()
                ))
            })
        })
        .transpose()?;
    let world = World::generate(config);
    let triples = match languages {
        Some(languages) => write_file(out, |w| world.write_wikidata_ntriples(w, languages))?,
        None => write_file(out, |w| world.write_ntriples(w))?,
    };
    Ok((world.entities.len(), triples))
}

/// Questions over the generated world (regenerated from its configuration) and their fact
/// checks (default file: [`facts_path`]).
pub fn world_qa(
    out: &Path,
    facts: Option<&Path>,
    world: WorldConfig,
    config: &QaConfig,
) -> Result<WrittenQa> {
    let world = World::generate(world);
    let GeneratedQa {
        questions,
        facts: checks,
    } = generate_qa(&world, config)?;
    let facts = facts.map_or_else(|| facts_path(out), Path::to_owned);
    write_qa(out, &questions, &facts, &checks)
}

/// What [`wikidata_facts`] wrote.
#[derive(Clone, Debug)]
pub struct WikidataFiles {
    pub facts: usize,
    /// Prompts of no known shape, skipped.
    pub skipped: usize,
    pub graph: PathBuf,
    pub triples: u64,
    pub qa: WrittenQa,
}

/// BIG-bench's qa_wikidata task as `OUT/facts.nt` with labels, and 2-hop questions over it
/// (`OUT/questions.jsonl`, `OUT/questions.facts.jsonl`).
pub fn wikidata_facts(task: &Path, out: &Path, config: &FactsQaConfig) -> Result<WikidataFiles> {
    let facts = WikidataFacts::read(task)?;
    std::fs::create_dir_all(out).map_err(DatasetError::io(out, None))?;
    let graph = out.join("facts.nt");
    let triples = write_file(&graph, |w| facts.write_ntriples(w))?;
    let (items, checks) = facts.generate_qa(config);
    let questions = out.join("questions.jsonl");
    let qa = write_qa(&questions, &items, &facts_path(&questions), &checks)?;
    Ok(WikidataFiles {
        facts: facts.facts.len(),
        skipped: facts.skipped.len(),
        graph,
        triples,
        qa,
    })
}

/// What [`wordnet`] wrote.
#[derive(Clone, Debug)]
pub struct WordNetFiles {
    pub synsets: usize,
    pub triples: u64,
    pub qa: Option<WrittenQa>,
}

/// WordNet's database at `dict` as N-Triples, and with `qa` (file, how many, seed) questions
/// over it with their fact checks.
pub fn wordnet(dict: &Path, out: &Path, qa: Option<(&Path, usize, u64)>) -> Result<WordNetFiles> {
    let wordnet = WordNet::read(dict)?;
    let triples = write_file(out, |w| wordnet.write_ntriples(w))?;
    let qa = match qa {
        Some((file, questions, seed)) => {
            let (items, facts) = wordnet.generate_qa(questions, seed);
            Some(write_qa(file, &items, &facts_path(file), &facts)?)
        }
        None => None,
    };
    Ok(WordNetFiles {
        synsets: wordnet.synsets.len(),
        triples,
        qa,
    })
}
