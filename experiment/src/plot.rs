//! PNG charts of training runs: loss and accuracy curves from `metrics.jsonl` logs, and bar
//! charts of final results with their confidence intervals. The font is embedded (DejaVu Sans),
//! so charts render the same on a bare machine.

use crate::error::{ExperimentError, Result};
use kale_trainer::metrics::{read_metrics, MetricsRecord};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 500;
const FONT: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| ())
            .expect("DejaVu Sans is a valid font");
    });
}

/// One run's curves, read from its metrics log.
pub struct Run {
    pub label: String,
    /// (step, training loss).
    pub loss: Vec<(f64, f64)>,
    /// (step, accuracy, known&incorrect when measured).
    pub eval: Vec<(f64, f64, Option<f64>)>,
}

impl Run {
    /// The run logged at `path`, labelled by the name of the directory the log is in.
    pub fn read_labelled(path: &Path) -> Result<Self> {
        let label = path
            .parent()
            .and_then(Path::file_name)
            .or_else(|| path.file_stem())
            .map_or_else(|| "run".to_owned(), |n| n.to_string_lossy().into_owned());
        Self::read(path, &label)
    }

    pub fn read(path: &Path, label: &str) -> Result<Self> {
        let mut run = Self {
            label: label.to_owned(),
            loss: Vec::new(),
            eval: Vec::new(),
        };
        for record in read_metrics(path)? {
            match record {
                MetricsRecord::Step(s) => run.loss.push((s.step as f64, s.loss)),
                MetricsRecord::Eval { step, eval } => {
                    run.eval
                        .push((step as f64, eval.accuracy, eval.known_incorrect));
                }
            }
        }
        if run.loss.is_empty() && run.eval.is_empty() {
            return Err(ExperimentError::Config(format!(
                "{}: no loss or eval lines",
                path.display()
            )));
        }
        Ok(run)
    }
}

fn colour(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    PALETTE[i % PALETTE.len()]
}

fn plot_err<E: std::fmt::Debug>(out: &Path) -> impl Fn(E) -> ExperimentError + '_ {
    move |e| ExperimentError::Chart {
        path: out.to_owned(),
        message: format!("{e:?}"),
    }
}

type Chart<'a> = ChartContext<'a, BitMapBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A panel with a caption, step on x, and its mesh drawn.
fn panel<'a>(
    area: &DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>,
    caption: &str,
    max_x: f64,
    max_y: f64,
    y_desc: &str,
    out: &Path,
) -> Result<Chart<'a>> {
    let err = plot_err(out);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..max_x, 0.0..max_y)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc(y_desc)
        .label_style((FONT, 14))
        .draw()
        .map_err(&err)?;
    Ok(chart)
}

fn legend(chart: &mut Chart<'_>, position: SeriesLabelPosition, out: &Path) -> Result<()> {
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(plot_err(out))
}

/// Loss (left) and evaluation accuracy (right) against the step, one line per run.
pub fn curves(runs: &[Run], out: &Path) -> Result<()> {
    register_font();
    let err = plot_err(out);
    let root = BitMapBackend::new(out, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let (left, right) = root.split_horizontally(WIDTH / 2);
    let max_step = runs
        .iter()
        .flat_map(|r| r.loss.iter().map(|p| p.0).chain(r.eval.iter().map(|p| p.0)))
        .fold(1.0f64, f64::max);
    let max_loss = runs
        .iter()
        .flat_map(|r| r.loss.iter().map(|p| p.1))
        .filter(|l| l.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.05;

    let mut chart = panel(&left, "training loss", max_step, max_loss, "loss", out)?;
    for (i, run) in runs.iter().enumerate() {
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(run.loss.iter().copied(), c.stroke_width(2)))
            .map_err(&err)?
            .label(run.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight, out)?;

    let mut chart = panel(
        &right,
        "held-out accuracy (dashed: known&incorrect)",
        max_step,
        1.0,
        "share",
        out,
    )?;
    for (i, run) in runs.iter().enumerate() {
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(
                run.eval.iter().map(|p| (p.0, p.1)),
                c.stroke_width(2),
            ))
            .map_err(&err)?
            .label(run.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart
            .draw_series(
                run.eval
                    .iter()
                    .map(|p| Circle::new((p.0, p.1), 3, c.filled())),
            )
            .map_err(&err)?;
        let known: Vec<(f64, f64)> = run
            .eval
            .iter()
            .filter_map(|p| p.2.map(|k| (p.0, k)))
            .collect();
        chart
            .draw_series(DashedLineSeries::new(known, 6, 4, c.stroke_width(1)))
            .map_err(&err)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight, out)?;
    root.present().map_err(&err)?;
    Ok(())
}

/// One bar: a value in [0, 1] with an optional 95% interval.
pub struct Bar {
    pub group: String,
    pub series: String,
    pub value: f64,
    pub ci: Option<[f64; 2]>,
}

/// Grouped bars (one group per metric, one colour per series) with their intervals.
pub fn bars(title: &str, bars: &[Bar], out: &Path) -> Result<()> {
    register_font();
    let err = plot_err(out);
    let mut groups: Vec<&str> = Vec::new();
    let mut series: Vec<&str> = Vec::new();
    for b in bars {
        if !groups.contains(&b.group.as_str()) {
            groups.push(&b.group);
        }
        if !series.contains(&b.series.as_str()) {
            series.push(&b.series);
        }
    }
    let root = BitMapBackend::new(out, (WIDTH * 2 / 3, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let groups_len = groups.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..groups_len, 0.0..1.25)
        .map_err(&err)?;
    let names: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let centre = x - x.floor();
            if (centre - 0.5).abs() < 1e-6 {
                names.get(x.floor() as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("share")
        .label_style((FONT, 15))
        .draw()
        .map_err(&err)?;
    let width = 0.8 / series.len().max(1) as f64;
    for (si, name) in series.iter().enumerate() {
        let c = colour(si);
        let mine: Vec<(f64, &Bar)> = bars
            .iter()
            .filter(|b| b.series == *name)
            .map(|b| {
                let g = groups.iter().position(|g| *g == b.group).unwrap_or(0) as f64;
                (g + 0.1 + width * si as f64, b)
            })
            .collect();
        chart
            .draw_series(
                mine.iter().map(|(x, b)| {
                    Rectangle::new([(*x, 0.0), (x + width * 0.9, b.value)], c.filled())
                }),
            )
            .map_err(&err)?
            .label(name.to_string())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
        for (x, b) in &mine {
            let centre = x + width * 0.45;
            if let Some([lo, hi]) = b.ci {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(centre, lo), (centre, hi)],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(&err)?;
            }
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{:.0}%", 100.0 * b.value),
                    (centre - width * 0.3, (b.value + 0.04).min(0.97)),
                    (FONT, 14),
                )))
                .map_err(&err)?;
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight, out)?;
    root.present().map_err(&err)?;
    Ok(())
}
