//! How a question becomes model input: a declared format, as lm-evaluation-harness declares its
//! tasks (`doc_to_text`, `doc_to_choice`, `target_delimiter`), plus the model's own chat
//! template for instruction-tuned models. Formats are data, not code paths: the presets below,
//! or any JSON file of the same fields (`--prompt FILE.json`).
//!
//! A format renders x (the prompt), x with the rationale r (the KA teacher's prompt), and for
//! each choice the continuation the model is scored and trained on: `delimiter` + `choice`.
//! The prompt with and without the rationale end identically (checked when a format is made), so
//! the answer tokens of the student and the teacher line up.
//!
//! | preset | prompt | continuation | as in the harness |
//! | --- | --- | --- | --- |
//! | `plain` | `Question: {question}\nChoices: {choices}\nAnswer:` | ` {choice}` | (kale's own) |
//! | `cloze` | `Question: {question}\nAnswer:` | ` {choice}` | `arc_easy`, `arc_challenge` |
//! | `stem` | `{question}` | ` {choice}` | `openbookqa` |
//! | `letters` | `Question: {question}\nA. ..\nB. ..\nAnswer:` | ` A` | `commonsense_qa` |
//! | `mmlu` | `The following are multiple choice questions (with answers) about {subject}.\n\n{question}\nA. ..\nAnswer:` | ` A` | `mmlu` (zero-shot) |
//!
//! With the rationale the prompt gains a `Facts: {rationale}` line before its last line (before
//! the question itself for `stem`). `{context}` renders as `Context: ...\n` when the item has a
//! passage. With `chat`, the rendered prompt is the user's turn of the model's chat template and
//! the answer is the assistant's (continuation `{choice}`).

use crate::error::{Result, TrainerError};
use crate::tokenizer::TextTokenizer;
use kale_datasets::qa::QaItem;
use serde::{Deserialize, Serialize};

/// A declared prompt format (module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptFormat {
    pub name: String,
    /// x. Placeholders: `{context}`, `{question}`, `{choices}` (comma-separated), `{lettered}`
    /// (`A. first\nB. second\n`), `{subject}` (the item's kind, underscores as spaces).
    pub text: String,
    /// x with r: the same placeholders and `{rationale}`.
    pub with_rationale: String,
    /// What a choice is scored as: `{choice}` (its text) or `{letter}` (A, B, ...).
    pub choice: String,
    /// Between the prompt and the choice (the harness's `target_delimiter`).
    pub delimiter: String,
    /// Render the prompt as the user's turn of the model's chat template.
    #[serde(default)]
    pub chat: bool,
}

const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The names of the presets.
pub const PRESETS: [&str; 6] = ["plain", "chat", "cloze", "stem", "letters", "mmlu"];

