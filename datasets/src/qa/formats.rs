//! Readers of the QA formats, and the writer of the plain one.

use super::QaItem;
use crate::error::DatasetError;
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

/// The dataset formats (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "lower")]
pub enum QaFormat {
    /// CommonsenseQA, OpenBookQA and ARC as released (`question.stem`, `question.choices`).
    #[value(aliases = ["commonsenseqa", "obqa", "openbookqa", "arc"])]
    Csqa,
    /// The flattened form Hugging Face `datasets` writes.
    #[value(alias = "huggingface")]
    Hf,
    /// MMLU's headerless CSV.
    #[value(alias = "csv")]
    Mmlu,
    Race,
    /// One `{"question", "choices", "answer"}` object per line.
    #[value(alias = "jsonl")]
    Plain,
}

impl QaFormat {
    /// The format of a name or alias, in any case.
    pub fn from_name(name: &str) -> Option<Self> {
        <Self as clap::ValueEnum>::from_str(name, true).ok()
    }
}

fn io(file: &Path) -> impl FnOnce(std::io::Error) -> DatasetError {
    DatasetError::io(file, None)
}

fn record(file: &Path, line: usize, message: impl Into<String>) -> DatasetError {
    DatasetError::Record {
        file: file.to_owned(),
        line,
        message: message.into(),
    }
}

/// Tells the format from the extension and the first record.
pub fn detect_format(file: &Path) -> Result<QaFormat, DatasetError> {
    let extension = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if extension == "csv" {
        return Ok(QaFormat::Mmlu);
    }
    let reader = BufReader::new(File::open(file).map_err(io(file))?);
    for line in reader.lines() {
        let line = line.map_err(io(file))?;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        // A pretty-printed JSON file starts with a lone brace: RACE's one-article files.
        if text == "{" || extension == "json" {
            return Ok(QaFormat::Race);
        }
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            break;
        };
        if value.get("question").is_some_and(Value::is_object) {
            return Ok(QaFormat::Csqa);
        }
        if value.get("choices").is_some_and(Value::is_object) {
            return Ok(QaFormat::Hf);
        }
        if value.get("article").is_some() {
            return Ok(QaFormat::Race);
        }
        if value.get("choices").is_some_and(Value::is_array) {
            return Ok(QaFormat::Plain);
        }
        break;
    }
    Err(DatasetError::UnknownFormat {
        file: file.to_owned(),
    })
}

/// Reads every item of a file, in file order.
pub fn read_items(file: &Path, format: Option<QaFormat>) -> Result<Vec<QaItem>, DatasetError> {
    let format = match format {
        Some(f) => f,
        None => detect_format(file)?,
    };
    match format {
        QaFormat::Mmlu => read_mmlu(file),
        QaFormat::Race => read_race(file),
        QaFormat::Csqa | QaFormat::Hf | QaFormat::Plain => {
            let reader = BufReader::new(File::open(file).map_err(io(file))?);
            let mut items = Vec::new();
            for (i, line) in reader.lines().enumerate() {
                let line = line.map_err(io(file))?;
                if line.trim().is_empty() {
                    continue;
                }
                let value: Value = serde_json::from_str(&line)
                    .map_err(|e| record(file, i + 1, format!("not JSON: {e}")))?;
                let item = match format {
                    QaFormat::Csqa => csqa_item(&value, file, i + 1)?,
                    QaFormat::Hf => hf_item(&value, file, i + 1)?,
                    _ => plain_item(&value, file, i + 1)?,
                };
                items.push(item);
            }
            Ok(items)
        }
    }
}

fn str_field<'a>(
    value: &'a Value,
    name: &str,
    file: &Path,
    line: usize,
) -> Result<&'a str, DatasetError> {
    value
        .get(name)
        .ok_or_else(|| record(file, line, format!("missing field `{name}`")))?
        .as_str()
        .ok_or_else(|| record(file, line, format!("field `{name}` is not a string")))
}

fn id_or(value: &Value, file: &Path, line: usize) -> String {
    match value.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => format!(
            "{}-{line}",
            file.file_stem().and_then(|s| s.to_str()).unwrap_or("item")
        ),
    }
}

