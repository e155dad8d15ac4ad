//! Draws the libraries' progress reports on the terminal with indicatif (nothing when stderr is
//! not a terminal, as in CI logs; `--quiet` turns it off too).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kg_store::progress::{Progress, Unit};
use std::sync::Mutex;
use std::time::Duration;

pub struct TerminalProgress {
    bar: Mutex<Option<ProgressBar>>,
    quiet: bool,
}

impl TerminalProgress {
    pub fn new(quiet: bool) -> Self {
        Self {
            bar: Mutex::new(None),
            quiet,
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            f(bar);
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
        if let Some(old) = self
            .bar
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(bar)
        {
            old.finish_and_clear();
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
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}
