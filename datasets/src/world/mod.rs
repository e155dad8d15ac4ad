//! The built-in generated world: a Wikidata-shaped knowledge graph that needs no download.
//!
//! People born in cities of countries on continents, companies founded by people, works written
//! by them, plus a few hundred looser predicates whose targets follow a power law, so that some
//! entities become hubs (the class "human" alone is the target of ~40% of `instance of` edges).
//! Every entity has an English label (most also French and German ones, some an alias) and a
//! description; literals include typed dates, integers and decimals. The same seed gives the
//! same world, byte for byte.
//!
//! The [`World`] value is also what the question generator (`qa.rs`) asks questions about.

mod names;
mod qa;
mod schema;

pub use qa::{generate_qa, GeneratedQa, QaConfig, TEMPLATES};
pub use schema::{relation, Kind, Relation, RELATIONS};

use names::{french, german, Names};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use schema::{FILLER_COUNT, FILLER_FIRST_ID};
use std::fmt::Write as _;
use std::io::{self, Write};

/// The namespace of entities: `<http://kale.example/entity/Q42>`.
pub const ENTITY_NS: &str = "http://kale.example/entity/";
/// The namespace of predicates: `<http://kale.example/prop/P19>`.
pub const PROP_NS: &str = "http://kale.example/prop/";
pub const RDFS_LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";
pub const SKOS_ALT_LABEL: &str = "http://www.w3.org/2004/02/skos/core#altLabel";
pub const SCHEMA_DESCRIPTION: &str = "http://schema.org/description";
const XSD: &str = "http://www.w3.org/2001/XMLSchema#";

/// Wikidata's entities (`wd:Q42`, and the property entities `wd:P19` that carry the labels).
pub const WD_ENTITY_NS: &str = "http://www.wikidata.org/entity/";
/// Wikidata's direct claims (`wdt:P19`), the truthy dump's predicates.
pub const WD_DIRECT_NS: &str = "http://www.wikidata.org/prop/direct/";
pub const WIKIBASE_DIRECT_CLAIM: &str = "http://wikiba.se/ontology#directClaim";
pub const SCHEMA_NAME: &str = "http://schema.org/name";

/// The label languages of [`World::write_wikidata_ntriples`], Wikidata's most-labelled first.
pub const LABEL_LANGUAGES: &[&str] = &[
    "en", "fr", "de", "es", "it", "nl", "pl", "ru", "pt", "sv", "ja", "zh", "ca", "uk", "cs", "ar",
    "hu", "fi", "fa", "ko", "tr", "id", "da", "nb", "he", "ro", "vi", "el", "eo", "sr", "bg", "sk",
    "lt", "sl", "et", "hr", "gl", "eu", "hi", "th", "ms", "lv", "ka", "hy", "be", "az", "bn", "ta",
    "ur", "sq", "mk", "cy", "ga", "is", "la", "af", "sw", "tl", "kk", "uz",
];

/// The first `n` of [`LABEL_LANGUAGES`]; `None` unless `1 <= n <= LABEL_LANGUAGES.len()`.
pub fn label_languages(n: usize) -> Option<&'static [&'static str]> {
    (1..=LABEL_LANGUAGES.len())
        .contains(&n)
        .then(|| &LABEL_LANGUAGES[..n])
}

/// Descriptions are written in at most this many of the label languages (Wikidata has far
/// fewer descriptions than labels).
const DESCRIPTION_LANGUAGES: usize = 5;

/// The sizes and seed of a world.
#[derive(Clone, Copy, Debug)]
pub struct WorldConfig {
    /// About how many entities (classes and the smallest kinds have minimum counts).
    pub entities: usize,
    pub seed: u64,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            entities: 2_000,
            seed: 42,
        }
    }
}

/// A literal fact: the value's lexical form and its XSD datatype name (`date`, `integer`, ...).
#[derive(Clone, Debug)]
pub struct LiteralFact {
    pub relation: u16,
    pub value: String,
    pub datatype: &'static str,
}

/// One entity of the world.
#[derive(Clone, Debug)]
pub struct Entity {
    pub kind: Kind,
    /// The English label.
    pub label: String,
    /// French and German labels, when it has them.
    pub translations: Option<(String, String)>,
    pub alias: Option<String>,
    pub description: String,
    /// `(relation id, target entity index)`.
    pub facts: Vec<(u16, u32)>,
    pub literals: Vec<LiteralFact>,
}

