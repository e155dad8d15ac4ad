//! Linking, synthesis and the test worlds, on real stores: a hand-made graph, the generated
//! world with its questions, and WordNet from Debian's wordnet-base.

use kale_datasets::link::Linker;
use kale_datasets::qa::QaItem;
use kale_datasets::synth::{SynthConfig, Synthesizer};
use kale_datasets::wordnet::{WordNet, DEFAULT_DICT};
use kale_datasets::world::{generate_qa, QaConfig, World, WorldConfig};
use kg_store::progress::NoProgress;
use kg_store::{Adjacency, BulkLoader, EncodedQuad, LoadInput, Store};
use oxrdf::{GraphName, Literal, NamedNode, Quad};
use std::path::Path;

fn load(dir: &Path, name: &str, text: &str) -> Store {
    let file = dir.join(format!("{name}.nt"));
    std::fs::write(&file, text).unwrap();
    let store = Store::open(dir.join(name)).unwrap();
    BulkLoader::new(&store)
        .load(&[LoadInput::new(&file)])
        .unwrap();
    store
}

const LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";

#[test]
fn linking_takes_the_longest_match_prefers_connected_entities_and_keeps_spans() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut label = |e: &str, l: &str, lang: &str| {
        text.push_str(&format!("<http://e/{e}> <{LABEL}> \"{l}\"@{lang} .\n"));
    };
    label("paris", "Paris", "en");
    label("paris-texas", "Paris", "en");
    label("ny", "New York", "en");
    label("nyc", "New York City", "en");
    label("erin", "Érin", "en");
    label("chat", "Chat", "fr");
    label("the", "The", "en");
    text.push_str(
        "<http://e/nyc> <http://www.w3.org/2004/02/skos/core#altLabel> \"Big Apple\"@en .\n",
    );
    // The city has more edges than its namesake.
    for i in 0..5 {
        text.push_str(&format!(
            "<http://e/paris> <http://e/p> <http://e/x{i}> .\n"
        ));
    }
    let store = load(dir.path(), "s", &text);
    let adjacency = Adjacency::open(&store).unwrap();
    let reader = store.reader();
    let linker = Linker::build(&reader, Some(&adjacency), "en").unwrap();
    let input = "From Paris to New York City, then the Big Apple: ask Erin about the chat.";
    let mentions = linker.link(input);
    let iri = |id| reader.term(id).unwrap().to_string();
    let got: Vec<(&str, String, usize)> = mentions
        .iter()
        .map(|m| (&input[m.start..m.end], iri(m.entity), m.candidates))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Paris", "<http://e/paris>".to_owned(), 2),
            ("New York City", "<http://e/nyc>".to_owned(), 1),
            ("Big Apple", "<http://e/nyc>".to_owned(), 1),
            ("Erin", "<http://e/erin>".to_owned(), 1),
        ],
        "stop words (the) and other languages (chat@fr) do not link"
    );
    // A label added by a live write is linkable at once.
    let zed = NamedNode::new("http://e/zed").unwrap();
    store
        .insert([Quad::new(
            zed,
            NamedNode::new(LABEL).unwrap(),
            Literal::new_language_tagged_literal_unchecked("Zed Zone", "en"),
            GraphName::DefaultGraph,
        )
        .as_ref()])
        .unwrap();
    let linker = Linker::build(&store.reader(), Some(&adjacency), "en").unwrap();
    assert_eq!(linker.link("welcome to zed zone").len(), 1);
}

fn world_store(dir: &Path, entities: usize) -> (World, Store) {
    let world = World::generate(WorldConfig { entities, seed: 5 });
    let file = dir.join("world.nt");
    world
        .write_ntriples(&mut std::io::BufWriter::new(
            std::fs::File::create(&file).unwrap(),
        ))
        .unwrap();
    let store = Store::open(dir.join("store")).unwrap();
    BulkLoader::new(&store)
        .load(&[LoadInput::new(&file)])
        .unwrap();
    (world, store)
}

