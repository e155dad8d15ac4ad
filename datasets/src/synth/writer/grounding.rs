//! Whether a written rationale is grounded in its item's paths: it names (by label) every entity
//! of at least one path, it is not too long to be a short explanation, and it does not loop (a
//! small model's greedy decoding often repeats one clause until the token limit). What fails is
//! replaced by the template rationale, so an ungrounded text never reaches training.

use crate::synth::{LabelledPath, Synthesized};

/// Why a written rationale was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    TooLong,
    /// It names the entities of none of the paths.
    Ungrounded,
    /// One clause of it comes [`MAX_REPEATS`] times or more.
    Repetitive,
}

/// How often one clause may occur in an accepted rationale, less one.
pub const MAX_REPEATS: usize = 3;

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
    if repeats(&folded) {
        return Err(Refusal::Repetitive);
    }
    if item.paths.iter().any(|p| names_all(&folded, p)) {
        Ok(())
    } else {
        Err(Refusal::Ungrounded)
    }
}

/// Whether a clause (a stretch between `.`, `;`, `,` or a line break) of at least three words
/// comes [`MAX_REPEATS`] times or more.
fn repeats(folded: &str) -> bool {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    folded
        .split(['.', ';', ',', '\n'])
        .map(str::trim)
        .filter(|c| c.split(' ').count() >= 3)
        .any(|clause| {
            let n = counts.entry(clause).or_default();
            *n += 1;
            *n >= MAX_REPEATS
        })
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
