//! Multiple-choice questions over a generated world: multi-hop questions ("In which country was
//! the founder of Korvex Labs born?") with distractors of the answer's kind, and for each the
//! single-hop fact checks behind it ("Who founded Korvex Labs?", "Where was Ada Morvik born?",
//! "In which country is Tarvona?"), shared between the questions that need them.
//!
//! Only entities whose English label is unique appear, so a reader (or the linker) can tell
//! which one is meant. The same world and seed give the same questions.

use super::schema::relation::*;
use super::{Kind, World, PROP_NS};
use crate::qa::QaItem;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rustc_hash::{FxHashMap, FxHashSet};

/// One hop of a question template: the relation and how a fact check about it is asked.
struct Step {
    relation: u16,
    /// The fact question, `{}` the subject's label.
    fact: &'static str,
    /// The kind of the hop's target (distractors come from it).
    target: Kind,
}

/// A multi-hop question template.
pub struct Template {
    pub name: &'static str,
    domain: Kind,
    steps: &'static [Step],
    /// The question, `{}` the starting entity's label.
    question: &'static str,
}

const BORN_IN: Step = Step {
    relation: PLACE_OF_BIRTH,
    fact: "Where was {} born?",
    target: Kind::City,
};
const CITY_COUNTRY: Step = Step {
    relation: COUNTRY,
    fact: "In which country is {}?",
    target: Kind::Country,
};
const CITIZEN_OF: Step = Step {
    relation: CITIZENSHIP,
    fact: "Which country is {} a citizen of?",
    target: Kind::Country,
};
const FOUNDED_BY_STEP: Step = Step {
    relation: FOUNDED_BY,
    fact: "Who founded {}?",
    target: Kind::Person,
};
const HQ: Step = Step {
    relation: HEADQUARTERS,
    fact: "In which city is {} headquartered?",
    target: Kind::City,
};
const AUTHOR_STEP: Step = Step {
    relation: AUTHOR,
    fact: "Who wrote {}?",
    target: Kind::Person,
};
const CAPITAL_STEP: Step = Step {
    relation: CAPITAL,
    fact: "What is the capital of {}?",
    target: Kind::City,
};
const STUDIED_AT: Step = Step {
    relation: EDUCATED_AT,
    fact: "Where did {} study?",
    target: Kind::University,
};
const UNI_CITY: Step = Step {
    relation: LOCATED_IN,
    fact: "In which city is {}?",
    target: Kind::City,
};

/// The templates, by name.
pub static TEMPLATES: &[Template] = &[
    Template {
        name: "birth-country",
        domain: Kind::Person,
        steps: &[BORN_IN, CITY_COUNTRY],
        question: "In which country was {} born?",
    },
    Template {
        name: "author-birthplace",
        domain: Kind::Work,
        steps: &[AUTHOR_STEP, BORN_IN],
        question: "In which city was the author of {} born?",
    },
    Template {
        name: "founder-citizenship",
        domain: Kind::Company,
        steps: &[FOUNDED_BY_STEP, CITIZEN_OF],
        question: "Which country is the founder of {} a citizen of?",
    },
    Template {
        name: "headquarters-country",
        domain: Kind::Company,
        steps: &[HQ, CITY_COUNTRY],
        question: "In which country is {} headquartered?",
    },
    Template {
        name: "capital-of-country",
        domain: Kind::City,
        steps: &[CITY_COUNTRY, CAPITAL_STEP],
        question: "What is the capital of the country that {} is in?",
    },
    Template {
        name: "study-city",
        domain: Kind::Person,
        steps: &[STUDIED_AT, UNI_CITY],
        question: "In which city is the university where {} studied?",
    },
    Template {
        name: "founder-birth-country",
        domain: Kind::Company,
        steps: &[FOUNDED_BY_STEP, BORN_IN, CITY_COUNTRY],
        question: "In which country was the founder of {} born?",
    },
];

/// What to generate.
#[derive(Clone, Debug)]
pub struct QaConfig {
    /// Multi-hop questions (fact checks come on top).
    pub questions: usize,
    pub seed: u64,
    pub choices: usize,
    /// Template names to use (all when empty).
    pub templates: Vec<String>,
}

impl Default for QaConfig {
    fn default() -> Self {
        Self {
            questions: 1_000,
            seed: 42,
            choices: 4,
            templates: Vec::new(),
        }
    }
}

/// Questions and their fact checks.
pub struct GeneratedQa {
    pub questions: Vec<QaItem>,
    pub facts: Vec<QaItem>,
}

struct Builder<'a> {
    world: &'a World,
    rng: Pcg64Mcg,
    choices: usize,
    facts: Vec<QaItem>,
    fact_ids: FxHashMap<(u32, u16), String>,
}

