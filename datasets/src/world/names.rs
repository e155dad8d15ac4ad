//! Made-up but pronounceable names for the generated world, with French and German variants.
//! Names are unique per kind where a question must be able to point at one entity.

use rand::Rng;
use rustc_hash::FxHashSet;

const ONSETS: &[&str] = &[
    "b", "br", "c", "d", "dr", "f", "g", "gr", "h", "j", "k", "kr", "l", "m", "n", "p", "pr", "r",
    "s", "st", "t", "tr", "v", "z", "th", "sh", "ch", "fl", "bl", "gl",
];
const NUCLEI: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "ae", "y"];
const CODAS: &[&str] = &["", "", "", "n", "r", "l", "s", "m", "th", "nd", "rk", "x"];

const FIRST_NAMES: &[&str] = &[
    "Ada", "Alan", "Alena", "Amir", "Anna", "Aris", "Bela", "Boris", "Carla", "Cyril", "Dara",
    "Dmitri", "Edda", "Elio", "Ema", "Farid", "Gala", "Greta", "Hana", "Hugo", "Ida", "Ilya",
    "Ines", "Ivo", "Jana", "Joel", "Kai", "Kira", "Lena", "Leo", "Lina", "Luca", "Maia", "Marek",
    "Mila", "Nadia", "Nico", "Nora", "Olaf", "Oren", "Paz", "Petra", "Quinn", "Rafa", "Rosa",
    "Sami", "Sara", "Selim", "Tara", "Teo", "Una", "Vera", "Viggo", "Wen", "Xena", "Yara", "Yuri",
    "Zara", "Zeno", "Émile", "Zoë", "Jürgen", "Søren", "Ælfric",
];

/// A name generator over one random stream; remembers names it gave per kind.
pub struct Names {
    used: FxHashSet<String>,
}

impl Names {
    pub fn new() -> Self {
        Self {
            used: FxHashSet::default(),
        }
    }

    fn word(rng: &mut impl Rng, syllables: usize) -> String {
        let mut w = String::new();
        for i in 0..syllables {
            w.push_str(ONSETS[rng.random_range(0..ONSETS.len())]);
            w.push_str(NUCLEI[rng.random_range(0..NUCLEI.len())]);
            if i + 1 == syllables {
                w.push_str(CODAS[rng.random_range(0..CODAS.len())]);
            }
        }
        capitalise(&w)
    }

    /// A name not given before, built by `make`; after a few tries a numeral disambiguates.
    fn unique(
        &mut self,
        rng: &mut impl Rng,
        mut make: impl FnMut(&mut dyn FnMut(usize) -> String) -> String,
    ) -> String {
        for attempt in 0.. {
            let mut word = |n: usize| Self::word(rng, n + attempt / 8);
            let name = make(&mut word);
            if self.used.insert(name.clone()) {
                return name;
            }
        }
        unreachable!()
    }

    pub fn person(&mut self, rng: &mut impl Rng) -> String {
        let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
        // Several people may share a name, as in real data; the question generator only asks
        // about entities whose label is unique.
        let last = Self::word(rng, 2);
        format!("{first} {last}")
    }

    pub fn place(&mut self, rng: &mut impl Rng, suffix_pool: &[&str]) -> String {
        let suffix = suffix_pool[rng.random_range(0..suffix_pool.len())];
        let syllables = rng.random_range(2..=3);
        self.unique(rng, |word| format!("{}{suffix}", word(syllables)))
    }

    pub fn with_template(&mut self, rng: &mut impl Rng, template: &str) -> String {
        let syllables = rng.random_range(2..=3);
        self.unique(rng, |word| template.replace("{}", &word(syllables)))
    }
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The French form of a place name: a different ending, as exonyms often have.
pub fn french(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ia") {
        format!("{stem}ie")
    } else if let Some(stem) = name.strip_suffix("land") {
        format!("{stem}lande")
    } else {
        name.to_owned()
    }
}

/// The German form of a place name.
pub fn german(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ia") {
        format!("{stem}ien")
    } else if let Some(stem) = name.strip_suffix("port") {
        format!("{stem}hafen")
    } else {
        name.to_owned()
    }
}
