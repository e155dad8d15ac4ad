//! What an experiment measured: per seed (the base model, the oracle, each objective), and over
//! seeds as means with 95% t-intervals, as JSON and as a Markdown table.

use crate::config::ExperimentConfig;
use crate::error::Result;
use crate::plot::{self, Bar, Run};
use kale_trainer::eval::EvalReport;
use kale_trainer::train::TeacherKind;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the pipeline says what it is doing (the command line prints it).
pub type Say<'a> = &'a dyn Fn(&str);

pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.1}%", 100.0 * v))
}

/// One objective's result as a line.
pub fn objective_line(name: &str, r: &ObjectiveResult) -> String {
    let m = &r.measured;
    format!(
        "   {name:<14} acc {:>5.1}% acc_norm {:>5.1}% [{:.0}-{:.0}]  known&incorrect {}  facts {}  on the choices {:.0}%  ({:.0}s)",
        100.0 * m.acc,
        100.0 * m.acc_norm,
        100.0 * m.acc_norm_ci95[0],
        100.0 * m.acc_norm_ci95[1],
        percent(m.known_incorrect),
        percent(m.facts),
        100.0 * m.choice_mass,
        r.seconds
    )
}

/// One evaluation's numbers.
#[derive(Clone, Debug, Serialize)]
pub struct Measured {
    /// Under the chosen score (`acc_norm` unless configured otherwise).
    pub accuracy: f64,
    pub ci95: [f64; 2],
    pub acc: f64,
    pub acc_ci95: [f64; 2],
    pub acc_norm: f64,
    pub acc_norm_ci95: [f64; 2],
    pub items: usize,
    /// Share of known questions (every fact check right) answered wrongly.
    pub known_incorrect: Option<f64>,
    pub known: Option<usize>,
    /// Fact checks answered right.
    pub facts: Option<f64>,
    /// Probability put on the choices at all (see `EvalReport::choice_mass`).
    pub choice_mass: f64,
}

impl From<&EvalReport> for Measured {
    fn from(r: &EvalReport) -> Self {
        Self {
            accuracy: r.accuracy.accuracy,
            ci95: r.accuracy.ci95,
            acc: r.acc.accuracy,
            acc_ci95: r.acc.ci95,
            acc_norm: r.acc_norm.accuracy,
            acc_norm_ci95: r.acc_norm.ci95,
            items: r.accuracy.items,
            known_incorrect: r.known_incorrect,
            known: r.known,
            facts: r.facts.as_ref().map(|f| f.accuracy),
            choice_mass: r.choice_mass,
        }
    }
}

/// One objective's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectiveResult {
    #[serde(flatten)]
    pub measured: Measured,
    /// Whether the model saw the rationale at test time (only the rationale-sft upper bound).
    pub with_rationale: bool,
    pub teacher: Option<TeacherKind>,
    pub seconds: f64,
    #[serde(skip)]
    pub metrics: PathBuf,
}