/// A generated world.
pub struct World {
    pub config: WorldConfig,
    pub entities: Vec<Entity>,
    /// The class entity of each kind.
    classes: Vec<u32>,
    /// Entities of each kind, in creation order.
    by_kind: Vec<Vec<u32>>,
    /// Whether an entity's English label is shared with no other entity.
    unique_label: Vec<bool>,
}

impl World {
    pub fn generate(config: WorldConfig) -> Self {
        Generator::new(config).run()
    }

    /// The IRI of entity `index`.
    pub fn iri(&self, index: u32) -> String {
        format!("{ENTITY_NS}Q{}", index + 1)
    }

    pub fn entities_of(&self, kind: Kind) -> &[u32] {
        &self.by_kind[kind as usize]
    }

    pub fn class_of(&self, kind: Kind) -> u32 {
        self.classes[kind as usize]
    }

    /// Whether no other entity has the same English label (questions only name such entities).
    pub fn has_unique_label(&self, index: u32) -> bool {
        self.unique_label[index as usize]
    }

    /// The targets of `relation` from `index`.
    pub fn targets(&self, index: u32, relation: u16) -> impl Iterator<Item = u32> + '_ {
        self.entities[index as usize]
            .facts
            .iter()
            .filter(move |(r, _)| *r == relation)
            .map(|(_, t)| *t)
    }

    /// The first target of a relation, for relations that have at most one.
    pub fn target(&self, index: u32, relation: u16) -> Option<u32> {
        self.targets(index, relation).next()
    }

    pub fn label(&self, index: u32) -> &str {
        &self.entities[index as usize].label
    }

    /// Writes the world as N-Triples; returns the number of triples written.
    pub fn write_ntriples(&self, out: &mut impl Write) -> io::Result<u64> {
        let mut w = NTriplesWriter {
            out,
            line: String::with_capacity(256),
            count: 0,
        };
        for rel in RELATIONS.iter().chain(schema::fillers()) {
            let p = format!("{PROP_NS}P{}", rel.id);
            w.literal(&p, RDFS_LABEL, &rel.label, Some("en"), None)?;
            w.literal(&p, SCHEMA_DESCRIPTION, &rel.description(), Some("en"), None)?;
        }
        let instance_of = format!("{PROP_NS}P{}", relation::INSTANCE_OF);
        for (i, e) in self.entities.iter().enumerate() {
            let s = self.iri(i as u32);
            w.literal(&s, RDFS_LABEL, &e.label, Some("en"), None)?;
            if let Some((fr, de)) = &e.translations {
                w.literal(&s, RDFS_LABEL, fr, Some("fr"), None)?;
                w.literal(&s, RDFS_LABEL, de, Some("de"), None)?;
            }
            if let Some(alias) = &e.alias {
                w.literal(&s, SKOS_ALT_LABEL, alias, Some("en"), None)?;
            }
            w.literal(&s, SCHEMA_DESCRIPTION, &e.description, Some("en"), None)?;
            if e.kind != Kind::Class {
                w.iris(&s, &instance_of, &self.iri(self.class_of(e.kind)))?;
            }
            for &(rel, target) in &e.facts {
                w.iris(&s, &format!("{PROP_NS}P{rel}"), &self.iri(target))?;
            }
            for lit in &e.literals {
                let dt = format!("{XSD}{}", lit.datatype);
                w.literal(
                    &s,
                    &format!("{PROP_NS}P{}", lit.relation),
                    &lit.value,
                    None,
                    Some(&dt),
                )?;
            }
        }
        Ok(w.count)
    }

    /// Writes the world in Wikidata's truthy-dump vocabulary: entities `wd:Q…`, direct claims
    /// `wdt:P…`, each property's labels on `wd:P…` tied to its claim by `wikibase:directClaim`,
    /// and labels (`rdfs:label` and `schema:name`, as Wikidata gives both) in `languages` (from
    /// [`label_languages`]), descriptions in up to five of them. French and German labels are
    /// the world's translations; other languages repeat the English label, as Wikidata's labels
    /// of names mostly do. Returns the number of triples written.
    pub fn write_wikidata_ntriples(
        &self,
        out: &mut impl Write,
        languages: &[&str],
    ) -> io::Result<u64> {
        let mut w = NTriplesWriter {
            out,
            line: String::with_capacity(256),
            count: 0,
        };
        let entity = |index: u32| format!("{WD_ENTITY_NS}Q{}", index + 1);
        for rel in RELATIONS.iter().chain(schema::fillers()) {
            let property = format!("{WD_ENTITY_NS}P{}", rel.id);
            w.iris(
                &property,
                WIKIBASE_DIRECT_CLAIM,
                &format!("{WD_DIRECT_NS}P{}", rel.id),
            )?;
            for lang in languages {
                w.literal(&property, RDFS_LABEL, &rel.label, Some(lang), None)?;
            }
            w.literal(
                &property,
                SCHEMA_DESCRIPTION,
                &rel.description(),
                Some("en"),
                None,
            )?;
        }
        let instance_of = format!("{WD_DIRECT_NS}P{}", relation::INSTANCE_OF);
        for (i, e) in self.entities.iter().enumerate() {
            let s = entity(i as u32);
            for lang in languages {
                let label = match (*lang, &e.translations) {
                    ("fr", Some((fr, _))) => fr,
                    ("de", Some((_, de))) => de,
                    _ => &e.label,
                };
                w.literal(&s, RDFS_LABEL, label, Some(lang), None)?;
                w.literal(&s, SCHEMA_NAME, label, Some(lang), None)?;
            }
            if let Some(alias) = &e.alias {
                w.literal(&s, SKOS_ALT_LABEL, alias, Some("en"), None)?;
            }
            for lang in languages.iter().take(DESCRIPTION_LANGUAGES) {
                w.literal(&s, SCHEMA_DESCRIPTION, &e.description, Some(lang), None)?;
            }
            if e.kind != Kind::Class {
                w.iris(&s, &instance_of, &entity(self.class_of(e.kind)))?;
            }
            for &(rel, target) in &e.facts {
                w.iris(&s, &format!("{WD_DIRECT_NS}P{rel}"), &entity(target))?;
            }
            for lit in &e.literals {
                let dt = format!("{XSD}{}", lit.datatype);
                let p = format!("{WD_DIRECT_NS}P{}", lit.relation);
                w.literal(&s, &p, &lit.value, None, Some(&dt))?;
            }
        }
        Ok(w.count)
    }
}