#[test]
fn synthesis_on_the_generated_world_finds_the_reasoning_path() {
    let dir = tempfile::tempdir().unwrap();
    let (world, store) = world_store(dir.path(), 3_000);
    let qa = generate_qa(
        &world,
        &QaConfig {
            questions: 300,
            seed: 3,
            ..QaConfig::default()
        },
    )
    .unwrap();
    let mut items = qa.questions.clone();
    items.push(QaItem {
        id: "unknown".into(),
        question: "Which planet is known as Nowhere?".into(),
        context: None,
        choices: vec!["Mars".into(), "Venus".into()],
        answer: 0,
        facts: Vec::new(),
        kind: None,
        concept: None,
        relations: Vec::new(),
    });
    let synthesizer = Synthesizer::new(&store, SynthConfig::default()).unwrap();
    let (out, summary) = synthesizer.synthesize_all(&items, &NoProgress).unwrap();
    assert_eq!(summary.items, 301);
    assert_eq!(
        summary.with_paths, 300,
        "every generated question has a path; the made-up one none"
    );
    let ids: Vec<&str> = out.iter().map(|s| s.item.id.as_str()).collect();
    let expected: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, expected, "output in input order");
    assert_eq!(out[300].rationale, "");
    let reader = store.reader();
    let mut reasoning = 0;
    let mut birth = 0;
    for s in &out[..300] {
        assert!(
            s.rationale.contains(s.item.answer_text()),
            "{}: {}",
            s.item.question,
            s.rationale
        );
        for path in &s.paths {
            for hop in &path.hops {
                let id = |iri: &str| {
                    reader
                        .term_id(NamedNode::new(iri).unwrap().as_ref().into())
                        .unwrap()
                        .unwrap()
                };
                let quad = EncodedQuad {
                    subject: id(&hop.s),
                    predicate: id(&hop.p),
                    object: id(&hop.o),
                    graph: None,
                };
                assert!(
                    reader.contains(&quad).unwrap(),
                    "{hop:?} is not a stored triple"
                );
            }
        }
        if s.item.kind.as_deref() == Some("birth-country") {
            birth += 1;
            let person = s
                .item
                .question
                .trim_start_matches("In which country was ")
                .trim_end_matches(" born?");
            if s.rationale
                .contains(&format!("place of birth of {person} is"))
            {
                reasoning += 1;
            }
        }
    }
    assert!(birth > 20);
    // The default keeps 5 paths, ranked by rarity: random "filler" predicates, rare by design,
    // compete with place of birth. With room for more, the reasoning path is always there.
    assert!(
        reasoning * 2 >= birth,
        "the place-of-birth path is in {reasoning} of {birth} rationales"
    );
    let wide = Synthesizer::new(
        &store,
        SynthConfig {
            paths: 100,
            ..SynthConfig::default()
        },
    )
    .unwrap();
    let birth_items: Vec<QaItem> = items
        .iter()
        .filter(|i| i.kind.as_deref() == Some("birth-country"))
        .cloned()
        .collect();
    let (all, _) = wide.synthesize_all(&birth_items, &NoProgress).unwrap();
    let found = all
        .iter()
        .filter(|s| {
            let person = s
                .item
                .question
                .trim_start_matches("In which country was ")
                .trim_end_matches(" born?");
            s.rationale
                .contains(&format!("place of birth of {person} is"))
        })
        .count();
    assert!(
        found * 100 >= all.len() * 95,
        "the reasoning path was found for {found} of {}",
        all.len()
    );
}