impl Builder<'_> {
    /// Entities of a kind with unique labels (the only ones questions name).
    fn nameable(&self, kind: Kind) -> Vec<u32> {
        self.world
            .entities_of(kind)
            .iter()
            .copied()
            .filter(|&e| self.world.has_unique_label(e))
            .collect()
    }

    /// Shuffled choices: the answer and distractors of the same kind.
    fn choices(&mut self, answer: u32, kind: Kind) -> Option<(Vec<String>, usize)> {
        let pool = self.nameable(kind);
        if pool.len() < self.choices {
            return None;
        }
        let mut picked = vec![answer];
        while picked.len() < self.choices {
            let d = pool[self.rng.random_range(0..pool.len())];
            if !picked.contains(&d) {
                picked.push(d);
            }
        }
        picked.shuffle(&mut self.rng);
        let index = picked
            .iter()
            .position(|&e| e == answer)
            .expect("the answer is among them");
        Some((
            picked
                .iter()
                .map(|&e| self.world.label(e).to_owned())
                .collect(),
            index,
        ))
    }

    /// The fact check of `subject --relation--> ?`, created once.
    fn fact(&mut self, subject: u32, step: &Step) -> Option<String> {
        if let Some(id) = self.fact_ids.get(&(subject, step.relation)) {
            return Some(id.clone());
        }
        let target = self.world.target(subject, step.relation)?;
        let (choices, answer) = self.choices(target, step.target)?;
        let id = format!("fact-P{}-Q{}", step.relation, subject + 1);
        self.facts.push(QaItem {
            id: id.clone(),
            question: step.fact.replace("{}", self.world.label(subject)),
            context: None,
            choices,
            answer,
            facts: Vec::new(),
            kind: Some(format!("fact-P{}", step.relation)),
            concept: None,
            relations: vec![format!("{PROP_NS}P{}", step.relation)],
        });
        self.fact_ids.insert((subject, step.relation), id.clone());
        Some(id)
    }

    /// A question of `template` starting at `start`, if every entity on the way is nameable.
    fn question(&mut self, template: &Template, start: u32, n: usize) -> Option<QaItem> {
        let mut chain = vec![start];
        for step in template.steps {
            let next = self
                .world
                .target(*chain.last().expect("non-empty"), step.relation)?;
            if !self.world.has_unique_label(next) || chain.contains(&next) {
                return None;
            }
            chain.push(next);
        }
        let answer = *chain.last().expect("non-empty");
        let last = template.steps.last().expect("a template has steps");
        let (choices, index) = self.choices(answer, last.target)?;
        let mut facts = Vec::new();
        for (subject, step) in chain.iter().zip(template.steps) {
            facts.push(self.fact(*subject, step)?);
        }
        Some(QaItem {
            id: format!("q{n:06}-{}", template.name),
            question: template.question.replace("{}", self.world.label(start)),
            context: None,
            choices,
            answer: index,
            facts,
            kind: Some(template.name.to_owned()),
            concept: None,
            relations: template
                .steps
                .iter()
                .map(|step| format!("{PROP_NS}P{}", step.relation))
                .collect(),
        })
    }
}

/// Generates questions (round-robin over the templates) and their fact checks.
pub fn generate_qa(world: &World, config: &QaConfig) -> crate::Result<GeneratedQa> {
    let templates: Vec<&Template> = TEMPLATES
        .iter()
        .filter(|t| config.templates.is_empty() || config.templates.iter().any(|n| n == t.name))
        .collect();
    if templates.is_empty() {
        let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
        return Err(crate::DatasetError::Config(format!(
            "no template matches {:?}; known: {}",
            config.templates,
            names.join(", ")
        )));
    }
    let mut builder = Builder {
        world,
        rng: Pcg64Mcg::seed_from_u64(config.seed),
        choices: config.choices.max(2),
        facts: Vec::new(),
        fact_ids: FxHashMap::default(),
    };
    // Each template walks its own shuffled list of starting entities.
    let mut starts: Vec<(usize, Vec<u32>)> = templates
        .iter()
        .map(|t| {
            let mut s = builder.nameable(t.domain);
            s.shuffle(&mut builder.rng);
            (0, s)
        })
        .collect();
    let mut questions = Vec::new();
    let mut used = FxHashSet::default();
    let mut exhausted = 0;
    while questions.len() < config.questions && exhausted < templates.len() {
        exhausted = 0;
        for (t, template) in templates.iter().enumerate() {
            if questions.len() >= config.questions {
                break;
            }
            let (next, list) = &mut starts[t];
            let mut made = false;
            while *next < list.len() {
                let start = list[*next];
                *next += 1;
                if !used.insert((template.name, start)) {
                    continue;
                }
                if let Some(q) = builder.question(template, start, questions.len()) {
                    questions.push(q);
                    made = true;
                    break;
                }
            }
            if !made {
                exhausted += 1;
            }
        }
    }
    Ok(GeneratedQa {
        questions,
        facts: builder.facts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::WorldConfig;

    #[test]
    fn questions_are_answerable_from_their_facts_and_deterministic() {
        let world = World::generate(WorldConfig {
            entities: 3_000,
            seed: 9,
        });
        let config = QaConfig {
            questions: 200,
            ..QaConfig::default()
        };
        let a = generate_qa(&world, &config).unwrap();
        let b = generate_qa(&world, &config).unwrap();
        assert_eq!(a.questions, b.questions);
        assert_eq!(a.questions.len(), 200);
        let facts: FxHashMap<&str, &QaItem> = a.facts.iter().map(|f| (f.id.as_str(), f)).collect();
        let kinds: FxHashSet<&str> = a
            .questions
            .iter()
            .filter_map(|q| q.kind.as_deref())
            .collect();
        assert_eq!(kinds.len(), TEMPLATES.len(), "every template is used");
        for q in &a.questions {
            assert_eq!(q.choices.len(), 4);
            let unique: FxHashSet<&String> = q.choices.iter().collect();
            assert_eq!(unique.len(), 4, "distinct choices in {q:?}");
            assert!(q.facts.len() >= 2);
            // The last fact's answer is the question's answer.
            let last = facts[q.facts.last().unwrap().as_str()];
            assert_eq!(last.answer_text(), q.answer_text(), "{q:?}");
        }
    }
}
