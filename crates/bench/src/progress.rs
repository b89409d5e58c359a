//! What `poie bench` shows while it runs: progress bars on a terminal, a plain line per phase
//! and per sampling round otherwise (a log or a CI job sees the run advance), or nothing.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::RefCell;

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// Progress bars on stderr (a terminal).
    Bars,
    /// A line on stderr per phase and per round.
    Lines,
    /// Nothing (tests, library use).
    Nothing,
}

pub struct Progress {
    show: Show,
    bar: RefCell<ProgressBar>,
}

impl Progress {
    pub fn new(show: Show) -> Progress {
        Progress {
            show,
            bar: RefCell::new(ProgressBar::hidden()),
        }
    }

    /// Starts a phase of `len` steps.
    pub fn phase(&self, prefix: &str, len: u64, what: &str) {
        self.bar.borrow().finish_and_clear();
        let bar = match self.show {
            Show::Bars => {
                let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
                b.set_style(
                    ProgressStyle::with_template("{prefix:>10} [{bar:20}] {pos}/{len} {msg}")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
                b.set_prefix(prefix.to_string());
                b
            }
            Show::Lines => {
                eprintln!("poie: {what}");
                ProgressBar::hidden()
            }
            Show::Nothing => ProgressBar::hidden(),
        };
        *self.bar.borrow_mut() = bar;
    }

    /// The bar of the current phase (hidden unless bars are shown).
    pub fn bar(&self) -> ProgressBar {
        self.bar.borrow().clone()
    }

    /// A sampling round begins: `points` of `total` points are sampled in it.
    pub fn round(&self, round: usize, points: usize, total: usize, elapsed: f64) {
        match self.show {
            Show::Lines => eprintln!(
                "poie: round {round}: sampling {points} of {total} points ({elapsed:.0} s so far)"
            ),
            Show::Bars => {
                let bar = self.bar.borrow();
                bar.set_length(bar.position() + points as u64);
                bar.set_message(format!("round {round}: {points} of {total} points"));
            }
            Show::Nothing => {}
        }
    }

    /// One point is about to be sampled.
    pub fn point(&self, label: &str) {
        if self.show == Show::Bars {
            let bar = self.bar.borrow();
            bar.inc(1);
            bar.set_message(label.to_string());
        }
    }

    pub fn finish(&self) {
        self.bar.borrow().finish_and_clear();
    }
}
