//! The vocabulary of the generated world: kinds of entity and the relations between them,
//! numbered like their Wikidata counterparts, plus a few hundred looser "filler" predicates.

use std::sync::OnceLock;

/// A kind of entity; each has a class entity that its members are `instance of`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Class,
    Person,
    City,
    Country,
    Continent,
    Language,
    University,
    Company,
    Occupation,
    Industry,
    Work,
    Genre,
    Concept,
}

impl Kind {
    pub const ALL: [Self; 13] = [
        Self::Class,
        Self::Person,
        Self::City,
        Self::Country,
        Self::Continent,
        Self::Language,
        Self::University,
        Self::Company,
        Self::Occupation,
        Self::Industry,
        Self::Work,
        Self::Genre,
        Self::Concept,
    ];

    pub fn singular(self) -> &'static str {
        match self {
            Self::Class => "class",
            Self::Person => "human",
            Self::City => "city",
            Self::Country => "country",
            Self::Continent => "continent",
            Self::Language => "language",
            Self::University => "university",
            Self::Company => "company",
            Self::Occupation => "occupation",
            Self::Industry => "industry",
            Self::Work => "creative work",
            Self::Genre => "genre",
            Self::Concept => "concept",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Self::Class => "classes",
            Self::Person => "humans",
            Self::City => "cities",
            Self::Country => "countries",
            Self::Continent => "continents",
            Self::Language => "languages",
            Self::University => "universities",
            Self::Company => "companies",
            Self::Occupation => "occupations",
            Self::Industry => "industries",
            Self::Work => "creative works",
            Self::Genre => "genres",
            Self::Concept => "concepts",
        }
    }

    /// The label of the kind's class entity.
    pub fn class_label(self) -> &'static str {
        match self {
            Self::Class => "class",
            other => other.singular(),
        }
    }
}

/// A predicate of the world.
#[derive(Clone, Debug)]
pub struct Relation {
    /// The P-number: the predicate is `<http://kale.example/prop/P{id}>`.
    pub id: u16,
    /// The English label, a noun phrase as Wikidata's are ("place of birth").
    pub label: String,
    /// Kinds of subject and object, `None` when anything goes.
    pub domain: Option<Kind>,
    pub range: Option<Kind>,
}

impl Relation {
    pub fn description(&self) -> String {
        match (self.domain, self.range) {
            (Some(d), Some(r)) => format!("relates a {} to a {}", d.singular(), r.singular()),
            (Some(d), None) => format!("a property of a {}", d.singular()),
            _ => "a relation between entities".to_owned(),
        }
    }
}

/// P-numbers of the world's core relations.
pub mod relation {
    pub const INSTANCE_OF: u16 = 31;
    pub const SUBCLASS_OF: u16 = 279;
    pub const PLACE_OF_BIRTH: u16 = 19;
    pub const CITIZENSHIP: u16 = 27;
    pub const OCCUPATION: u16 = 106;
    pub const EDUCATED_AT: u16 = 69;
    pub const SPOUSE: u16 = 26;
    pub const COUNTRY: u16 = 17;
    pub const CONTINENT: u16 = 30;
    pub const CAPITAL: u16 = 36;
    pub const OFFICIAL_LANGUAGE: u16 = 37;
    pub const SHARES_BORDER_WITH: u16 = 47;
    pub const TWINNED_WITH: u16 = 190;
    pub const LOCATED_IN: u16 = 131;
    pub const FOUNDED_BY: u16 = 112;
    pub const HEADQUARTERS: u16 = 159;
    pub const INDUSTRY: u16 = 452;
    pub const AUTHOR: u16 = 50;
    pub const GENRE: u16 = 136;
    pub const PUBLISHER: u16 = 123;
    pub const DATE_OF_BIRTH: u16 = 569;
    pub const DATE_OF_DEATH: u16 = 570;
    pub const POPULATION: u16 = 1082;
    pub const INCEPTION: u16 = 571;
    pub const PUBLICATION_DATE: u16 = 577;
    pub const AREA: u16 = 2046;
}

