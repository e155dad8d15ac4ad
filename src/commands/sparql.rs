//! `kale sparql`, `kale update`, `kale serve`.

use crate::cli::{ServeArgs, SparqlArgs, SparqlText, UpdateArgs};
use crate::commands::store::open_existing;
use anyhow::{Context, Result};
use kale_queries::{
    serve as serve_http, write_results, LoadPolicy, OutputFormat, QueryOptions, ServerOptions,
    SparqlEngine,
};
use kg_store::Store;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::time::Duration;

impl SparqlText {
    /// The text given inline, or read from --file.
    fn read(&self) -> Result<String> {
        match (&self.text, &self.file) {
            (Some(text), _) => Ok(text.clone()),
            (None, Some(file)) => {
                std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
            }
            (None, None) => anyhow::bail!("give the text or --file"),
        }
    }
}

/// A time budget in seconds; 0 (or less, or NaN) is none. Capped at about 30 years, since a
/// deadline past the clock's range would overflow.
fn seconds(s: f64) -> Option<Duration> {
    (s > 0.0).then(|| Duration::from_secs_f64(s.min(1e9)))
}

/// A `flag` given in seconds; negative, NaN or (unless `zero_ok`) zero is an error.
fn duration(s: f64, flag: &str, zero_ok: bool) -> Result<Duration> {
    match Duration::try_from_secs_f64(s) {
        Ok(d) if zero_ok || !d.is_zero() => Ok(d),
        _ => anyhow::bail!("{flag} must be a positive number of seconds, not {s}"),
    }
}

pub fn query(args: SparqlArgs) -> Result<()> {
    let text = args.text.read()?;
    let (solutions, graph) = args.format.unwrap_or(OutputFormat::Table).formats();
    let engine = SparqlEngine::new(open_existing(&args.store)?);
    let query = SparqlEngine::parse_query(&text, args.text.base.as_deref())?;
    let options = QueryOptions {
        timeout: seconds(args.timeout),
        max_rows: (args.max_rows > 0).then_some(args.max_rows),
        ..QueryOptions::default()
    };
    let mut out = BufWriter::new(io::stdout().lock());
    engine.query(&query, &options, |results| {
        write_results(results, solutions, graph, &mut out, options.max_rows)
    })?;
    out.flush()?;
    Ok(())
}

pub fn update(args: UpdateArgs) -> Result<()> {
    let text = args.text.read()?;
    let engine = SparqlEngine::new(Store::open(&args.store)?);
    let update = SparqlEngine::parse_update(&text, args.text.base.as_deref())?;
    let summary = engine.update(&update, LoadPolicy::Allow)?;
    eprintln!(
        "{} operation(s): {} triples inserted, {} removed",
        summary.operations, summary.inserted, summary.removed
    );
    Ok(())
}

pub fn serve(args: ServeArgs) -> Result<()> {
    // Writable only when updates are allowed: otherwise another process may write meanwhile.
    let store = if args.allow_update {
        Store::open(&args.store)?
    } else {
        open_existing(&args.store)?
    };
    let engine = Arc::new(SparqlEngine::new(store));
    let options = ServerOptions {
        bind: args.bind,
        allow_update: args.allow_update,
        timeout: seconds(args.timeout),
        max_rows: (args.max_rows > 0).then_some(args.max_rows),
        threads: args.threads,
        header_timeout: duration(args.header_timeout, "--header-timeout", false)?,
        body_timeout: duration(args.body_timeout, "--body-timeout", false)?,
        queue_wait: duration(args.queue_wait, "--queue-wait", true)?,
    };
    serve_http(engine, options, |address| {
        println!("listening on http://{address}/query");
        let _ = io::stdout().flush();
    })?;
    Ok(())
}