#[test]
fn wordnet_converts_loads_links_and_synthesises() {
    let dict = Path::new(DEFAULT_DICT);
    assert!(
        dict.join("data.noun").exists(),
        "WordNet is missing: scripts/setup.sh installs Debian's wordnet-base"
    );
    let wordnet = WordNet::read(dict).unwrap();
    assert!(wordnet.synsets.len() > 100_000);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wordnet.nt");
    let triples = wordnet
        .write_ntriples(&mut std::io::BufWriter::new(
            std::fs::File::create(&file).unwrap(),
        ))
        .unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let summary = BulkLoader::new(&store)
        .load(&[LoadInput::new(&file)])
        .unwrap();
    assert_eq!(summary.triples_read, triples);

    let (questions, facts) = wordnet.generate_qa(60, 7);
    assert_eq!(questions.len(), 60);
    assert!(questions
        .iter()
        .any(|q| q.kind.as_deref() == Some("kind-of")));
    assert!(questions
        .iter()
        .any(|q| q.kind.as_deref() == Some("part-of")));
    let fact_ids: std::collections::HashSet<&str> = facts.iter().map(|f| f.id.as_str()).collect();
    assert!(questions
        .iter()
        .all(|q| q.facts.iter().all(|f| fact_ids.contains(f.as_str()))));

    let synthesizer = Synthesizer::new(&store, SynthConfig::default()).unwrap();
    let linked = synthesizer
        .linker()
        .link("Which of these is a kind of motor vehicle?");
    assert!(
        linked.iter().any(|m| m.text == "motor vehicle"),
        "{linked:?}"
    );
    let (out, summary) = synthesizer.synthesize_all(&questions, &NoProgress).unwrap();
    assert!(summary.coverage() > 0.8, "coverage {}", summary.coverage());
    let kind_of = out
        .iter()
        .filter(|s| s.item.kind.as_deref() == Some("kind-of") && !s.paths.is_empty())
        .find(|s| s.rationale.contains(" is a kind of "))
        .expect("a kind-of rationale");
    assert!(
        kind_of.rationale.contains(kind_of.item.answer_text()),
        "{}",
        kind_of.rationale
    );
}

/// A task file in BIG-bench's `qa_wikidata` layout, made here (no benchmark data): a country
/// with 1,200 citizens and a language with 1,100 native speakers, both hubs at the default cap,
/// five small countries beside them.
fn facts_task(dir: &Path) -> std::path::PathBuf {
    let mut examples = Vec::new();
    let mut fact = |input: String, target: serde_json::Value| {
        examples.push(serde_json::json!({ "input": input, "target": target }));
    };
    let countries = [
        ("Freedonia", "Fredville", "Fredonian", "Europa"),
        ("Sylvania", "Sylvan City", "Sylvanian", "Europa"),
        ("Latveria", "Doomstadt", "Latverian", "Europa"),
        ("Genovia", "Pyrus", "Genovian", "Europa"),
        ("Elbonia", "Mudville", "Elbonian", "Asiana"),
        ("Ruritania", "Strelsau", "Ruritanian", "Asiana"),
    ];
    for (i, (country, capital, language, continent)) in countries.iter().enumerate() {
        fact(format!("The capital of {country} is"), (*capital).into());
        fact(
            format!("The official language of {country} is"),
            (*language).into(),
        );
        fact(
            format!("The continent of {country} is"),
            (*continent).into(),
        );
        fact(format!("{capital} is capital of"), (*country).into());
        let citizens = if i == 0 { 1_200 } else { 5 };
        for n in 0..citizens {
            fact(
                format!("The country of citizenship of Citizen {n} of {country} is"),
                (*country).into(),
            );
        }
    }
    for n in 0..1_100 {
        fact(
            format!("The native language of Citizen {n} of Freedonia is"),
            "Fredonian".into(),
        );
    }
    fact("Brno is capital of [MASK]".into(), "Czechia".into());
    let task = serde_json::json!({
        "canary": "made by the test, not benchmark data",
        "name": "qa_wikidata",
        "examples": examples,
    });
    let path = dir.join("task.json");
    std::fs::write(&path, task.to_string()).unwrap();
    path
}

