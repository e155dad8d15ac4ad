//! Whether a written rationale is grounded in its item's paths: it names (by label) every entity
//! of at least one path, and it is not too long to be a short explanation. What fails is replaced
//! by the template rationale, so an ungrounded text never reaches training.

use crate::synth::{LabelledPath, Synthesized};

/// Why a written rationale was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    TooLong,
    /// It names the entities of none of the paths.
    Ungrounded,
}

/// `Ok` when `text` may stand as `item`'s rationale.
pub fn check(text: &str, item: &Synthesized, max_chars: usize) -> Result<(), Refusal> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Refusal::Empty);
    }
    if text.chars().count() > max_chars {
        return Err(Refusal::TooLong);
    }
    let folded = fold(text);
    if item.paths.iter().any(|p| names_all(&folded, p)) {
        Ok(())
    } else {
        Err(Refusal::Ungrounded)
    }
}

/// Whether every node of `path` is named in `folded` (a text already folded).
fn names_all(folded: &str, path: &LabelledPath) -> bool {
    path.hops
        .iter()
        .flat_map(|h| [&h.s_label, &h.o_label])
        .all(|label| {
            let label = fold(label);
            !label.is_empty() && folded.contains(&label)
        })
}

/// Lower case, whitespace runs as one space: "New  York" and "new york" name the same place.
fn fold(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}
