//! Paths as text: each hop's stored triple as a sentence built from labels, hops joined with
//! "; ", paths with ". ".
//!
//! A hop is verbalised from its stored triple (subject, predicate, object) whatever the direction
//! it was walked in, so an inverse edge never reverses its meaning. Predicate labels come in two
//! shapes, and the default template reads both:
//! - noun phrases, as Wikidata's ("place of birth", "capital"): "the place of birth of X is Y";
//! - verb phrases ("emits", "shares border with", "founded by", "instance of"): "X emits Y",
//!   "X is founded by Y", "X is instance of Y".
//!
//! A custom template overrides this with `{s}`, `{p}` and `{o}` placeholders.

/// How a hop becomes a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Template {
    /// Chooses between the noun and verb forms from the predicate label (module docs).
    Auto,
    /// `{s}`, `{p}`, `{o}` replaced by the labels.
    Custom(String),
}

impl Template {
    pub fn parse(text: &str) -> Self {
        if text == "auto" {
            Self::Auto
        } else {
            Self::Custom(text.to_owned())
        }
    }

    /// One hop's sentence.
    pub fn sentence(&self, s: &str, p: &str, o: &str) -> String {
        match self {
            Self::Custom(t) => t.replace("{s}", s).replace("{p}", p).replace("{o}", o),
            Self::Auto => match predicate_shape(p) {
                Shape::Verb => format!("{s} {p} {o}"),
                Shape::Participle => format!("{s} is {p} {o}"),
                Shape::Noun => format!("the {p} of {s} is {o}"),
            },
        }
    }
}

/// The single-hop question that asks for `o` of a hop `s -p-> o`, in the predicate's shape:
/// "What is the capital of France?", "The Sun emits which of these?", "Car is a kind of which
/// of these?".
pub fn fact_question(s: &str, p: &str) -> String {
    capitalise(&match predicate_shape(p) {
        Shape::Noun => format!("what is the {p} of {s}?"),
        Shape::Verb => format!("{s} {p} which of these?"),
        Shape::Participle => format!("{s} is {p} which of these?"),
    })
}

enum Shape {
    /// Reads as a verb: "emits", "shares border with", "has part".
    Verb,
    /// Reads after "is": "founded by", "instance of", "similar to", "a kind of".
    Participle,
    /// A noun phrase: "place of birth", "capital".
    Noun,
}

const LINKING_WORDS: &[&str] = &[
    "by", "of", "to", "in", "from", "after", "with", "on", "for", "as", "at", "into",
];

fn predicate_shape(label: &str) -> Shape {
    // "influenced by (historical)": the qualifier does not change the shape.
    let core = label.split(" (").next().unwrap_or(label).trim();
    let words: Vec<&str> = core.split_whitespace().collect();
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return Shape::Noun;
    };
    let verb_like = |w: &str| {
        w.len() > 3
            && w.ends_with('s')
            && !w.ends_with("ss")
            && !w.ends_with("us")
            && !w.ends_with("is")
    };
    let linking_end = words.len() > 1 && LINKING_WORDS.contains(last);
    // "emits", "shares border with"; not "headquarters location" (a noun that ends in s).
    if ["has", "have", "is"].contains(first)
        || (verb_like(first) && (words.len() == 1 || linking_end))
    {
        Shape::Verb
    } else if linking_end || (words.len() > 1 && first.ends_with("ed")) {
        // "member of"; "located in the administrative territorial entity".
        // "place of birth" ends in a noun; "member of", "located in" end in a linking word.
        Shape::Participle
    } else if words.len() == 1 && (first.ends_with("ed") || first.ends_with("en")) {
        Shape::Participle
    } else {
        Shape::Noun
    }
}

/// Capitalises the first letter of a sentence.
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::Template;

    #[test]
    fn both_label_shapes_read_as_sentences() {
        let t = Template::Auto;
        assert_eq!(
            t.sentence("the Sun", "emits", "full-spectrum light"),
            "the Sun emits full-spectrum light"
        );
        assert_eq!(
            t.sentence("Ada", "place of birth", "Tarvona"),
            "the place of birth of Ada is Tarvona"
        );
        assert_eq!(
            t.sentence("Korvex", "founded by", "Ada"),
            "Korvex is founded by Ada"
        );
        assert_eq!(
            t.sentence("Tarvona", "shares border with", "Belmaria"),
            "Tarvona shares border with Belmaria"
        );
        assert_eq!(
            t.sentence("Ada", "influenced by (historical)", "Ivo"),
            "Ada is influenced by (historical) Ivo"
        );
        assert_eq!(
            t.sentence("car", "a kind of", "motor vehicle"),
            "car is a kind of motor vehicle"
        );
        assert_eq!(
            t.sentence("France", "capital", "Paris"),
            "the capital of France is Paris"
        );
        assert_eq!(
            t.sentence("Korvex", "headquarters location", "Tarvona"),
            "the headquarters location of Korvex is Tarvona"
        );
        assert_eq!(t.sentence("car", "has part", "wheel"), "car has part wheel");
        assert_eq!(
            t.sentence(
                "University of Tryhaeth",
                "located in the administrative territorial entity",
                "Tetrysheam"
            ),
            "University of Tryhaeth is located in the administrative territorial entity Tetrysheam"
        );
        assert_eq!(
            super::fact_question("France", "capital"),
            "What is the capital of France?"
        );
        assert_eq!(
            super::fact_question("car", "a kind of"),
            "Car is a kind of which of these?"
        );
        assert_eq!(
            super::fact_question("the Sun", "emits"),
            "The Sun emits which of these?"
        );
        let custom = Template::parse("{s} --{p}--> {o}");
        assert_eq!(custom.sentence("a", "b", "c"), "a --b--> c");
    }
}
