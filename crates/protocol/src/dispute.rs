//! The players' side of a dispute's second phase (SPEC 6.7): one job replayed on demand for its
//! states and step proofs ([`JobReplay`]), and the challenger's bisection over the executor's
//! committed states ([`play_states`]), which ends in a step proof that the challenger builds
//! itself from the agreed state and a ruling that anyone re-derives without running the job
//! (`poie_referee::dispute::replay`).
//!
//! The TCP game (`challenge`) plays it after the first phase opens a wrong chunk, and for a
//! disputed job claim; here the executor's answers come from any source (`ask`), and the
//! rounds are recorded as `poie_referee::Round`s.

use crate::windback::{ExecuteError, Job};
use poie_referee::{
    judge, Bisection, BisectionError, Claim, Hash, LeafProof, Round, Ruling, StepError, StepProof,
};
use poie_trace::NoTrace;
use poie_vm::{StepProofParts, Vm};
use std::fmt;

/// One job of a windback, replayed on demand: the state after any number of its chunks, and
/// the step proof from it. Holds one VM and the job's program and input; asking for an earlier
/// step than the last one asked replays from the job's start, so a query costs at most the
/// job's length in steps and nothing more in memory.
pub struct JobReplay {
    elf: Vec<u8>,
    input: Vec<u8>,
    index: u32,
    max_steps: u64,
    vm: Vm,
    /// The VM ran out of instructions short of a target: it may be past its last chunk's
    /// state (a trap executes without retiring), so it cannot serve that state again.
    finished: bool,
}

impl JobReplay {
    /// Job `index` of a windback whose jobs run under `max_steps`.
    pub fn new(job: &Job, index: u32, max_steps: u64) -> Result<JobReplay, ExecuteError> {
        let k = index as usize;
        let read = |source| ExecuteError::Read {
            job: k,
            program: job.program.clone(),
            source,
        };
        let elf = job.elf.load().map_err(read)?;
        let input = job.input.load().map_err(read)?;
        let vm = Self::load(&elf, &input, k, &job.program)?;
        Ok(JobReplay {
            elf,
            input,
            index,
            max_steps,
            vm,
            finished: false,
        })
    }

    fn load(elf: &[u8], input: &[u8], job: usize, program: &str) -> Result<Vm, ExecuteError> {
        Vm::new(elf, input.to_vec()).map_err(|source| ExecuteError::Load {
            job,
            program: program.to_string(),
            source,
        })
    }

    /// Brings the VM to `step` retired instructions, or as far as the job goes under its step
    /// limit; returns whether it got there.
    fn seek(&mut self, step: u64) -> Result<bool, ExecuteError> {
        let retired = self.vm.retired();
        if retired > step || (self.finished && retired >= step) {
            self.vm = Self::load(&self.elf, &self.input, self.index as usize, "replay")?;
            self.finished = false;
        }
        let want = step.min(self.max_steps);
        let left = want - self.vm.retired().min(want);
        if left > 0 && !self.finished {
            let ran = self.vm.run(&mut NoTrace, left)?;
            self.finished = ran.steps < left;
        }
        Ok(self.vm.retired() == step && !self.finished)
    }

    /// The commitment of the state after `step` chunks; `None` when the job emits fewer.
    pub fn state(&mut self, step: u64) -> Result<Option<Hash>, ExecuteError> {
        Ok(self
            .seek(step)?
            .then(|| self.vm.state_commitment(self.index, self.max_steps)))
    }

    /// The step proof from the state after `step` chunks; `None` when the job emits fewer.
    pub fn step_proof(&mut self, step: u64) -> Result<Option<StepProof>, ExecuteError> {
        if !self.seek(step)? {
            return Ok(None);
        }
        Ok(Some(step_proof_of(
            &self.vm.step_proof(self.index, self.max_steps),
        )))
    }

    /// The job's final state commitment (its state root) and its number of chunks.
    pub fn end(&mut self) -> Result<(Hash, u64), ExecuteError> {
        // Runs to the end: a trap after the last chunk is executed too (it retires nothing).
        self.seek(u64::MAX)?;
        Ok((
            self.vm.state_commitment(self.index, self.max_steps),
            self.vm.retired(),
        ))
    }
}

/// The VM's step proof parts as the referee's `StepProof`: the same leaves, field by field.
pub fn step_proof_of(p: &StepProofParts) -> StepProof {
    let leaf = |l: &poie_vm::LeafProof| LeafProof {
        index: l.index,
        leaf: l.leaf,
        siblings: l.siblings.clone(),
    };
    StepProof {
        header: p.header.clone(),
        fetch: leaf(&p.fetch),
        fetch_page: leaf(&p.fetch_page),
        data: p.data.iter().map(leaf).collect(),
        data_pages: p.data_pages.iter().map(leaf).collect(),
        input: p.input.iter().map(leaf).collect(),
        page_memory: p.page_memory.iter().map(leaf).collect(),
    }
}

