//! How a question becomes a prompt: x (question and choices), x with the rationale r, and the
//! answer y the model is trained and scored on.
//!
//! Default templates (`{context}` renders as `Context: ...\n` when the item has one):
//!
//! ```text
//! {context}Question: {question}
//! Choices: {choices}
//! Answer: <y>
//!
//! {context}Question: {question}
//! Choices: {choices}
//! Facts: {rationale}
//! Answer: <y>
//! ```
//!
//! y is the correct choice's text after a space, then the end-of-text token. Both prompts end the
//! same way, so the answer tokens of the student (no rationale) and the teacher line up.

use kale_datasets::qa::QaItem;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptTemplate {
    pub question: String,
    pub with_rationale: String,
}

impl Default for PromptTemplate {
    fn default() -> Self {
        Self {
            question: "{context}Question: {question}\nChoices: {choices}\nAnswer:".into(),
            with_rationale:
                "{context}Question: {question}\nChoices: {choices}\nFacts: {rationale}\nAnswer:"
                    .into(),
        }
    }
}

impl PromptTemplate {
    /// x, or x with the rationale.
    pub fn render(&self, item: &QaItem, rationale: Option<&str>) -> String {
        let template = if rationale.is_some() {
            &self.with_rationale
        } else {
            &self.question
        };
        let context = item
            .context
            .as_deref()
            .map_or(String::new(), |c| format!("Context: {c}\n"));
        template
            .replace("{context}", &context)
            .replace("{question}", &item.question)
            .replace("{choices}", &item.choices.join(", "))
            .replace("{rationale}", rationale.unwrap_or(""))
    }

    /// The text of a choice as the model continues the prompt with it.
    pub fn answer_text(choice: &str) -> String {
        format!(" {choice}")
    }
}