struct NTriplesWriter<'a, W: Write> {
    out: &'a mut W,
    line: String,
    count: u64,
}

impl<W: Write> NTriplesWriter<'_, W> {
    fn iris(&mut self, s: &str, p: &str, o: &str) -> io::Result<()> {
        self.line.clear();
        let _ = writeln!(self.line, "<{s}> <{p}> <{o}> .");
        self.count += 1;
        self.out.write_all(self.line.as_bytes())
    }

    fn literal(
        &mut self,
        s: &str,
        p: &str,
        value: &str,
        lang: Option<&str>,
        datatype: Option<&str>,
    ) -> io::Result<()> {
        self.line.clear();
        let _ = write!(self.line, "<{s}> <{p}> \"");
        for c in value.chars() {
            match c {
                '"' => self.line.push_str("\\\""),
                '\\' => self.line.push_str("\\\\"),
                '\n' => self.line.push_str("\\n"),
                '\r' => self.line.push_str("\\r"),
                c => self.line.push(c),
            }
        }
        self.line.push('"');
        if let Some(lang) = lang {
            let _ = write!(self.line, "@{lang}");
        } else if let Some(dt) = datatype {
            let _ = write!(self.line, "^^<{dt}>");
        }
        self.line.push_str(" .\n");
        self.count += 1;
        self.out.write_all(self.line.as_bytes())
    }
}

/// How many entities of each kind a world of `n` entities has.
fn kind_counts(n: usize) -> Vec<(Kind, usize)> {
    let frac = |f: f64, min: usize, max: usize| ((n as f64 * f) as usize).clamp(min, max);
    vec![
        (Kind::Continent, 6),
        (Kind::Country, frac(0.0025, 8, 200)),
        (Kind::Language, frac(0.001, 5, 80)),
        (Kind::Occupation, frac(0.002, 10, 300)),
        (Kind::Industry, frac(0.0005, 6, 60)),
        (Kind::Genre, frac(0.0005, 6, 60)),
        (Kind::City, frac(0.08, 24, usize::MAX)),
        (Kind::University, frac(0.02, 6, usize::MAX)),
        (Kind::Company, frac(0.07, 10, usize::MAX)),
        (Kind::Person, frac(0.45, 50, usize::MAX)),
        (Kind::Work, frac(0.12, 10, usize::MAX)),
        (Kind::Concept, frac(0.18, 10, usize::MAX)),
    ]
}

struct Generator {
    rng: Pcg64Mcg,
    names: Names,
    world: World,
}