/// What the challenger disputes at the end of the job's states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disputed {
    /// The chunk the executor opened at the job's step `step` (the first phase's leaf).
    Chunk { step: u64, chunk: [u8; 32] },
    /// The executor's claim that the job emits `steps` chunks and ends in `root`.
    Final { steps: u64, root: Hash },
}

impl Disputed {
    /// The bisection's right end and the executor's claim there.
    pub fn end(&self) -> Option<(u64, Claim)> {
        match *self {
            Disputed::Chunk { step, chunk } => Some((step.checked_add(1)?, Claim::Chunk(chunk))),
            Disputed::Final { steps, root } => Some((steps.checked_add(1)?, Claim::Final(root))),
        }
    }
}

/// A finished second phase: the rounds, the claim at the end, the step proof and the ruling.
#[derive(Clone, Debug)]
pub struct StateGame {
    pub hi: u64,
    pub at_hi: Claim,
    pub rounds: Vec<Round>,
    pub proof: StepProof,
    pub ruling: Ruling,
}

/// How a second phase ended.
#[derive(Clone, Debug)]
pub enum PhaseEnd {
    Ruled(Box<StateGame>),
    /// The vote's initial state for the job is not the job's: settled from the windback by
    /// loading the job, with no game.
    WrongInitialState,
    /// The executor did not answer a round properly: nothing proven (SPEC 6.7).
    Unproven(String),
}

/// Why the challenger could not play: its own replay failed, or the game's shape is wrong.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    #[error(transparent)]
    Bisection(#[from] BisectionError),
    #[error("the disputed step is past 2^64")]
    Overflow,
    #[error(
        "no step proof from the agreed state {0}: the challenger's own replay has no such state"
    )]
    NoState(u64),
    #[error("the challenger's own step proof is refused: {0}")]
    Proof(#[from] StepError),
}

/// The challenger's second phase against the executor's answers: `initial` is the job's
/// initial state as the vote claims it, `truth` the challenger's replay of the job, `ask`
/// gives the executor's commitments at a round's points (with the previous round, whose
/// choice the request carries). Bisects over `arity`-way rounds to one step, then builds the
/// step proof from the agreed state and rules on it.
pub fn play_states<E: fmt::Display>(
    truth: &mut JobReplay,
    initial: &Hash,
    disputed: &Disputed,
    arity: u64,
    mut ask: impl FnMut(Option<&Round>, &[u64]) -> Result<Vec<Hash>, E>,
) -> Result<PhaseEnd, PlayError> {
    if truth.state(0)? != Some(*initial) {
        return Ok(PhaseEnd::WrongInitialState);
    }
    let (hi, at_hi) = disputed.end().ok_or(PlayError::Overflow)?;
    let mut b = Bisection::new(0, hi, arity)?;
    let mut rounds = Vec::new();
    let mut agreed = *initial;
    while !b.done() {
        let points = b.points();
        let answers = match ask(rounds.last(), &points) {
            Ok(a) if a.len() == points.len() => a,
            Ok(a) => {
                return Ok(PhaseEnd::Unproven(format!(
                    "round {}: {} answers to {} points",
                    rounds.len(),
                    a.len(),
                    points.len()
                )))
            }
            Err(why) => {
                return Ok(PhaseEnd::Unproven(format!(
                    "round {}: the executor did not answer: {}",
                    rounds.len(),
                    why.to_string().escape_debug()
                )))
            }
        };
        let mut disputed_at = None;
        for (t, (&p, a)) in points.iter().zip(&answers).enumerate() {
            if truth.state(p)? != Some(*a) {
                disputed_at = Some(t);
                break;
            }
            agreed = *a;
        }
        b.narrow(disputed_at)?;
        rounds.push(Round {
            points,
            answers,
            disputed: disputed_at,
        });
    }
    let lo = b.range().0;
    let proof = truth.step_proof(lo)?.ok_or(PlayError::NoState(lo))?;
    let claim = match rounds.iter().rev().find_map(|r| {
        let t = r.disputed?;
        Some((*r.points.get(t)?, *r.answers.get(t)?))
    }) {
        Some((p, h)) if p == lo + 1 => Claim::State(h),
        _ => at_hi.clone(),
    };
    let ruling = judge(&agreed, &claim, &proof)?;
    Ok(PhaseEnd::Ruled(Box::new(StateGame {
        hi,
        at_hi,
        rounds,
        proof,
        ruling,
    })))
}
