//! `kale demo`: the whole method on the built-in world, nothing downloaded: generate a world and
//! its questions, bulk-load it, show a path query and a SPARQL query with path rows, synthesise
//! rationales, teach a small model the world's facts and the skill of using a rationale, then
//! fine-tune it with `sft` and with `ka` and compare them on held-out questions.

use crate::cli::DemoArgs;
use crate::commands::experiment::{
    load_fresh, plot_seed, run_seed, seed_report, world_questions, ExperimentConfig, Narrator,
};
use crate::commands::store::{print_stats, print_summary};
use crate::progress::TerminalProgress;
use anyhow::{Context, Result};
use kale_datasets::world::{relation, Kind, World, WorldConfig};
use kale_queries::{write_results, QueryOptions, SolutionsFormat, SparqlEngine};
use kg_store::labels::Labels;
use kg_store::paths::{find_paths, PathQuery};
use kg_store::Adjacency;
use oxrdf::NamedNodeRef;
use oxrdfio::RdfFormat;
use std::fs;
use std::time::Instant;

pub fn run(args: DemoArgs, progress: &TerminalProgress) -> Result<()> {
    let out = &args.out;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
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
    config.objectives = vec!["sft".into(), "ka".into()];

    step("1. generate the built-in world and bulk-load it into a store");
    let world = World::generate(WorldConfig {
        entities: config.entities,
        seed: args.seed,
    });
    let (store, summary) = load_fresh(out, "world.nt", |w| world.write_ntriples(w), progress)?;
    println!(
        "   {} entities -> {}",
        world.entities.len(),
        out.join("world.nt").display()
    );
    print_summary(&summary);
    print_stats(&store.stats()?);

    step("2. a path query: how is a person connected to their country?");
    let adjacency = Adjacency::open(&store)?;
    let reader = store.reader();
    let labels = Labels::new(reader.clone(), "en")?;
    let person = world
        .entities_of(Kind::Person)
        .iter()
        .copied()
        .find(|&p| world.has_unique_label(p))
        .context("the world has no uniquely named person")?;
    let city = world
        .target(person, relation::PLACE_OF_BIRTH)
        .context("a birthplace")?;
    let country = world.target(city, relation::COUNTRY).context("a country")?;
    let id = |index: u32| -> Result<kg_store::TermId> {
        let iri = world.iri(index);
        reader
            .term_id(NamedNodeRef::new(&iri)?.into())?
            .with_context(|| format!("{iri} is not in the store"))
    };
    let result = find_paths(
        &adjacency,
        &PathQuery::new(vec![id(person)?], vec![id(country)?])
            .max_hops(2)
            .max_paths(5),
    );
    println!(
        "   from {:?} to {:?}:",
        world.label(person),
        world.label(country)
    );
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
        println!("   {text}");
    }

    step("3. the same question in SPARQL: one row per hop, joined with the hops' labels");
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
    println!("{}", indent(&query));
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
    println!("{}", indent(&String::from_utf8_lossy(&table)));
    drop(engine);

    step("4. questions and their rationales (KI synthesis from the store)");
    let dataset = world_questions(&world, store, &config, args.seed)?;
    let narrator = Narrator { quiet: false };
    println!(
        "   {} questions ({} and, to teach the skill of reading a rationale, {}), {} fact checks",
        dataset.questions.len(),
        config.target,
        config.skills.join(", "),
        dataset.facts.len()
    );

    step("5. a small model: taught the facts, then fine-tuned with sft and with ka");
    let result = run_seed(&config, &dataset, args.seed, out, progress, &narrator)?;

    step("6. results on held-out questions");
    let report = seed_report(&config, &result);
    let report_path = out.join("report.json");
    fs::write(&report_path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", report_path.display()))?;
    let (curves, chart) = plot_seed(&result, out)?;
    println!(
        "   {:<28} {:>9} {:>16} {:>15} {:>11}",
        "", "accuracy", "known&incorrect", "facts retained", "on choices"
    );
    let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.1}%", 100.0 * v));
    let row = |name: &str, accuracy, known_incorrect, facts, mass| {
        println!(
            "   {name:<28} {:>9} {:>16} {:>15} {:>11}",
            pct(Some(accuracy)),
            pct(known_incorrect),
            pct(facts),
            pct(Some(mass))
        );
    };
    let base = &result.base;
    row(
        "taught model",
        base.accuracy,
        base.known_incorrect,
        base.facts_accuracy,
        base.choice_mass,
    );
    for (name, r) in &result.objectives {
        row(
            name,
            r.accuracy,
            r.known_incorrect,
            r.fact_retention,
            r.choice_mass,
        );
    }
    row(
        "teacher, rationale in prompt",
        base.with_rationale_accuracy,
        None,
        None,
        base.teacher_choice_mass,
    );
    println!(
        "   (\"on choices\": the probability that the model's answer starts like one of the four choices; KA hands the student the teacher's whole distribution)"
    );
    println!(
        "\n   {} held-out questions, chance 25%; one seed swings by many points: `kale experiment --seeds 5` gives intervals.",
        result.test
    );
    println!(
        "\nDone in {:.0}s. Everything is under {}:",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    println!("   report   {}", report_path.display());
    println!("   curves   {}", curves.display());
    println!("   results  {}", chart.display());
    println!("   store    {}", out.join("store").display());
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn step(title: &str) {
    println!("\n== {title}");
}