fn csqa_item(value: &Value, file: &Path, line: usize) -> Result<QaItem, DatasetError> {
    let question = value
        .get("question")
        .ok_or_else(|| record(file, line, "missing field `question`"))?;
    let stem = str_field(question, "stem", file, line)
        .map_err(|_| record(file, line, "missing field `question.stem`"))?;
    let choices = question
        .get("choices")
        .and_then(Value::as_array)
        .ok_or_else(|| record(file, line, "missing field `question.choices`"))?;
    let mut labels = Vec::new();
    let mut texts = Vec::new();
    for (n, choice) in choices.iter().enumerate() {
        let label = choice.get("label").and_then(Value::as_str).ok_or_else(|| {
            record(
                file,
                line,
                format!("`question.choices[{n}].label` is missing"),
            )
        })?;
        let text = choice.get("text").and_then(Value::as_str).ok_or_else(|| {
            record(
                file,
                line,
                format!("`question.choices[{n}].text` is missing"),
            )
        })?;
        labels.push(label.to_owned());
        texts.push(text.to_owned());
    }
    let answer = answer_by_key(value, &labels, file, line)?;
    Ok(QaItem {
        id: id_or(value, file, line),
        question: stem.to_owned(),
        context: None,
        choices: texts,
        answer,
        facts: Vec::new(),
        kind: None,
        concept: question
            .get("question_concept")
            .and_then(Value::as_str)
            .map(str::to_owned),
        relations: Vec::new(),
    })
}

/// The index of the choice `answerKey` names among `labels`.
fn answer_by_key(
    value: &Value,
    labels: &[String],
    file: &Path,
    line: usize,
) -> Result<usize, DatasetError> {
    let key = str_field(value, "answerKey", file, line)?;
    labels.iter().position(|l| l == key).ok_or_else(|| {
        record(
            file,
            line,
            format!("`answerKey` {key:?} is not one of the choice labels {labels:?}"),
        )
    })
}

/// The strings of `choices.{name}`, a list.
fn choice_list(
    choices: &Value,
    name: &str,
    file: &Path,
    line: usize,
) -> Result<Vec<String>, DatasetError> {
    choices
        .get(name)
        .and_then(Value::as_array)
        .ok_or_else(|| {
            record(
                file,
                line,
                format!("missing field `choices.{name}` (a list)"),
            )
        })?
        .iter()
        .enumerate()
        .map(|(n, v)| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| record(file, line, format!("`choices.{name}[{n}]` is not a string")))
        })
        .collect()
}

/// One record as Hugging Face `datasets` writes CommonsenseQA, ARC and OpenBookQA: the question
/// flat (`question`, or OpenBookQA's `question_stem`), `choices` as two parallel lists.
fn hf_item(value: &Value, file: &Path, line: usize) -> Result<QaItem, DatasetError> {
    let question = match value.get("question_stem") {
        Some(_) => str_field(value, "question_stem", file, line)?,
        None => str_field(value, "question", file, line)?,
    };
    let choices = value
        .get("choices")
        .filter(|c| c.is_object())
        .ok_or_else(|| {
            record(
                file,
                line,
                "missing field `choices` (an object with `label` and `text` lists)",
            )
        })?;
    let labels = choice_list(choices, "label", file, line)?;
    let texts = choice_list(choices, "text", file, line)?;
    if labels.len() != texts.len() {
        return Err(record(
            file,
            line,
            format!(
                "`choices.label` has {} entries but `choices.text` {}",
                labels.len(),
                texts.len()
            ),
        ));
    }
    if texts.len() < 2 {
        return Err(record(file, line, "`choices` needs at least two choices"));
    }
    let answer = answer_by_key(value, &labels, file, line)?;
    Ok(QaItem {
        id: id_or(value, file, line),
        question: question.to_owned(),
        context: None,
        choices: texts,
        answer,
        facts: Vec::new(),
        kind: None,
        concept: value
            .get("question_concept")
            .and_then(Value::as_str)
            .map(str::to_owned),
        relations: Vec::new(),
    })
}

