//! The prompt a rationale writer reads: a text template with `{question}`, `{choices}`,
//! `{answer}` and `{facts}` (the item's paths verbalised, one per line), shipped as
//! `datasets/prompts/rationale.txt` and overridable by a file of the same form.

use crate::error::{DatasetError, Result};
use crate::synth::rationale::capitalise;
use crate::synth::{Synthesized, Template};
use std::path::Path;

/// The built-in prompt.
pub const DEFAULT_PROMPT: &str = include_str!("../../../prompts/rationale.txt");

/// The placeholders a prompt may use; `{facts}` and `{answer}` must appear, or the writer
/// could not be asked to use the facts for the gold answer.
const REQUIRED: [&str; 2] = ["{facts}", "{answer}"];

/// A rationale prompt template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptTemplate {
    text: String,
}

impl Default for PromptTemplate {
    fn default() -> Self {
        Self {
            text: DEFAULT_PROMPT.to_owned(),
        }
    }
}

impl PromptTemplate {
    /// A template from its text; it must name `{facts}` and `{answer}`.
    pub fn new(text: String) -> Result<Self> {
        if let Some(missing) = REQUIRED.iter().find(|p| !text.contains(**p)) {
            return Err(DatasetError::Config(format!(
                "the rationale prompt does not use {missing} (it may use {{question}}, {{choices}}, {{answer}} and {{facts}})"
            )));
        }
        Ok(Self { text })
    }

    /// The template in `file`.
    pub fn read(file: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(file).map_err(DatasetError::io(file, None))?;
        Self::new(text).map_err(|e| DatasetError::Format {
            file: file.to_owned(),
            message: e.to_string(),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The prompt for one item; its paths read as the template rationale reads them.
    pub fn render(&self, item: &Synthesized, template: &Template) -> String {
        let facts: Vec<String> = item
            .paths
            .iter()
            .map(|path| {
                let hops: Vec<String> = path
                    .hops
                    .iter()
                    .map(|h| template.sentence(&h.s_label, &h.p_label, &h.o_label))
                    .collect();
                format!("- {}.", capitalise(&hops.join("; ")))
            })
            .collect();
        let choices: Vec<String> = item
            .item
            .choices
            .iter()
            .enumerate()
            .map(|(i, c)| format!("({}) {c}", char::from(b'A' + (i % 26) as u8)))
            .collect();
        let values = [
            ("{question}", item.item.question.clone()),
            ("{choices}", choices.join(" ")),
            ("{answer}", item.item.answer_text().to_owned()),
            ("{facts}", facts.join("\n")),
        ];
        // One pass over the template, so a placeholder inside a question is left as it is.
        let mut out = String::with_capacity(self.text.len() + 256);
        let mut rest = self.text.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            match values.iter().find(|(p, _)| rest.starts_with(p)) {
                Some((p, value)) => {
                    out.push_str(value);
                    rest = &rest[p.len()..];
                }
                None => {
                    out.push('{');
                    rest = &rest[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}
