//! What the harness tells its caller while it runs: phases, sampling rounds and steps. The
//! harness only reports; how progress is shown (bars on a terminal, a line per phase in a
//! log) is the command's business, so the library carries no terminal code.

/// Receives the harness's progress. Every method does nothing by default ([`Quiet`]).
pub trait Progress {
    /// A phase of `len` steps begins: `prefix` names it in a word, `what` in a sentence.
    fn phase(&self, prefix: &str, len: u64, what: &str) {
        let _ = (prefix, len, what);
    }

    /// A sampling round begins: `points` of `total` points are sampled in it.
    fn round(&self, round: usize, points: usize, total: usize, elapsed_secs: f64) {
        let _ = (round, points, total, elapsed_secs);
    }

    /// One step of the phase is done.
    fn advance(&self) {}

    /// What the phase does now.
    fn message(&self, what: &str) {
        let _ = what;
    }

    /// A step is done and the next, `what`, begins.
    fn step(&self, what: &str) {
        self.advance();
        self.message(what);
    }

    /// The run is over.
    fn finish(&self) {}
}

/// Shows nothing (tests, library use).
pub struct Quiet;

impl Progress for Quiet {}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::cell::Cell;

    /// Counts the steps, as a progress bar's position.
    #[derive(Default)]
    pub(crate) struct Steps(pub Cell<u64>);

    impl Progress for Steps {
        fn advance(&self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn a_step_advances_once() {
        let s = Steps::default();
        s.step("next");
        s.step("after");
        assert_eq!(s.0.get(), 2);
    }
}
