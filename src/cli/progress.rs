//! How `poie bench` shows the harness's progress: bars on a terminal, a plain line per phase
//! and per sampling round otherwise (a log or a CI job sees the run advance).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use poie::bench::progress::Progress;
use std::cell::RefCell;
use std::io::IsTerminal;

/// Bars on a terminal, lines elsewhere; stderr either way.
pub struct Shown {
    bars: bool,
    bar: RefCell<ProgressBar>,
}

impl Shown {
    /// Bars when stderr is a terminal, lines otherwise.
    pub fn on_stderr() -> Shown {
        Shown {
            bars: std::io::stderr().is_terminal(),
            bar: RefCell::new(ProgressBar::hidden()),
        }
    }
}

impl Progress for Shown {
    fn phase(&self, prefix: &str, len: u64, what: &str) {
        self.bar.borrow().finish_and_clear();
        let bar = if self.bars {
            let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{prefix:>10} [{bar:20}] {pos}/{len} {msg}")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_prefix(prefix.to_string());
            b
        } else {
            eprintln!("poie: {what}");
            ProgressBar::hidden()
        };
        *self.bar.borrow_mut() = bar;
    }

    fn round(&self, round: usize, points: usize, total: usize, elapsed_secs: f64) {
        if self.bars {
            let bar = self.bar.borrow();
            bar.set_length(bar.position() + points as u64);
            bar.set_message(format!("round {round}: {points} of {total} points"));
        } else {
            eprintln!(
                "poie: round {round}: sampling {points} of {total} points ({elapsed_secs:.0} s so far)"
            );
        }
    }

    fn advance(&self) {
        self.bar.borrow().inc(1);
    }

    fn message(&self, what: &str) {
        self.bar.borrow().set_message(what.to_string());
    }

    fn finish(&self) {
        self.bar.borrow().finish_and_clear();
    }
}