impl Generator {
    fn new(config: WorldConfig) -> Self {
        Self {
            rng: Pcg64Mcg::seed_from_u64(config.seed),
            names: Names::new(),
            world: World {
                config,
                entities: Vec::new(),
                classes: vec![0; Kind::ALL.len()],
                by_kind: vec![Vec::new(); Kind::ALL.len()],
                unique_label: Vec::new(),
            },
        }
    }

    fn add(&mut self, kind: Kind, label: String, translations: bool) -> u32 {
        let index = self.world.entities.len() as u32;
        let translations = translations.then(|| (french(&label), german(&label)));
        self.world.entities.push(Entity {
            kind,
            label,
            translations,
            alias: None,
            description: String::new(),
            facts: Vec::new(),
            literals: Vec::new(),
        });
        self.world.by_kind[kind as usize].push(index);
        index
    }

    fn pick(&mut self, kind: Kind) -> u32 {
        let all = &self.world.by_kind[kind as usize];
        all[self.rng.random_range(0..all.len())]
    }

    /// A power-law pick: entity `i` of the kind with probability about proportional to 1/(i+1).
    fn pick_popular(&mut self, kind: Kind) -> u32 {
        let all = &self.world.by_kind[kind as usize];
        let i = power_law_index(&mut self.rng, all.len());
        all[i]
    }

    fn fact(&mut self, from: u32, relation: u16, to: u32) {
        if from != to {
            self.world.entities[from as usize]
                .facts
                .push((relation, to));
        }
    }

    fn literal(&mut self, from: u32, relation: u16, value: String, datatype: &'static str) {
        self.world.entities[from as usize]
            .literals
            .push(LiteralFact {
                relation,
                value,
                datatype,
            });
    }

    fn date(&mut self, from_year: i32, to_year: i32) -> String {
        let y = self.rng.random_range(from_year..=to_year);
        let m = self.rng.random_range(1..=12);
        let d = self.rng.random_range(1..=28);
        format!("{y:04}-{m:02}-{d:02}")
    }