impl PromptFormat {
    fn preset(name: &str, text: &str, with_rationale: &str, choice: &str) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
            with_rationale: with_rationale.into(),
            choice: choice.into(),
            delimiter: " ".into(),
            chat: false,
        }
    }

    /// kale's own format: the choices listed in the prompt, the answer as text.
    pub fn plain() -> Self {
        Self::preset(
            "plain",
            "{context}Question: {question}\nChoices: {choices}\nAnswer:",
            "{context}Question: {question}\nChoices: {choices}\nFacts: {rationale}\nAnswer:",
            "{choice}",
        )
    }

    /// The harness's ARC format: the choices not listed, each scored as a continuation.
    pub fn cloze() -> Self {
        Self::preset(
            "cloze",
            "{context}Question: {question}\nAnswer:",
            "{context}Question: {question}\nFacts: {rationale}\nAnswer:",
            "{choice}",
        )
    }

    /// The harness's OpenBookQA format: the bare question stem.
    pub fn stem() -> Self {
        Self::preset(
            "stem",
            "{context}{question}",
            "{context}Facts: {rationale}\n{question}",
            "{choice}",
        )
    }

    /// The harness's CommonsenseQA format: lettered choices, the letter scored.
    pub fn letters() -> Self {
        Self::preset(
            "letters",
            "{context}Question: {question}\n{lettered}Answer:",
            "{context}Question: {question}\n{lettered}Facts: {rationale}\nAnswer:",
            "{letter}",
        )
    }

    /// The harness's zero-shot MMLU format.
    pub fn mmlu() -> Self {
        Self::preset(
            "mmlu",
            "The following are multiple choice questions (with answers) about {subject}.\n\n{question}\n{lettered}Answer:",
            "The following are multiple choice questions (with answers) about {subject}.\n\n{question}\n{lettered}Facts: {rationale}\nAnswer:",
            "{letter}",
        )
    }

    /// `plain` inside the model's chat template.
    pub fn chat() -> Self {
        Self {
            name: "chat".into(),
            chat: true,
            delimiter: String::new(),
            ..Self::plain()
        }
    }

    /// A preset by name, or a JSON file of the fields.
    pub fn named(name: &str) -> Result<Self> {
        let format = match name {
            "plain" => Self::plain(),
            "chat" => Self::chat(),
            "cloze" => Self::cloze(),
            "stem" => Self::stem(),
            "letters" => Self::letters(),
            "mmlu" => Self::mmlu(),
            path if path.ends_with(".json") => {
                let path = std::path::Path::new(path);
                let text = std::fs::read_to_string(path).map_err(TrainerError::io(path))?;
                serde_json::from_str(&text).map_err(|e| TrainerError::Config {
                    path: path.to_owned(),
                    message: format!("not a prompt format: {e}"),
                })?
            }
            other => {
                return Err(TrainerError::InvalidInput(format!(
                    "unknown prompt format {other:?}: use {} or a .json file",
                    PRESETS.join(", ")
                )))
            }
        };
        format.check()?;
        Ok(format)
    }

    /// The format asked for by name or file, or the model's default: the chat preset when its
    /// tokenizer carries a chat template, plain otherwise.
    pub fn for_model(name: Option<&str>, tokenizer: &TextTokenizer) -> Result<Self> {
        match name {
            Some(name) => Self::named(name),
            None if tokenizer.chat_template.is_some() => Ok(Self::chat()),
            None => Ok(Self::plain()),
        }
    }

    /// The format with its prompt inside the chat template (the answer starts the assistant's
    /// turn, so no delimiter).
    pub fn in_chat(mut self) -> Self {
        if !self.chat {
            self.chat = true;
            self.delimiter.clear();
            self.name = format!("{}+chat", self.name);
        }
        self
    }

    /// The two prompts must end alike: what follows `{rationale}` must end the plain prompt.
    pub fn check(&self) -> Result<()> {
        let bad = |message: String| {
            TrainerError::InvalidInput(format!("prompt format {:?}: {message}", self.name))
        };
        let Some((_, after)) = self.with_rationale.split_once("{rationale}") else {
            return Err(bad("`with_rationale` has no {rationale}".into()));
        };
        if !self.text.ends_with(after.trim_start()) {
            return Err(bad(format!(
                "`with_rationale` must end like `text` after its rationale ({:?} does not end {:?})",
                after.trim_start(),
                self.text
            )));
        }
        if !self.choice.contains("{choice}") && !self.choice.contains("{letter}") {
            return Err(bad("`choice` has neither {choice} nor {letter}".into()));
        }
        Ok(())
    }

    /// x, or x with the rationale, before any chat template.
    pub fn render(&self, item: &QaItem, rationale: Option<&str>) -> String {
        let template = if rationale.is_some() {
            &self.with_rationale
        } else {
            &self.text
        };
        let context = item
            .context
            .as_deref()
            .map_or(String::new(), |c| format!("Context: {c}\n"));
        let lettered: String = item
            .choices
            .iter()
            .zip(LETTERS.chars())
            .map(|(c, l)| format!("{l}. {c}\n"))
            .collect();
        let subject = item
            .kind
            .as_deref()
            .unwrap_or("general knowledge")
            .replace('_', " ");
        // Replaced in this order so a placeholder inside the data is never expanded.
        template
            .replace("{context}", &context)
            .replace("{subject}", &subject)
            .replace("{choices}", &item.choices.join(", "))
            .replace("{lettered}", &lettered)
            .replace("{rationale}", rationale.unwrap_or(""))
            .replace("{question}", &item.question)
    }

    /// The continuation that choice `index` is scored as, delimiter included.
    pub fn continuation(&self, item: &QaItem, index: usize) -> String {
        format!("{}{}", self.delimiter, self.choice_text(item, index))
    }

    /// The choice as the harness's `doc_to_choice` gives it (what `acc_norm` divides by).
    pub fn choice_text(&self, item: &QaItem, index: usize) -> String {
        let letter = LETTERS
            .chars()
            .nth(index)
            .map_or_else(|| (index + 1).to_string(), String::from);
        self.choice
            .replace("{letter}", &letter)
            .replace("{choice}", &item.choices[index])
    }

    /// The whole prompt string: rendered, and inside the chat template when `chat` is set.
    pub fn prompt(
        &self,
        tokenizer: &TextTokenizer,
        item: &QaItem,
        rationale: Option<&str>,
    ) -> Result<String> {
        let text = self.render(item, rationale);
        if self.chat {
            tokenizer.apply_chat_template(&text)
        } else {
            Ok(text)
        }
    }
}

impl Default for PromptFormat {
    fn default() -> Self {
        Self::plain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> QaItem {
        QaItem {
            id: "q".into(),
            question: "Which gas do plants take in?".into(),
            context: None,
            choices: vec!["oxygen".into(), "carbon dioxide".into()],
            answer: 1,
            facts: Vec::new(),
            kind: Some("high_school_biology".into()),
            concept: None,
            relations: Vec::new(),
        }
    }

    #[test]
    fn presets_render_the_harness_formats_and_end_alike_with_a_rationale() {
        let i = item();
        let cloze = PromptFormat::cloze();
        assert_eq!(
            cloze.render(&i, None),
            "Question: Which gas do plants take in?\nAnswer:"
        );
        assert_eq!(cloze.continuation(&i, 1), " carbon dioxide");
        assert_eq!(cloze.choice_text(&i, 1), "carbon dioxide");
        let mmlu = PromptFormat::mmlu();
        assert_eq!(
            mmlu.render(&i, None),
            "The following are multiple choice questions (with answers) about high school biology.\n\nWhich gas do plants take in?\nA. oxygen\nB. carbon dioxide\nAnswer:"
        );
        assert_eq!(mmlu.continuation(&i, 1), " B");
        for name in PRESETS {
            let f = PromptFormat::named(name).unwrap();
            let with = f.render(&i, Some("Plants take in carbon dioxide."));
            let tail = f.render(&i, None);
            let last_line = tail.rsplit('\n').next().unwrap();
            assert!(with.ends_with(last_line), "{name}: {with:?}");
            assert!(with.contains("Plants take in carbon dioxide."), "{name}");
        }
        let mut broken = PromptFormat::cloze();
        broken.with_rationale = "{rationale}\nQuestion: {question}\nReply:".into();
        assert!(broken.check().is_err());
    }
}
