//! Draws the libraries' progress reports on the terminal with indicatif. When stderr is not a
//! terminal (a log file, CI) each phase instead gets one line when it ends, with its count and
//! time, so a long load's log says where the time went; `--quiet` turns both off.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kg_store::progress::{Progress, Unit};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TerminalProgress {
    phase: Mutex<Option<Phase>>,
    quiet: bool,
    /// Whether phases are logged as lines (stderr is not a terminal).
    log: bool,
}

struct Phase {
    bar: ProgressBar,
    name: String,
    unit: Unit,
    started: Instant,
}

impl TerminalProgress {
    pub fn new(quiet: bool) -> Self {
        Self {
            phase: Mutex::new(None),
            quiet,
            log: !quiet && !std::io::stderr().is_terminal(),
        }
    }

    fn close(&self, phase: Phase) {
        phase.bar.finish_and_clear();
        if self.log {
            let done = phase.bar.position();
            let count = match phase.unit {
                Unit::Bytes => format!("{:.1} MB", done as f64 / 1e6),
                Unit::Items(name) => format!("{done} {name}"),
            };
            eprintln!(
                "{}: {count} in {:.1}s",
                phase.name,
                phase.started.elapsed().as_secs_f64()
            );
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(phase) = self
            .phase
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            f(&phase.bar);
        }
    }
}

impl Progress for TerminalProgress {
    fn begin(&self, phase: &str, total: Option<u64>, unit: Unit) {
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        };
        if self.quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let counts = match (unit, total.is_some()) {
            (Unit::Bytes, true) => "{bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})".to_owned(),
            (Unit::Bytes, false) => "{bytes} ({bytes_per_sec})".to_owned(),
            (Unit::Items(name), true) => {
                format!("{{human_pos}}/{{human_len}} {name} ({{per_sec}}, eta {{eta}})")
            }
            (Unit::Items(name), false) => format!("{{human_pos}} {name} ({{per_sec}})"),
        };
        let template = if total.is_some() {
            format!("{{prefix:>12.bold}} [{{bar:30.cyan/blue}}] {counts} {{msg}}")
        } else {
            format!("{{prefix:>12.bold}} {{spinner}} {counts} {{msg}}")
        };
        let style = ProgressStyle::with_template(&template)
            .expect("a valid template")
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(phase.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        let phase = Phase {
            bar,
            name: phase.to_owned(),
            unit,
            started: Instant::now(),
        };
        let old = self
            .phase
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(phase);
        if let Some(old) = old {
            self.close(old);
        }
    }

    fn advance(&self, n: u64) {
        self.with_bar(|b| b.inc(n));
    }

    fn set_position(&self, done: u64) {
        self.with_bar(|b| b.set_position(done));
    }

    fn note(&self, text: &str) {
        self.with_bar(|b| b.set_message(text.to_owned()));
    }

    fn end(&self) {
        let old = self.phase.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(old) = old {
            self.close(old);
        }
    }
}
