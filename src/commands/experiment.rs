//! `kale demo` and `kale experiment`: the pipeline lives in `kale-experiment`; this hands it the
//! arguments and prints what it says.

use crate::cli::{DemoArgs, ExperimentArgs};
use crate::progress::TerminalProgress;
use anyhow::Result;
use kale_experiment::demo::DemoConfig;
use kale_experiment::{ExperimentRun, Overrides};

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
    let config = Overrides {
        config: args.config,
        data: args.data,
        model: args.model,
        objectives: args.objectives,
        epochs: args.epochs,
        data_dir: Some(args.data_dir),
        train: args.train,
        test: args.test,
        prompt: args.prompt,
        device: args.device,
    }
    .config()?;
    let run = ExperimentRun {
        seeds: args.seeds,
        first_seed: args.seed,
        out: args.out,
        keep_stores: args.keep_stores,
        writer: Some(kale_trainer::writer::WriterChoice {
            options: args.writer.options(),
            device: args.writer.writer_device,
        }),
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