/// The model before fine-tuning.
#[derive(Clone, Debug, Serialize)]
pub struct BaseResult {
    /// Held-out questions without the rationale, with the fact checks behind them.
    pub plain: Measured,
    /// With the rationale in the prompt: the oracle (rationales are built from the gold answer)
    /// and what a KA teacher made of this model knows.
    pub oracle: Measured,
    /// Small models: the skill questions (other relations) with their rationale, as taught.
    pub skill_with_rationale: Option<f64>,
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SeedResult {
    pub seed: u64,
    pub train: usize,
    pub test: usize,
    pub skill_items: usize,
    pub facts: usize,
    /// Share of questions with a full path; and with partial evidence only.
    pub coverage: f64,
    pub partial: f64,
    pub base: BaseResult,
    pub objectives: BTreeMap<String, ObjectiveResult>,
    pub seconds: f64,
}

/// The charts of one seed: curves of every objective and bars of the final results.
pub fn plot_seed(result: &SeedResult, dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let runs = result
        .objectives
        .iter()
        .map(|(name, r)| Run::read(&r.metrics, name))
        .collect::<Result<Vec<_>>>()?;
    let curves = dir.join("curves.png");
    plot::curves(&runs, &curves)?;
    let mut bars = Vec::new();
    for (name, r) in &result.objectives {
        let m = &r.measured;
        bars.push(Bar {
            group: "accuracy".into(),
            series: name.clone(),
            value: m.accuracy,
            ci: Some(m.ci95),
        });
        for (group, value) in [
            ("known&incorrect", m.known_incorrect),
            ("facts retained", m.facts),
        ] {
            if let Some(value) = value {
                bars.push(Bar {
                    group: group.into(),
                    series: name.clone(),
                    value,
                    ci: None,
                });
            }
        }
    }
    bars.push(Bar {
        group: "accuracy".into(),
        series: "oracle (rationale in prompt)".into(),
        value: result.base.oracle.accuracy,
        ci: None,
    });
    let chart = dir.join("results.png");
    plot::bars("held-out questions", &bars, &chart)?;
    Ok((curves, chart))
}

/// The JSON report of one seed.
pub fn seed_report(config: &ExperimentConfig, result: &SeedResult) -> Value {
    json!({ "config": config, "result": result })
}

/// Mean and 95% interval (Student's t) of shares from independent seeds.
pub fn mean_ci(values: &[f64]) -> (f64, [f64; 2]) {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    if n < 2 {
        return (mean, [mean, mean]);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // Two-sided 97.5% quantiles of t for 1..=10 degrees of freedom, then the normal's.
    const T: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    let t = T.get(n - 2).copied().unwrap_or(1.96);
    let half = t * (var / n as f64).sqrt();
    // Every value here is a share: the interval stays within [0, 1].
    (mean, [(mean - half).max(0.0), (mean + half).min(1.0)])
}

fn stat(values: Vec<f64>) -> Value {
    let (mean, ci) = mean_ci(&values);
    json!({ "mean": mean, "ci95": ci, "values": values })
}

/// The numbers of one row over seeds.
fn measured_stats(rows: &[&Measured], seconds: Vec<f64>) -> Value {
    let of = |f: &dyn Fn(&Measured) -> Option<f64>| -> Value {
        stat(rows.iter().filter_map(|m| f(m)).collect())
    };
    json!({
        "accuracy": of(&|m| Some(m.accuracy)),
        "acc": of(&|m| Some(m.acc)),
        "acc_norm": of(&|m| Some(m.acc_norm)),
        "known_incorrect": of(&|m| m.known_incorrect),
        "facts": of(&|m| m.facts),
        "choice_mass": of(&|m| Some(m.choice_mass)),
        "seconds": stat(seconds),
    })
}

/// Means over seeds of every row.
pub fn summarize(config: &ExperimentConfig, results: &[SeedResult], seconds: f64) -> Value {
    let mut objectives = serde_json::Map::new();
    for spec in &config.objectives {
        let name = spec.name();
        let rows: Vec<&ObjectiveResult> = results
            .iter()
            .filter_map(|r| r.objectives.get(&name))
            .collect();
        let mut value = measured_stats(
            &rows.iter().map(|r| &r.measured).collect::<Vec<_>>(),
            rows.iter().map(|r| r.seconds).collect(),
        );
        value["with_rationale"] = rows.iter().any(|r| r.with_rationale).into();
        objectives.insert(name, value);
    }
    let bases: Vec<&BaseResult> = results.iter().map(|r| &r.base).collect();
    let base_seconds: Vec<f64> = bases.iter().map(|b| b.seconds).collect();
    json!({
        "config": config,
        "seeds": results.iter().map(|r| r.seed).collect::<Vec<_>>(),
        "seconds": seconds,
        "test_items": results.iter().map(|r| r.test).collect::<Vec<_>>(),
        "coverage": stat(results.iter().map(|r| r.coverage).collect()),
        "partial": stat(results.iter().map(|r| r.partial).collect()),
        "base": measured_stats(&bases.iter().map(|b| &b.plain).collect::<Vec<_>>(), base_seconds.clone()),
        "oracle": measured_stats(&bases.iter().map(|b| &b.oracle).collect::<Vec<_>>(), base_seconds),
        "skill_with_rationale": stat(bases.iter().filter_map(|b| b.skill_with_rationale).collect()),
        "objectives": objectives,
        "per_seed": results,
    })
}

fn cell(v: &Value) -> String {
    let seeds = v["values"].as_array().map_or(0, Vec::len);
    match v["mean"].as_f64() {
        // One seed has no spread to show.
        Some(mean) if seeds == 1 => format!("{:.1}%", 100.0 * mean),
        Some(mean) if seeds > 1 => {
            let ci = &v["ci95"];
            format!(
                "{:.1}% [{:.1}, {:.1}]",
                100.0 * mean,
                100.0 * ci[0].as_f64().unwrap_or(mean),
                100.0 * ci[1].as_f64().unwrap_or(mean)
            )
        }
        _ => "-".into(),
    }
}

fn teacher_text(teacher: TeacherKind) -> &'static str {
    match teacher {
        TeacherKind::Frozen => {
            "the starting model, frozen (under LoRA: the base model with the adapters bypassed)"
        }
        TeacherKind::Live => "the current weights under no-grad",
    }
}

fn seconds_cell(v: &Value) -> String {
    v["mean"].as_f64().map_or("-".into(), |s| format!("{s:.0}"))
}

/// The Markdown report: one row per model, means over seeds with 95% t-intervals.
pub fn markdown(config: &ExperimentConfig, results: &[SeedResult], summary: &Value) -> String {
    let n = results.len();
    let avg = |f: &dyn Fn(&SeedResult) -> usize| results.iter().map(f).sum::<usize>() / n.max(1);
    let mut md = format!(
        "## KALE experiment: {} data, {n} seed{}\n\n",
        config.data.name(),
        if n == 1 { "" } else { "s" }
    );
    match &config.pretrained {
        Some(p) => md.push_str(&format!(
            "Model: {} with LoRA (r {}, alpha {}, on {}), {} epochs at lr {} per objective, batch {}; prompt format `{}`{}. {} questions to fine-tune on and {} held out per seed on average; rationales from the store ({:.0}% with a full path, {:.0}% with partial evidence). KA teacher: {}.\n\n",
            p.model.display(),
            p.lora_r,
            p.lora_alpha,
            p.lora_targets.join(", "),
            config.epochs,
            config.lr,
            config.batch,
            if p.prompt.is_empty() { config.data.default_prompt() } else { &p.prompt },
            if p.chat { " in the chat template" } else { "" },
            avg(&|r| r.train),
            avg(&|r| r.test),
            100.0 * summary["coverage"]["mean"].as_f64().unwrap_or(0.0),
            100.0 * summary["partial"]["mean"].as_f64().unwrap_or(0.0),
            teacher_text(config.teacher),
        )),
        None => md.push_str(&format!(
            "Model: Llama, {} layers, hidden {}, {} heads, word-level tokenizer. Taught for {} epochs (facts, fact checks, and questions of {} with their rationale), then fine-tuned {} epochs per objective on half of the `{}` questions ({} per seed on average), evaluated on the other half ({} on average). KA teacher: {}.\n\n",
            config.layers,
            config.hidden,
            config.heads,
            config.base_epochs,
            config.skills.join(", "),
            config.epochs,
            config.target,
            avg(&|r| r.train),
            avg(&|r| r.test),
            teacher_text(config.teacher),
        )),
    }
    md.push_str("| model | acc | acc_norm | known&incorrect | facts known | probability on the choices | seconds |\n|---|---|---|---|---|---|---|\n");
    let row = |md: &mut String, label: &str, v: &Value| {
        md.push_str(&format!(
            "| {label} | {} | {} | {} | {} | {} | {} |\n",
            cell(&v["acc"]),
            cell(&v["acc_norm"]),
            cell(&v["known_incorrect"]),
            cell(&v["facts"]),
            cell(&v["choice_mass"]),
            seconds_cell(&v["seconds"]),
        ));
    };
    let base_label = if config.pretrained.is_some() {
        "base model"
    } else {
        "taught model, no fine-tuning"
    };
    row(&mut md, base_label, &summary["base"]);
    row(
        &mut md,
        "oracle: the base model with the rationale in the prompt (the KA teacher)",
        &summary["oracle"],
    );
    for spec in &config.objectives {
        let name = spec.name();
        let o = &summary["objectives"][&name];
        // A `|` inside a table cell must be escaped, even in a code span (`ka@q||p`).
        let escaped = name.replace('|', "\\|");
        let label = if o["with_rationale"].as_bool() == Some(true) {
            format!("`{escaped}` (rationale in the prompt at test time: upper bound)")
        } else {
            format!("`{escaped}`")
        };
        row(&mut md, &label, o);
    }
    md.push_str(&format!(
        "\n`acc`: the choice with the highest summed log-probability; `acc_norm`: divided by the choice's length in characters (lm-evaluation-harness's two metrics). known&incorrect: among questions whose every fact check the model answers right, the share it gets wrong; facts known: fact checks answered right (for fine-tuned models: retained). Probability on the choices: the model's probability that its answer starts like one of the choices at all. The oracle reads rationales built from the gold answer, so it bounds what the rationale can give rather than being a fair baseline. Took {:.0}s.\n",
        summary["seconds"].as_f64().unwrap_or(0.0)
    ));
    if let Some(skill) = summary["skill_with_rationale"]["mean"].as_f64() {
        if config.pretrained.is_none() {
            md.push_str(&format!(
                "Skill questions answered with their rationale after teaching: {:.1}%.\n",
                100.0 * skill
            ));
        }
    }
    md
}
