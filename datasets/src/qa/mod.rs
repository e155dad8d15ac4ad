//! Question-answering datasets: one item type, read from the formats users have on disk.
//!
//! | format | file | what a record looks like |
//! | --- | --- | --- |
//! | `csqa` | JSONL | CommonsenseQA, OpenBookQA, ARC as released: `{"id", "question": {"stem", "choices": [{"label", "text"}], "question_concept"?}, "answerKey"}` |
//! | `hf` | JSONL | the same benchmarks as Hugging Face `datasets` writes them: `{"id", "question" (OpenBookQA: "question_stem"), "question_concept"?, "choices": {"label": [..], "text": [..]}, "answerKey"}` |
//! | `mmlu` | CSV | `question,A,B,C,D,answer` (no header; the answer a letter) |
//! | `race` | JSON or JSONL | `{"id", "article", "questions": [..], "options": [[..]], "answers": ["A", ..]}` |
//! | `plain` | JSONL | `{"id"?, "question", "context"?, "choices": [..], "answer": index or text}`; MMLU as `datasets` writes it (`choices` list, integer `answer`, `subject`) is read this way |
//!
//! [`read_items`] tells them apart by extension and content; errors name the file, the line and
//! the field.

mod formats;

pub use formats::{detect_format, plain_item, read_items, write_items, QaFormat};

use serde::{Deserialize, Serialize};

/// One multiple-choice question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaItem {
    pub id: String,
    pub question: String,
    /// A passage the question is about (RACE's article), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub choices: Vec<String>,
    /// Index of the correct choice.
    pub answer: usize,
    /// Ids of the single-hop fact checks behind the question (the known&incorrect rate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<String>,
    /// What kind of question it is (a generator's template name, MMLU's subject), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The concept the question is about, when the dataset names it (CommonsenseQA's
    /// `question_concept`): linked first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<String>,
    /// IRIs of the predicates along the path the question asks about, in order, when the
    /// generator knows them: what "the right path first" is measured against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<String>,
}

impl QaItem {
    pub fn answer_text(&self) -> &str {
        &self.choices[self.answer]
    }
}
