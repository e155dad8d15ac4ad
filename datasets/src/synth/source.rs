//! Who wrote a synthesised item's rationale: a leaf the item type and the writers both name.

use serde::Serialize;

/// Who wrote an item's rationale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RationaleSource {
    /// The verbalised paths, as asked.
    #[default]
    Template,
    /// A language model, and the text passed the grounding check.
    Writer,
    /// A language model was asked, but its text was refused: the template stands.
    Fallback,
}
