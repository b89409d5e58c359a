//! The second phase of a dispute, judged without running the program (SPEC 6.7): the players
//! bisect over one job's state commitments, the executor posting its commitment at each point
//! the challenger asks for, until they hold a state `pre` the executor committed to and, one
//! step later, something the executor claimed that the challenger disputes: the next state, the
//! chunk of the disputed leaf, or the job's state root. One step proof from `pre` then decides
//! ([`judge`]), and anyone who holds `pre` can build that proof, the challenger included.
//!
//! Within a job, state `i` is the state after its first `i` chunks (state 0 is the job's
//! initial state, which the vote claims and anyone computes from the windback). After the
//! job's last chunk comes its final state: the same state when the job exited or reached its
//! step limit, the state after the trapping instruction when it trapped (a trap emits no
//! chunk). So a claimed state, chunk or state root after a state from which the job cannot go
//! on, or a claimed end where it does go on, is the executor's own contradiction: this is how
//! a trace that is too short (windback skipping) or too long, a wrong state root and a wrong
//! chunk are all settled by one step.

use crate::header::{Header, Status};
use crate::merkle::Hash;
use crate::step::{step, Chunk, StepError, StepProof};
use std::fmt;

/// What the executor claimed one step after the agreed state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The commitment of the next state (a point of the bisection).
    State(Hash),
    /// The chunk of the next step: the opened leaf of the first phase.
    Chunk(Chunk),
    /// The job's state root: the agreed state is the last one of its claimed steps, and this
    /// is its final state.
    Final(Hash),
}

/// Who the step proof shows to be wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ruling {
    /// The executor's committed claims contradict one step of the VM.
    ExecutorLoses(String),
    /// The step agrees with the executor: the challenge was false.
    ChallengerLoses(String),
}

impl fmt::Display for Ruling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ruling::ExecutorLoses(why) => write!(f, "executor loses: {why}"),
            Ruling::ChallengerLoses(why) => write!(f, "challenger loses: {why}"),
        }
    }
}

fn hex8(h: &[u8]) -> String {
    h.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Whether no step can follow `h`: the job exited, trapped or is at its step limit.
fn terminal(h: &Header) -> bool {
    h.status != Status::Running || h.steps >= h.max_steps
}

/// Rules on `claim`, made one step after the state committed to by `pre`, from a step proof
/// whose header is that state. `Err` when the proof does not show a step from `pre` (its
/// header is not `pre`'s, or a leaf does not verify): whoever submitted it has proven nothing.
pub fn judge(pre: &Hash, claim: &Claim, proof: &StepProof) -> Result<Ruling, StepError> {
    let header = Header::decode(&proof.header)?;
    if header.commitment() != *pre {
        return Err(StepError::HeaderMismatch);
    }
    let (lose, win) = (Ruling::ExecutorLoses, Ruling::ChallengerLoses);
    if terminal(&header) {
        let at = header.steps;
        return Ok(match claim {
            Claim::Final(root) if root == pre => win(format!(
                "the job ends at step {at} with the claimed state root"
            )),
            Claim::Final(root) => lose(format!(
                "the job ends at step {at} in state {}, not the claimed state root {}",
                hex8(pre),
                hex8(root)
            )),
            Claim::State(_) | Claim::Chunk(_) => lose(format!(
                "the job ended at step {at} ({:?}), yet the executor claims a step after it",
                header.status
            )),
        });
    }
    let r = step(&header, proof)?;
    let at = header.steps;
    Ok(match (claim, r.chunk) {
        (Claim::State(_) | Claim::Chunk(_), None) => lose(format!(
            "step {at} traps ({:?}): the job's trace ends there, yet the executor claims a step after it",
            r.post.trap_kind
        )),
        (Claim::State(h), Some(_)) if *h == r.post_commitment => {
            win(format!("step {at} gives the claimed state"))
        }
        (Claim::State(h), Some(_)) => lose(format!(
            "step {at} gives state {}, not the claimed {}",
            hex8(&r.post_commitment),
            hex8(h)
        )),
        (Claim::Chunk(c), Some(chunk)) if *c == chunk => {
            win(format!("step {at} emits the claimed chunk"))
        }
        (Claim::Chunk(_), Some(_)) => lose(format!("step {at} emits another chunk than the opened leaf")),
        (Claim::Final(_), Some(_)) => lose(format!(
            "the job goes on after its claimed last step {at}: its claimed step count is short"
        )),
        (Claim::Final(root), None) if *root == r.post_commitment => {
            win(format!("step {at} traps into the claimed state root"))
        }
        (Claim::Final(_), None) => lose(format!(
            "step {at} traps into another state than the claimed state root"
        )),
    })
}

/// The bisection over one job's states `[lo, hi]`: the state at `lo` is agreed, the executor's
/// claim at `hi` is disputed. Each round the executor commits to the states at up to
/// `arity - 1` points strictly inside, evenly spaced, and the challenger names the first it
/// disputes; the interval shrinks to the points around it, until `hi = lo + 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bisection {
    lo: u64,
    hi: u64,
    arity: u64,
}