    fn run(mut self) -> World {
        use relation::*;
        let n = self.world.config.entities;
        for kind in Kind::ALL {
            let class = self.add(Kind::Class, kind.class_label().to_owned(), true);
            self.world.classes[kind as usize] = class;
            self.world.entities[class as usize].description = format!("class of {}", kind.plural());
        }
        for (kind, count) in kind_counts(n) {
            for _ in 0..count {
                let rng = &mut self.rng;
                let label = match kind {
                    Kind::Person => self.names.person(rng),
                    Kind::City => self
                        .names
                        .place(rng, &["", "", "ton", "burg", "port", "ville", "a"]),
                    Kind::Country => self.names.place(rng, &["ia", "land", "ia", "ar", "esh"]),
                    Kind::Continent => self.names.place(rng, &["ica", "asia"]),
                    Kind::Language => self.names.place(rng, &["ish", "ese", "ic", "an"]),
                    Kind::University => self.names.with_template(rng, "University of {}"),
                    Kind::Company => {
                        let t = [
                            "{} Industries",
                            "{} Labs",
                            "{} Group",
                            "{} Systems",
                            "{} & Co",
                        ];
                        let t = t[rng.random_range(0..t.len())];
                        self.names.with_template(rng, t)
                    }
                    Kind::Occupation => self.names.with_template(rng, "{} maker"),
                    Kind::Industry => self.names.with_template(rng, "{} industry"),
                    Kind::Genre => self.names.with_template(rng, "{} fiction"),
                    Kind::Work => {
                        let t = [
                            "The {} Chronicles",
                            "Songs of {}",
                            "{}",
                            "A History of {}",
                            "Return to {}",
                        ];
                        let t = t[rng.random_range(0..t.len())];
                        self.names.with_template(rng, t)
                    }
                    Kind::Concept => self.names.with_template(rng, "{}ism"),
                    Kind::Class => unreachable!("classes come first"),
                };
                let translated = kind != Kind::Person && self.rng.random_bool(0.6);
                self.add(kind, label, translated);
            }
        }

        // Geography first: everything else refers to it.
        let countries = self.world.by_kind[Kind::Country as usize].clone();
        let cities = self.world.by_kind[Kind::City as usize].clone();
        for (i, &city) in cities.iter().enumerate() {
            // Every country gets cities; the first ones get more (a power law of size).
            let country = if i < countries.len() {
                countries[i]
            } else {
                self.pick_popular(Kind::Country)
            };
            self.fact(city, COUNTRY, country);
            let pop = 1000 + (5_000_000.0 / (1.0 + self.rng.random::<f64>() * 400.0)) as u64;
            self.literal(city, POPULATION, pop.to_string(), "integer");
            if self.rng.random_bool(0.1) {
                let twin = self.pick(Kind::City);
                self.fact(city, TWINNED_WITH, twin);
            }
        }
        for &country in &countries {
            let continent = self.pick(Kind::Continent);
            self.fact(country, CONTINENT, continent);
            let own_cities: Vec<u32> = cities
                .iter()
                .copied()
                .filter(|&c| self.world.target(c, COUNTRY) == Some(country))
                .collect();
            let capital = own_cities[self.rng.random_range(0..own_cities.len())];
            self.fact(country, CAPITAL, capital);
            let language = self.pick(Kind::Language);
            self.fact(country, OFFICIAL_LANGUAGE, language);
            for _ in 0..2 {
                let neighbour = self.pick(Kind::Country);
                self.fact(country, SHARES_BORDER_WITH, neighbour);
            }
            let area = format!(
                "{}.{}",
                self.rng.random_range(1_000..2_000_000),
                self.rng.random_range(0..10)
            );
            self.literal(country, AREA, area, "decimal");
        }
        for uni in self.world.by_kind[Kind::University as usize].clone() {
            let city = self.pick_popular(Kind::City);
            self.fact(uni, LOCATED_IN, city);
            let d = self.date(1100, 1990);
            self.literal(uni, INCEPTION, d, "date");
        }
        for kind in [Kind::Occupation, Kind::Industry, Kind::Genre, Kind::Concept] {
            for e in self.world.by_kind[kind as usize].clone() {
                if self.rng.random_bool(0.3) {
                    let parent = self.pick(kind);
                    self.fact(e, SUBCLASS_OF, parent);
                }
            }
        }
        let people = self.world.by_kind[Kind::Person as usize].clone();
        for &person in &people {
            let city = self.pick_popular(Kind::City);
            self.fact(person, PLACE_OF_BIRTH, city);
            let home = self
                .world
                .target(city, COUNTRY)
                .expect("every city has a country");
            let citizenship = if self.rng.random_bool(0.9) {
                home
            } else {
                self.pick(Kind::Country)
            };
            self.fact(person, CITIZENSHIP, citizenship);
            let occupation = self.pick_popular(Kind::Occupation);
            self.fact(person, OCCUPATION, occupation);
            if self.rng.random_bool(0.6) {
                let uni = self.pick_popular(Kind::University);
                self.fact(person, EDUCATED_AT, uni);
            }
            let born = self.date(1850, 2005);
            let year: i32 = born[..4].parse().expect("a year");
            self.literal(person, DATE_OF_BIRTH, born, "date");
            if year < 1950 && self.rng.random_bool(0.6) {
                let died = self.date(year + 20, (year + 95).min(2025));
                self.literal(person, DATE_OF_DEATH, died, "date");
            }
            if self.rng.random_bool(0.2) {
                let spouse = self.pick(Kind::Person);
                self.fact(person, SPOUSE, spouse);
            }
            let occupation_label = self.world.label(occupation).to_owned();
            let country_label = self.world.label(citizenship).to_owned();
            self.world.entities[person as usize].description =
                format!("{occupation_label} from {country_label}");
        }
        for company in self.world.by_kind[Kind::Company as usize].clone() {
            let founder = self.pick(Kind::Person);
            self.fact(company, FOUNDED_BY, founder);
            let hq = self.pick_popular(Kind::City);
            self.fact(company, HEADQUARTERS, hq);
            let industry = self.pick_popular(Kind::Industry);
            self.fact(company, INDUSTRY, industry);
            let d = self.date(1800, 2020);
            self.literal(company, INCEPTION, d, "date");
            let industry_label = self.world.label(industry).to_owned();
            self.world.entities[company as usize].description =
                format!("company in the {industry_label}");
        }
        for work in self.world.by_kind[Kind::Work as usize].clone() {
            let author = self.pick_popular(Kind::Person);
            self.fact(work, AUTHOR, author);
            let genre = self.pick_popular(Kind::Genre);
            self.fact(work, GENRE, genre);
            if self.rng.random_bool(0.7) {
                let publisher = self.pick_popular(Kind::Company);
                self.fact(work, PUBLISHER, publisher);
            }
            let d = self.date(1700, 2024);
            self.literal(work, PUBLICATION_DATE, d, "date");
            let genre_label = self.world.label(genre).to_owned();
            let author_label = self.world.label(author).to_owned();
            self.world.entities[work as usize].description =
                format!("{genre_label} by {author_label}");
        }
        // Looser links between anything and popular things: the long tail of predicates and
        // the hubs that make unrestricted path search explode.
        let count = self.world.entities.len();
        let targets: Vec<u32> = (0..count as u32)
            .filter(|&i| self.world.entities[i as usize].kind != Kind::Class)
            .collect();
        for from in 0..count as u32 {
            if self.world.entities[from as usize].kind == Kind::Class {
                continue;
            }
            let links = self.rng.random_range(0..=4);
            for _ in 0..links {
                let rel = FILLER_FIRST_ID + self.rng.random_range(0..FILLER_COUNT);
                let to = targets[power_law_index(&mut self.rng, targets.len())];
                self.fact(from, rel, to);
            }
        }
        self.finish_labels();
        self.world
    }