/// One record of the plain JSONL format (`question`, `choices`, `answer`, ...); `file` and `line`
/// name it in errors.
pub fn plain_item(value: &Value, file: &Path, line: usize) -> Result<QaItem, DatasetError> {
    let question = str_field(value, "question", file, line)?.to_owned();
    let choices: Vec<String> = value
        .get("choices")
        .and_then(Value::as_array)
        .ok_or_else(|| record(file, line, "missing field `choices` (a list of strings)"))?
        .iter()
        .enumerate()
        .map(|(n, c)| {
            c.as_str()
                .map(str::to_owned)
                .ok_or_else(|| record(file, line, format!("`choices[{n}]` is not a string")))
        })
        .collect::<Result<_, _>>()?;
    if choices.len() < 2 {
        return Err(record(file, line, "`choices` needs at least two choices"));
    }
    let answer = match value.get("answer") {
        Some(Value::Number(n)) => n
            .as_u64()
            .map(|n| n as usize)
            .filter(|&n| n < choices.len())
            .ok_or_else(|| {
                record(
                    file,
                    line,
                    format!(
                        "`answer` {n} is not an index of the {} choices",
                        choices.len()
                    ),
                )
            })?,
        Some(Value::String(s)) => choices
            .iter()
            .position(|c| c == s)
            .ok_or_else(|| record(file, line, format!("`answer` {s:?} is none of the choices")))?,
        _ => {
            return Err(record(
                file,
                line,
                "missing field `answer` (an index or the choice's text)",
            ))
        }
    };
    let facts = value
        .get("facts")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(QaItem {
        id: id_or(value, file, line),
        question,
        context: value
            .get("context")
            .and_then(Value::as_str)
            .map(str::to_owned),
        choices,
        answer,
        facts,
        // MMLU as `datasets` writes it names its subject.
        kind: value
            .get("kind")
            .or_else(|| value.get("subject"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        concept: value
            .get("concept")
            .and_then(Value::as_str)
            .map(str::to_owned),
        relations: value
            .get("relations")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

fn letter_index(letter: &str) -> Option<usize> {
    let c = letter.trim().chars().next()?;
    c.is_ascii_uppercase().then(|| (c as u8 - b'A') as usize)
}

fn read_mmlu(file: &Path) -> Result<Vec<QaItem>, DatasetError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(file)
        .map_err(|e| record(file, 0, e.to_string()))?;
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("mmlu")
        .to_owned();
    let mut items = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = row
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i + 1, |p| p.line() as usize);
        let row = row.map_err(|e| record(file, line, e.to_string()))?;
        if row.len() < 4 {
            return Err(record(
                file,
                line,
                format!(
                    "{} columns; expected question, choices..., answer",
                    row.len()
                ),
            ));
        }
        let choices: Vec<String> = row
            .iter()
            .skip(1)
            .take(row.len() - 2)
            .map(str::to_owned)
            .collect();
        let answer_field = &row[row.len() - 1];
        let answer = letter_index(answer_field)
            .filter(|&a| a < choices.len())
            .ok_or_else(|| {
                record(
                    file,
                    line,
                    format!(
                        "answer {answer_field:?} is not a letter among the {} choices",
                        choices.len()
                    ),
                )
            })?;
        items.push(QaItem {
            id: format!("{stem}-{line}"),
            question: row[0].to_owned(),
            context: None,
            choices,
            answer,
            facts: Vec::new(),
            kind: None,
            concept: None,
            relations: Vec::new(),
        });
    }
    Ok(items)
}

fn read_race(file: &Path) -> Result<Vec<QaItem>, DatasetError> {
    let text = std::fs::read_to_string(file).map_err(io(file))?;
    // One article per file (RACE as distributed) or one per line.
    let articles: Vec<(usize, Value)> = match serde_json::from_str::<Value>(&text) {
        Ok(value) => vec![(1, value)],
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map(|v| (i + 1, v))
                    .map_err(|e| record(file, i + 1, format!("not JSON: {e}")))
            })
            .collect::<Result<_, _>>()?,
    };
    let mut items = Vec::new();
    for (line, article) in articles {
        let context = str_field(&article, "article", file, line)?.to_owned();
        let array = |name: &str| -> Result<&Vec<Value>, DatasetError> {
            article
                .get(name)
                .and_then(Value::as_array)
                .ok_or_else(|| record(file, line, format!("missing array `{name}`")))
        };
        let (questions, options, answers) =
            (array("questions")?, array("options")?, array("answers")?);
        if questions.len() != options.len() || questions.len() != answers.len() {
            return Err(record(
                file,
                line,
                "`questions`, `options` and `answers` differ in length",
            ));
        }
        let base = id_or(&article, file, line);
        for (n, question) in questions.iter().enumerate() {
            let question = question
                .as_str()
                .ok_or_else(|| record(file, line, format!("`questions[{n}]` is not a string")))?;
            let choices: Vec<String> = options[n]
                .as_array()
                .ok_or_else(|| record(file, line, format!("`options[{n}]` is not a list")))?
                .iter()
                .map(|o| o.as_str().unwrap_or_default().to_owned())
                .collect();
            let answer = answers[n]
                .as_str()
                .and_then(letter_index)
                .filter(|&a| a < choices.len())
                .ok_or_else(|| {
                    record(
                        file,
                        line,
                        format!("`answers[{n}]` is not a letter among the choices"),
                    )
                })?;
            items.push(QaItem {
                id: format!("{base}-{n}"),
                question: question.to_owned(),
                context: Some(context.clone()),
                choices,
                answer,
                facts: Vec::new(),
                kind: None,
                concept: None,
                relations: Vec::new(),
            });
        }
    }
    Ok(items)
}

/// Writes items as plain JSONL (the format every command here reads back).
pub fn write_items<T: serde::Serialize>(file: &Path, items: &[T]) -> Result<(), DatasetError> {
    let out = File::create(file).map_err(io(file))?;
    let mut out = BufWriter::new(out);
    for item in items {
        serde_json::to_writer(&mut out, item).map_err(|e| io(file)(e.into()))?;
        out.write_all(b"\n").map_err(io(file))?;
    }
    out.flush().map_err(io(file))
}