/// Why a bisection or a round of it is malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BisectionError {
    #[error(
        "a bisection needs lo < hi and an arity of 2 to 256 (got [{lo}, {hi}], arity {arity})"
    )]
    Shape { lo: u64, hi: u64, arity: u64 },
    #[error("round answers {got} points, the round asked {asked}")]
    Answers { asked: usize, got: usize },
    #[error("the disputed point {0} is not one of the round's")]
    Disputed(usize),
}

/// The most points per round: keeps a round's message and its signature small.
pub const MAX_ARITY: u64 = 256;

/// The arity of the challenge game's second phase (docs/PROTOCOL.md justifies it): 8 rounds
/// for 10^9 steps, where a 2-way bisection takes 30.
pub const GAME_ARITY: u64 = 16;

impl Bisection {
    pub fn new(lo: u64, hi: u64, arity: u64) -> Result<Bisection, BisectionError> {
        if lo >= hi || !(2..=MAX_ARITY).contains(&arity) {
            return Err(BisectionError::Shape { lo, hi, arity });
        }
        Ok(Bisection { lo, hi, arity })
    }

    /// The current interval `(lo, hi)`.
    pub fn range(&self) -> (u64, u64) {
        (self.lo, self.hi)
    }

    /// Whether the interval is one step: the step proof from `lo` decides.
    pub fn done(&self) -> bool {
        self.hi - self.lo <= 1
    }

    /// The points of the next round, ascending: `lo + (hi - lo) * t / arity` for `t` in
    /// `1 .. arity`, without repeats, all strictly inside; empty when done.
    pub fn points(&self) -> Vec<u64> {
        let len = self.hi - self.lo;
        let mut points: Vec<u64> = (1..self.arity)
            .map(|t| {
                // len * t / arity without overflow: len < 2^64, t < arity <= 256.
                let p = (u128::from(len) * u128::from(t) / u128::from(self.arity)) as u64;
                self.lo + p
            })
            .filter(|&p| p > self.lo && p < self.hi)
            .collect();
        points.dedup();
        points
    }

    /// Narrows to the interval before the round's point `first_disputed` (an index into
    /// [`Bisection::points`]), or, for `None` (every point agreed), after the last point.
    pub fn narrow(&mut self, first_disputed: Option<usize>) -> Result<(), BisectionError> {
        let points = self.points();
        match first_disputed {
            Some(t) => {
                let &hi = points.get(t).ok_or(BisectionError::Disputed(t))?;
                let lo = t
                    .checked_sub(1)
                    .and_then(|s| points.get(s))
                    .copied()
                    .unwrap_or(self.lo);
                (self.lo, self.hi) = (lo, hi);
            }
            None => {
                if let Some(&last) = points.last() {
                    self.lo = last;
                }
            }
        }
        Ok(())
    }
}

/// The most rounds a bisection of `len` steps (`[0, len]`) takes at `arity`: each round keeps
/// the widest of the intervals its points make.
pub fn rounds(len: u64, arity: u64) -> u32 {
    let Ok(mut b) = Bisection::new(0, len.max(1), arity) else {
        return 0;
    };
    let mut n = 0;
    while !b.done() {
        let bounds: Vec<u64> = std::iter::once(b.lo)
            .chain(b.points())
            .chain(std::iter::once(b.hi))
            .collect();
        if let Some((lo, hi)) = bounds
            .windows(2)
            .map(|w| (w[0], w[1]))
            .max_by_key(|&(lo, hi)| hi - lo)
        {
            (b.lo, b.hi) = (lo, hi);
        }
        n += 1;
    }
    n
}

/// One round of a bisection as a transcript records it: the points asked, the executor's
/// commitment at each (checked as signed by whoever holds the transcript), and the index of the
/// first point the challenger disputed (`None`: it agreed with all of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round {
    pub points: Vec<u64>,
    pub answers: Vec<Hash>,
    pub disputed: Option<usize>,
}