    /// Descriptions still empty, aliases, and which labels are unique.
    fn finish_labels(&mut self) {
        let mut counts: rustc_hash::FxHashMap<&str, u32> = rustc_hash::FxHashMap::default();
        for e in &self.world.entities {
            *counts.entry(e.label.as_str()).or_default() += 1;
        }
        self.world.unique_label = self
            .world
            .entities
            .iter()
            .map(|e| counts[e.label.as_str()] == 1)
            .collect();
        for i in 0..self.world.entities.len() {
            let e = &self.world.entities[i];
            if e.description.is_empty() {
                let desc = match e.kind {
                    Kind::City => {
                        let c = self
                            .world
                            .target(i as u32, relation::COUNTRY)
                            .expect("city country");
                        format!("city in {}", self.world.label(c))
                    }
                    Kind::Country => {
                        let c = self
                            .world
                            .target(i as u32, relation::CONTINENT)
                            .expect("country continent");
                        format!("country in {}", self.world.label(c))
                    }
                    kind => kind.singular().to_owned(),
                };
                self.world.entities[i].description = desc;
            }
            if matches!(
                self.world.entities[i].kind,
                Kind::Country | Kind::City | Kind::Company
            ) && self.rng.random_bool(0.2)
            {
                let label = &self.world.entities[i].label;
                let alias = match self.world.entities[i].kind {
                    Kind::Country => format!("Republic of {label}"),
                    Kind::City => format!("{label} City"),
                    _ => format!("{label} Inc."),
                };
                self.world.entities[i].alias = Some(alias);
            }
        }
    }
}

/// An index in `0..len` with probability about proportional to 1/(index+1) (log-uniform).
fn power_law_index(rng: &mut impl Rng, len: usize) -> usize {
    let x = (len as f64 + 1.0).powf(rng.random::<f64>()) - 1.0;
    (x as usize).min(len - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(config: WorldConfig) -> String {
        let mut out = Vec::new();
        World::generate(config).write_ntriples(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn same_seed_same_world_other_seed_other_world() {
        let a = WorldConfig {
            entities: 500,
            seed: 7,
        };
        assert_eq!(text(a), text(a));
        assert_ne!(
            text(a),
            text(WorldConfig {
                entities: 500,
                seed: 8
            })
        );
    }

    #[test]
    fn the_world_parses_and_has_its_shape() {
        let world = World::generate(WorldConfig {
            entities: 3_000,
            seed: 1,
        });
        let mut out = Vec::new();
        let written = world.write_ntriples(&mut out).unwrap();
        let parsed = oxttl::NTriplesParser::new()
            .for_slice(&out)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(parsed.len() as u64, written);
        // Every person has a birthplace in a city that has a country.
        for &p in world.entities_of(Kind::Person) {
            let city = world.target(p, relation::PLACE_OF_BIRTH).unwrap();
            assert_eq!(world.entities[city as usize].kind, Kind::City);
            assert!(world.target(city, relation::COUNTRY).is_some());
        }
        // A few hundred predicates, and hubs: the most linked entity has far more in-edges
        // than the median one.
        let predicates: std::collections::HashSet<_> =
            parsed.iter().map(|t| t.predicate.clone()).collect();
        assert!(predicates.len() > 200, "{}", predicates.len());
        let mut indegree = vec![0u32; world.entities.len()];
        for e in &world.entities {
            for &(_, t) in &e.facts {
                indegree[t as usize] += 1;
            }
        }
        indegree.sort_unstable();
        assert!(indegree[indegree.len() - 1] > 50 * indegree[indegree.len() / 2].max(1));
    }
}