/// The P-number of the first filler predicate.
pub const FILLER_FIRST_ID: u16 = 5000;
/// How many filler predicates there are.
pub const FILLER_COUNT: u16 = 240;

fn core(id: u16, label: &str, domain: Option<Kind>, range: Option<Kind>) -> Relation {
    Relation {
        id,
        label: label.to_owned(),
        domain,
        range,
    }
}

/// The core relations.
pub static RELATIONS: std::sync::LazyLock<Vec<Relation>> = std::sync::LazyLock::new(|| {
    use relation::*;
    use Kind::*;
    vec![
        core(INSTANCE_OF, "instance of", None, Some(Class)),
        core(SUBCLASS_OF, "subclass of", None, None),
        core(PLACE_OF_BIRTH, "place of birth", Some(Person), Some(City)),
        core(
            CITIZENSHIP,
            "country of citizenship",
            Some(Person),
            Some(Country),
        ),
        core(OCCUPATION, "occupation", Some(Person), Some(Occupation)),
        core(EDUCATED_AT, "educated at", Some(Person), Some(University)),
        core(SPOUSE, "spouse", Some(Person), Some(Person)),
        core(COUNTRY, "country", None, Some(Country)),
        core(CONTINENT, "continent", Some(Country), Some(Continent)),
        core(CAPITAL, "capital", Some(Country), Some(City)),
        core(
            OFFICIAL_LANGUAGE,
            "official language",
            Some(Country),
            Some(Language),
        ),
        core(
            SHARES_BORDER_WITH,
            "shares border with",
            Some(Country),
            Some(Country),
        ),
        core(
            TWINNED_WITH,
            "twinned administrative body",
            Some(City),
            Some(City),
        ),
        core(
            LOCATED_IN,
            "located in the administrative territorial entity",
            None,
            Some(City),
        ),
        core(FOUNDED_BY, "founded by", Some(Company), Some(Person)),
        core(
            HEADQUARTERS,
            "headquarters location",
            Some(Company),
            Some(City),
        ),
        core(INDUSTRY, "industry", Some(Company), Some(Industry)),
        core(AUTHOR, "author", Some(Work), Some(Person)),
        core(GENRE, "genre", Some(Work), Some(Genre)),
        core(PUBLISHER, "publisher", Some(Work), Some(Company)),
        core(DATE_OF_BIRTH, "date of birth", Some(Person), None),
        core(DATE_OF_DEATH, "date of death", Some(Person), None),
        core(POPULATION, "population", None, None),
        core(INCEPTION, "inception", None, None),
        core(PUBLICATION_DATE, "publication date", Some(Work), None),
        core(AREA, "area", Some(Country), None),
    ]
});

const FILLER_VERBS: &[&str] = &[
    "influenced by",
    "collaborates with",
    "sponsor of",
    "mentioned in",
    "competes with",
    "supplier of",
    "inspired by",
    "partner of",
    "member of",
    "patron of",
    "successor of",
    "rival of",
    "depicts",
    "named after",
    "part of",
    "studied by",
    "opposed by",
    "funded by",
    "associated with",
    "derived from",
    "used by",
    "owned by",
    "followed by",
    "replaced by",
];
const FILLER_QUALIFIERS: &[&str] = &[
    "",
    " (historical)",
    " (disputed)",
    " (informal)",
    " (regional)",
    " (former)",
    " (honorary)",
    " (claimed)",
    " (secondary)",
    " (cultural)",
];

/// The filler predicates: P5000 and on, labelled "influenced by (historical)" and the like.
pub fn fillers() -> &'static [Relation] {
    static FILLERS: OnceLock<Vec<Relation>> = OnceLock::new();
    FILLERS.get_or_init(|| {
        (0..FILLER_COUNT)
            .map(|i| {
                let verb = FILLER_VERBS[i as usize % FILLER_VERBS.len()];
                let qualifier = FILLER_QUALIFIERS[i as usize / FILLER_VERBS.len()];
                core(
                    FILLER_FIRST_ID + i,
                    &format!("{verb}{qualifier}"),
                    None,
                    None,
                )
            })
            .collect()
    })
}