/// Why a recorded second phase is not a game the rules allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Bisection(#[from] BisectionError),
    #[error("round {round} asks for other points than the bisection's")]
    Points { round: usize },
    #[error("the bisection is not finished after {rounds} rounds")]
    Unfinished { rounds: usize },
    #[error("{extra} round(s) after the bisection finished")]
    Extra { extra: usize },
    #[error("the step proof is not one from the agreed state: {0}")]
    Proof(#[from] StepError),
}

/// Replays a recorded second phase without running anything: the bisection over `[0, hi]`
/// from `initial` (the job's initial state, which the vote claims), re-derived round by round
/// from the recorded points and choices ([`settle`]), then [`judge`] on the step proof from the
/// agreed state `lo` against what the executor claimed at `lo + 1`. Work: one step proof and
/// one comparison per round, whatever the job's length.
pub fn replay(
    initial: &Hash,
    at_hi: &Claim,
    hi: u64,
    arity: u64,
    rounds: &[Round],
    proof: &StepProof,
) -> Result<Ruling, ReplayError> {
    let (pre, claim) = settle(initial, at_hi, hi, arity, rounds)?;
    Ok(judge(&pre, &claim, proof)?)
}

/// What a recorded bisection leaves to one step: the agreed state at `lo` (the executor's
/// commitment there, or `initial` at 0) and the executor's claim at `lo + 1` (its answer
/// there, or `at_hi` when `lo + 1 = hi`). The rounds are checked as [`replay`] says; this is
/// what an on-chain judgement of the last step takes.
pub fn settle(
    initial: &Hash,
    at_hi: &Claim,
    hi: u64,
    arity: u64,
    rounds: &[Round],
) -> Result<(Hash, Claim), ReplayError> {
    let mut b = Bisection::new(0, hi, arity)?;
    // The executor's commitments at the current ends, `None` at 0 and at `hi`.
    let (mut at_lo, mut at_up): (Option<Hash>, Option<Hash>) = (None, None);
    for (k, round) in rounds.iter().enumerate() {
        if b.done() {
            return Err(ReplayError::Extra {
                extra: rounds.len() - k,
            });
        }
        if round.points != b.points() {
            return Err(ReplayError::Points { round: k });
        }
        if round.answers.len() != round.points.len() {
            return Err(BisectionError::Answers {
                asked: round.points.len(),
                got: round.answers.len(),
            }
            .into());
        }
        match round.disputed {
            Some(t) => {
                at_up = Some(*round.answers.get(t).ok_or(BisectionError::Disputed(t))?);
                if let Some(s) = t.checked_sub(1) {
                    at_lo = round.answers.get(s).copied();
                }
            }
            None => at_lo = round.answers.last().copied().or(at_lo),
        }
        b.narrow(round.disputed)?;
    }
    if !b.done() {
        return Err(ReplayError::Unfinished {
            rounds: rounds.len(),
        });
    }
    let pre = at_lo.unwrap_or(*initial);
    let claim = match at_up {
        Some(h) if b.range().1 != hi => Claim::State(h),
        _ => at_hi.clone(),
    };
    Ok((pre, claim))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_inside_and_ascending() {
        for (lo, hi, arity) in [
            (0, 10, 2),
            (0, 10, 4),
            (5, 7, 16),
            (0, 1 << 40, 256),
            (3, 4, 2),
        ] {
            let b = Bisection::new(lo, hi, arity).unwrap();
            let p = b.points();
            assert!(p.windows(2).all(|w| w[0] < w[1]));
            assert!(p.iter().all(|&x| x > lo && x < hi));
            assert!(p.len() < arity as usize);
            assert_eq!(p.is_empty(), hi - lo == 1);
        }
    }

    #[test]
    fn narrowing_ends_at_one_step_containing_the_divergence() {
        // A divergence between states d and d + 1: every point <= d agreed, > d disputed.
        for arity in [2u64, 3, 8, 40] {
            for d in [0u64, 1, 499, 998, 999] {
                let mut b = Bisection::new(0, 1000, arity).unwrap();
                let mut rounds_taken = 0;
                while !b.done() {
                    let first = b.points().iter().position(|&p| p > d);
                    b.narrow(first).unwrap();
                    rounds_taken += 1;
                }
                assert_eq!(b.range(), (d, d + 1), "arity {arity}, divergence {d}");
                assert!(rounds_taken <= rounds(1000, arity), "arity {arity}");
            }
        }
        assert_eq!(
            Bisection::new(5, 5, 2),
            Err(BisectionError::Shape {
                lo: 5,
                hi: 5,
                arity: 2
            })
        );
        assert!(Bisection::new(0, 5, 1).is_err());
        let mut b = Bisection::new(0, 100, 4).unwrap();
        assert_eq!(b.narrow(Some(3)), Err(BisectionError::Disputed(3)));
    }
}