#[test]
fn real_wikidata_shapes_hubs_are_met_named_relations_rank_first_and_checks_are_derived() {
    use kale_datasets::synth::{derive_fact_checks, Evidence};
    use kale_datasets::wikidata_facts::{relation_iri, FactsQaConfig, WikidataFacts};

    let dir = tempfile::tempdir().unwrap();
    let facts = WikidataFacts::read(&facts_task(dir.path())).unwrap();
    assert_eq!(facts.skipped.len(), 1, "the [MASK] prompt");
    let mut nt = Vec::new();
    facts.write_ntriples(&mut nt).unwrap();
    let store = load(dir.path(), "facts", &String::from_utf8(nt).unwrap());
    let (questions, checks) = facts.generate_qa(&FactsQaConfig {
        questions: 40,
        ..FactsQaConfig::default()
    });
    assert!(questions.len() >= 20, "{}", questions.len());
    let check_ids: std::collections::HashSet<&str> = checks.iter().map(|c| c.id.as_str()).collect();
    for q in &questions {
        assert_eq!(q.facts.len(), 2);
        assert!(q.facts.iter().all(|f| check_ids.contains(f.as_str())));
        assert_eq!(q.relations.len(), 2);
        let unique: std::collections::HashSet<&String> = q.choices.iter().collect();
        assert_eq!(unique.len(), q.choices.len(), "{q:?}");
    }

    let synthesizer = Synthesizer::new(&store, SynthConfig::default()).unwrap();
    let (out, summary) = synthesizer.synthesize_all(&questions, &NoProgress).unwrap();
    // Freedonia and Fredonian are hubs at the default cap, yet every question has its path.
    assert_eq!(summary.with_paths, questions.len(), "{summary:?}");
    assert_eq!(summary.with_relations, questions.len());
    assert_eq!(summary.right_path_first, questions.len(), "{summary:?}");
    // The language question of a Freedonian: a shorter path runs over "native language", but the
    // question names "official language" and "country of citizenship".
    let official = relation_iri(
        kale_datasets::wikidata_facts::RELATIONS
            .iter()
            .position(|r| r.0 == "official language")
            .unwrap(),
    );
    let language_question = out
        .iter()
        .find(|s| {
            s.item.relations.last() == Some(&official) && s.item.question.contains("of Freedonia?")
        })
        .expect("an official-language question about a Freedonian");
    assert!(
        language_question
            .paths
            .iter()
            .any(|p| p.hops.len() == 1 && p.hops[0].p_label == "native language"),
        "the shorter path is there too: {:?}",
        language_question.paths
    );
    assert!(
        language_question
            .rationale
            .starts_with("The country of citizenship of Citizen"),
        "{}",
        language_question.rationale
    );

    // Partial evidence: nothing joins the question to the answer, the answer's facts are used.
    let orphan = QaItem {
        id: "orphan".into(),
        question: "Which city was founded on Atlantis?".into(),
        context: None,
        choices: vec!["Fredville".into(), "Pyrus".into()],
        answer: 0,
        facts: Vec::new(),
        kind: None,
        concept: None,
        relations: Vec::new(),
    };
    let partial = synthesizer.synthesize(&orphan).unwrap();
    assert_eq!(partial.evidence, Evidence::Partial);
    assert!(
        partial.rationale.contains("Fredville"),
        "{}",
        partial.rationale
    );

    // Fact checks from the rationale's first path, for items that have none.
    let plain: Vec<QaItem> = questions
        .iter()
        .take(10)
        .map(|q| QaItem {
            facts: Vec::new(),
            ..q.clone()
        })
        .collect();
    let (mut synthesized, _) = synthesizer.synthesize_all(&plain, &NoProgress).unwrap();
    let (derived, derivation) = derive_fact_checks(&synthesizer, &mut synthesized, 4, 1).unwrap();
    assert_eq!(derivation.items, 10);
    let again = derive_fact_checks(
        &synthesizer,
        &mut synthesizer.synthesize_all(&plain, &NoProgress).unwrap().0,
        4,
        1,
    )
    .unwrap()
    .0;
    assert_eq!(derived, again, "the same seed gives the same checks");
    let by_id: std::collections::HashMap<&str, &QaItem> =
        derived.iter().map(|c| (c.id.as_str(), c)).collect();
    for s in &synthesized {
        assert_eq!(s.item.facts.len(), s.paths[0].hops.len());
        for (id, hop) in s.item.facts.iter().zip(&s.paths[0].hops) {
            let check = by_id[id.as_str()];
            assert_eq!(check.answer_text(), hop.o_label);
            assert_eq!(check.choices.len(), 4);
            assert_eq!(check.relations, std::slice::from_ref(&hop.p));
            // No other right answer among the distractors: the subject has one object here.
            let unique: std::collections::HashSet<&String> = check.choices.iter().collect();
            assert_eq!(unique.len(), 4);
        }
    }
    let capital_check = derived
        .iter()
        .find(|c| {
            c.question
                .starts_with("What is the country of citizenship of Citizen")
        })
        .expect("a citizenship check");
    assert!(capital_check.question.ends_with('?'));
}
