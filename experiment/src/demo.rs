//! `kale demo`: the whole method on the built-in world, nothing downloaded: generate a world and
//! its questions, bulk-load it, show a path query and a SPARQL query with path rows, synthesise
//! rationales, teach a small model the world's facts and the skill of using a rationale, then
//! fine-tune it with `sft` and with `ka` and compare them on held-out questions.

use crate::config::{ExperimentConfig, ObjectiveSpec};
use crate::data::{load_fresh, world_questions};
use crate::error::{ExperimentError, Result};
use crate::report::{plot_seed, seed_report, Measured, Say};
use crate::small::run_seed;
use kale_datasets::world::{relation, Kind, World, WorldConfig};
use kale_queries::{write_results, QueryOptions, SolutionsFormat, SparqlEngine};
use kg_store::labels::Labels;
use kg_store::paths::{find_paths, PathQuery};
use kg_store::progress::Progress;
use kg_store::Adjacency;
use oxrdf::NamedNodeRef;
use oxrdfio::RdfFormat;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

/// What the demo runs on.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// Where everything is written.
    pub out: PathBuf,
    /// The reduced configuration CI runs.
    pub quick: bool,
    /// Size of the world (default: the experiment's).
    pub entities: Option<usize>,
    pub seed: u64,
}

/// Runs the demo, telling what happens through `say`.
pub fn run(args: &DemoConfig, progress: &dyn Progress, say: Say<'_>) -> Result<()> {
    let out = &args.out;
    fs::create_dir_all(out).map_err(ExperimentError::io(out))?;
    let started = Instant::now();
    let mut config = if args.quick {
        ExperimentConfig::quick()
    } else {
        ExperimentConfig::default()
    };
    if let Some(entities) = args.entities {
        config.entities = entities;
    }
    // The demo compares the two objectives of the method; `kale experiment` adds the others.
    config.objectives = vec![ObjectiveSpec::parse("sft")?, ObjectiveSpec::parse("ka")?];

    step(
        say,
        "1. generate the built-in world and bulk-load it into a store",
    );
    let world = World::generate(WorldConfig {
        entities: config.entities,
        seed: args.seed,
    });
    let (store, summary) = load_fresh(out, "world.nt", |w| world.write_ntriples(w), progress)?;
    say(&format!(
        "   {} entities -> {}",
        world.entities.len(),
        out.join("world.nt").display()
    ));
    say(&indent(&summary.to_string()));
    say(&indent(&store.stats()?.to_string()));

    step(
        say,
        "2. a path query: how is a person connected to their country?",
    );
    let adjacency = Adjacency::open(&store)?;
    let reader = store.reader();
    let labels = Labels::new(reader.clone(), "en")?;
    let missing = |what: &str| ExperimentError::Config(format!("the world has no {what}"));
    let person = world
        .entities_of(Kind::Person)
        .iter()
        .copied()
        .find(|&p| world.has_unique_label(p))
        .ok_or_else(|| missing("uniquely named person"))?;
    let city = world
        .target(person, relation::PLACE_OF_BIRTH)
        .ok_or_else(|| missing("birthplace"))?;
    let country = world
        .target(city, relation::COUNTRY)
        .ok_or_else(|| missing("country"))?;
    let id = |index: u32| -> Result<kg_store::TermId> {
        let iri = world.iri(index);
        let node = NamedNodeRef::new(&iri).map_err(|e| ExperimentError::Config(e.to_string()))?;
        reader
            .term_id(node.into())?
            .ok_or_else(|| ExperimentError::Config(format!("{iri} is not in the store")))
    };
    let result = find_paths(
        &adjacency,
        &PathQuery::new(vec![id(person)?], vec![id(country)?])
            .max_hops(2)
            .max_paths(5),
    );
    say(&format!(
        "   from {:?} to {:?}:",
        world.label(person),
        world.label(country)
    ));
    for path in &result.paths {
        let mut text = labels.label(path.start())?.unwrap_or_default();
        for hop in &path.hops {
            let p = labels.label(hop.predicate)?.unwrap_or_default();
            let to = labels.label(hop.to())?.unwrap_or_default();
            text.push_str(&if hop.forward {
                format!(" -[{p}]-> {to}")
            } else {
                format!(" <-[{p}]- {to}")
            });
        }
        say(&format!("   {text}"));
    }

    step(
        say,
        "3. the same question in SPARQL: one row per hop, joined with the hops' labels",
    );
    let query = format!(
        r#"PREFIX kale: <urn:kale:>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?path ?hop ?from ?predicate ?to WHERE {{
  SERVICE <urn:kale:paths> {{
    [] kale:source <{}> ; kale:target <{}> ; kale:maxHops 2 ; kale:limit 3 ;
       kale:path ?path ; kale:hop ?hop ; kale:subject ?s ; kale:predicate ?p ; kale:object ?o .
  }}
  ?s rdfs:label ?from . ?p rdfs:label ?predicate . ?o rdfs:label ?to .
  FILTER(lang(?from) = "en" && lang(?to) = "en")
}} ORDER BY ?path ?hop"#,
        world.iri(person),
        world.iri(country)
    );
    say(&indent(&query));
    let engine = SparqlEngine::new(store.clone());
    let parsed = SparqlEngine::parse_query(&query, None)?;
    let mut table = Vec::new();
    engine.query(&parsed, &QueryOptions::default(), |results| {
        write_results(
            results,
            SolutionsFormat::Table,
            RdfFormat::NTriples,
            &mut table,
            None,
        )
    })?;
    say(&indent(&String::from_utf8_lossy(&table)));
    drop(engine);

    step(
        say,
        "4. questions and their rationales (KI synthesis from the store)",
    );
    let dataset = world_questions(&world, store, &config, args.seed)?;
    say(&format!(
        "   {} questions ({} and, to teach the skill of reading a rationale, {}), {} fact checks",
        dataset.questions.len(),
        config.target,
        config.skills.join(", "),
        dataset.facts.len()
    ));

    step(
        say,
        "5. a small model: taught the facts, then fine-tuned with sft and with ka",
    );
    let result = run_seed(&config, &dataset, args.seed, out, progress, say)?;

    step(say, "6. results on held-out questions");
    let report = seed_report(&config, &result);
    let report_path = out.join("report.json");
    fs::write(
        &report_path,
        serde_json::to_string_pretty(&report).expect("a report serialises"),
    )
    .map_err(ExperimentError::io(&report_path))?;
    let (curves, chart) = plot_seed(&result, out)?;
    say(&format!(
        "   {:<28} {:>9} {:>9} {:>16} {:>15} {:>11}",
        "", "acc", "acc_norm", "known&incorrect", "facts retained", "on choices"
    ));
    let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.1}%", 100.0 * v));
    let row = |name: &str, m: &Measured| {
        say(&format!(
            "   {name:<28} {:>9} {:>9} {:>16} {:>15} {:>11}",
            pct(Some(m.acc)),
            pct(Some(m.acc_norm)),
            pct(m.known_incorrect),
            pct(m.facts),
            pct(Some(m.choice_mass))
        ));
    };
    row("taught model", &result.base.plain);
    for (name, r) in &result.objectives {
        row(name, &r.measured);
    }
    row("teacher, rationale in prompt", &result.base.oracle);
    say("   (\"on choices\": the probability that the model's answer starts like one of the four choices; KA hands the student the teacher's whole distribution)");
    say(&format!(
        "\n   {} held-out questions, chance 25%; one seed swings by many points: `kale experiment --seeds 5` gives intervals.",
        result.test
    ));
    say(&format!(
        "\nDone in {:.0}s. Everything is under {}:",
        started.elapsed().as_secs_f64(),
        out.display()
    ));
    say(&format!("   report   {}", report_path.display()));
    say(&format!("   curves   {}", curves.display()));
    say(&format!("   results  {}", chart.display()));
    say(&format!("   store    {}", out.join("store").display()));
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn step(say: Say<'_>, title: &str) {
    say(&format!("\n== {title}"));
}
