//! `kale demo` and `kale experiment`: the pipeline lives in `kale-experiment`; this parses the
//! arguments into its configuration and prints what it says.

use crate::cli::{DemoArgs, ExperimentArgs};
use crate::progress::TerminalProgress;
use anyhow::{bail, Result};
use kale_experiment::demo::DemoConfig;
use kale_experiment::{DataSource, ExperimentConfig, ExperimentRun, ObjectiveSpec};

fn say(text: &str) {
    println!("{text}");
}

pub fn demo(args: DemoArgs, progress: &TerminalProgress) -> Result<()> {
    let config = DemoConfig {
        out: args.out,
        quick: args.quick,
        entities: args.entities,
        seed: args.seed,
    };
    Ok(kale_experiment::demo::run(&config, progress, &say)?)
}

pub fn run(args: ExperimentArgs, progress: &TerminalProgress) -> Result<()> {
    if let Some(n) = args.threads {
        kale_trainer::runtime::set_threads(n);
    }
    let data = args.data.as_deref().map(DataSource::parse).transpose()?;
    let mut config = match (&args.config, &args.model, data) {
        (Some(path), _, _) => ExperimentConfig::read(path)?,
        (None, Some(model), data) => {
            ExperimentConfig::pretrained(data.unwrap_or(DataSource::Wikidata), model.clone())
        }
        (None, None, Some(DataSource::Wordnet)) => ExperimentConfig::wordnet(),
        (None, None, Some(DataSource::World) | None) => ExperimentConfig::default(),
        (None, None, Some(other)) => bail!(
            "--data {}: real data needs a pretrained model to fine-tune (--model DIR)",
            other.name()
        ),
    };
    if let Some(objectives) = &args.objectives {
        config.objectives = objectives
            .split(',')
            .map(|s| ObjectiveSpec::parse(s.trim()))
            .collect::<Result<_, _>>()?;
    }
    if let Some(epochs) = args.epochs {
        config.epochs = epochs;
    }
    config.data_dir = args.data_dir;
    if let Some(p) = config.pretrained.as_mut() {
        if let Some(train) = args.train {
            p.train = train;
        }
        if let Some(test) = args.test {
            p.test = test;
        }
        if let Some(prompt) = &args.prompt {
            p.prompt = prompt.clone();
        }
        if let Some(device) = &args.device {
            p.device = device.clone();
        }
    } else if args.train.is_some() || args.test.is_some() || args.prompt.is_some() {
        bail!("--train, --test and --prompt go with --model (a pretrained model)");
    }
    let run = ExperimentRun {
        seeds: args.seeds,
        first_seed: args.seed,
        out: args.out,
        keep_stores: args.keep_stores,
    };
    let outcome = kale_experiment::run(&config, &run, progress, &say)?;
    println!("\n{}", outcome.markdown);
    println!(
        "reports: {} and {}",
        outcome.report_md.display(),
        outcome.report_json.display()
    );
    Ok(())
}
