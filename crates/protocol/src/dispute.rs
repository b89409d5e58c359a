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
use poie_vm::{Snapshot, StepProofParts, Vm};
use std::fmt;

/// When a [`JobReplay`] keeps checkpoints, and how many.
///
/// Checkpoints are snapshots of the job's VM ([`Snapshot`]) at every multiple of `interval`
/// steps that the replay has run past, the job's initial state (step 0) always among them. When
/// they number more than `max_count` or hold more than `max_bytes`, every other one is dropped
/// (those at odd multiples) and the interval doubles, until they fit: the count stays bounded
/// and the spacing even, so a query replays at most one interval, whatever the job's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// Steps between two checkpoints to begin with (at least 1).
    pub interval: u64,
    /// The most bytes the checkpoints may hold together ([`JobReplay::checkpoint_bytes`]), the
    /// initial one's included. The initial state is kept even when it alone is over.
    pub max_bytes: usize,
    /// The most checkpoints kept, the initial one included (at least 1).
    pub max_count: usize,
}

impl Default for CheckpointPolicy {
    /// Every 2^22 steps at first: about 10 ms of replay at the VM's untraced speed (about
    /// 4 * 10^8 steps a second, measured on sort and sieve), so a query's replay costs no more
    /// than resuming a snapshot of a large memory (about 12 ms for 16 MiB). At most 64
    /// checkpoints, so that a job at the limit of 10^9 steps ends with an interval of 2^24
    /// steps (about 40 ms of replay at most per query), and at most 512 MiB: two full memories
    /// of 256 MiB, or many small ones.
    fn default() -> Self {
        CheckpointPolicy {
            interval: 1 << 22,
            max_bytes: 512 << 20,
            max_count: 64,
        }
    }
}

impl CheckpointPolicy {
    /// The initial state alone: a query before the VM's current step replays from the job's
    /// start, as before checkpoints existed (what the tests compare checkpoints against).
    pub const INITIAL_ONLY: CheckpointPolicy = CheckpointPolicy {
        interval: u64::MAX,
        max_bytes: usize::MAX,
        max_count: 1,
    };
}

/// One checkpoint after the initial state, with the bytes it holds that the checkpoint before
/// it in the list does not share.
struct Checkpoint {
    snap: Snapshot,
    held: usize,
}

/// One job of a windback, replayed on demand: the state after any number of its chunks, and
/// the step proof from it. Holds one VM and checkpoints of it ([`CheckpointPolicy`]); asking
/// for an earlier step than the VM's resumes from the latest checkpoint at or before it, so a
/// query costs at most one checkpoint interval of steps (plus the copy of one snapshot), and
/// memory stays within the policy's bounds plus the VM's own.
pub struct JobReplay {
    index: u32,
    max_steps: u64,
    vm: Vm,
    /// The VM ran out of instructions short of a target: it may be past its last chunk's
    /// state (a trap executes without retiring), so it cannot serve that state again.
    finished: bool,
    /// The job's initial state: never dropped, so every step has a checkpoint at or before it
    /// (and the job's program and input need not be kept: its input is shared with it).
    initial: Snapshot,
    /// The checkpoints after the initial one, at `interval`, `2 interval`, ... up to the last
    /// multiple the replay ran past; each taken against the one before it.
    later: Vec<Checkpoint>,
    interval: u64,
    policy: CheckpointPolicy,
    /// Snapshots of this job's VM that another holder keeps (the first phase's tree), ascending
    /// by step: resumed from like checkpoints, never counted or dropped here.
    seeds: Vec<Snapshot>,
}

impl JobReplay {
    /// Job `index` of a windback whose jobs run under `max_steps`, with the default
    /// checkpoints ([`CheckpointPolicy::default`]).
    pub fn new(job: &Job, index: u32, max_steps: u64) -> Result<JobReplay, ExecuteError> {
        Self::with_checkpoints(job, index, max_steps, CheckpointPolicy::default())
    }

    /// [`JobReplay::new`] with checkpoints kept as `policy` says (an interval or count of 0 is
    /// taken as 1).
    pub fn with_checkpoints(
        job: &Job,
        index: u32,
        max_steps: u64,
        policy: CheckpointPolicy,
    ) -> Result<JobReplay, ExecuteError> {
        // Nobody reads a replay's output; its counts and accumulators are kept regardless.
        let mut vm = crate::windback::load_vm(job, index as usize)?;
        let policy = CheckpointPolicy {
            interval: policy.interval.max(1),
            max_count: policy.max_count.max(1),
            ..policy
        };
        let initial = vm.snapshot(None);
        vm.reuse_page_roots(&initial);
        Ok(JobReplay {
            index,
            max_steps,
            initial,
            vm,
            finished: false,
            later: Vec::new(),
            interval: policy.interval,
            policy,
            seeds: Vec::new(),
        })
    }

    /// [`JobReplay::new`] resuming from `seeds`, snapshots of this job's VM that the caller
    /// keeps anyway (`Tree::snapshots_of`, the first phase's checkpoints), and taking none of
    /// its own: the two phases of a player then share one set of pages, and a query replays
    /// at most from the seed before it.
    pub fn with_seeds(
        job: &Job,
        index: u32,
        max_steps: u64,
        mut seeds: Vec<Snapshot>,
    ) -> Result<JobReplay, ExecuteError> {
        let mut replay =
            Self::with_checkpoints(job, index, max_steps, CheckpointPolicy::INITIAL_ONLY)?;
        seeds.sort_by_key(Snapshot::retired);
        replay.seeds = seeds;
        Ok(replay)
    }

    /// Checkpoints kept, the initial state's included.
    pub fn checkpoints(&self) -> usize {
        1 + self.later.len()
    }

    /// The steps the checkpoints are at, ascending (0 first).
    pub fn checkpoint_steps(&self) -> Vec<u64> {
        let later = self.later.iter().map(|c| c.snap.retired());
        std::iter::once(self.initial.retired())
            .chain(later)
            .collect()
    }

    /// The bytes the checkpoints hold together: each one's [`Snapshot::held_bytes_against`]
    /// the one before it (pages they share counted once), the initial one's whole.
    pub fn checkpoint_bytes(&self) -> usize {
        self.later.iter().fold(self.initial.held_bytes(), |sum, c| {
            sum.saturating_add(c.held)
        })
    }

    /// Steps between checkpoints now: the policy's interval, doubled at each thinning.
    pub fn checkpoint_interval(&self) -> u64 {
        self.interval
    }

    /// The latest checkpoint or seed at or before `step`.
    fn checkpoint_before(&self, step: u64) -> &Snapshot {
        let after = self.later.partition_point(|c| c.snap.retired() <= step);
        let own = match after.checked_sub(1).and_then(|i| self.later.get(i)) {
            Some(c) => &c.snap,
            None => &self.initial,
        };
        let after = self.seeds.partition_point(|s| s.retired() <= step);
        match after.checked_sub(1).and_then(|i| self.seeds.get(i)) {
            Some(seed) if seed.retired() > own.retired() => seed,
            _ => own,
        }
    }

    /// The step of the next checkpoint to take: one interval past the last.
    fn next_checkpoint(&self) -> u64 {
        let last = self.later.last().map_or(&self.initial, |c| &c.snap);
        last.retired().saturating_add(self.interval)
    }

    /// Snapshots the VM as the next checkpoint, then thins the checkpoints to the policy.
    fn take_checkpoint(&mut self) {
        let last = self.later.last().map_or(&self.initial, |c| &c.snap);
        let snap = self.vm.snapshot(Some(last));
        let held = snap.held_bytes();
        self.later.push(Checkpoint { snap, held });
        while !self.later.is_empty()
            && (self.checkpoints() > self.policy.max_count
                || self.checkpoint_bytes() > self.policy.max_bytes)
        {
            // Counted from the initial one (0), the checkpoints at even positions stay: those at
            // the even multiples of the interval, which then doubles.
            let mut position = 0usize;
            self.later.retain(|_| {
                position += 1;
                position.is_multiple_of(2)
            });
            self.interval = self.interval.saturating_mul(2);
            // A page a dropped checkpoint shared with its neighbours is now held by them alone:
            // count each one against its new predecessor, so the sum stays the bytes held.
            let helds: Vec<usize> = std::iter::once(&self.initial)
                .chain(self.later.iter().map(|c| &c.snap))
                .zip(&self.later)
                .map(|(before, c)| c.snap.held_bytes_against(Some(before)))
                .collect();
            for (c, held) in self.later.iter_mut().zip(helds) {
                c.held = held;
            }
        }
        // The last checkpoint is at or just behind the VM: its pages' roots, cached once, serve
        // the VM's state commitments for every page not written since.
        let last = self.later.last().map_or(&self.initial, |c| &c.snap);
        self.vm.reuse_page_roots(last);
    }

    /// Brings the VM to `step` retired instructions, or as far as the job goes under its step
    /// limit; returns whether it got there. Takes the checkpoints it runs past.
    fn seek(&mut self, step: u64) -> Result<bool, ExecuteError> {
        let want = step.min(self.max_steps);
        let retired = self.vm.retired();
        let usable = retired <= step && !(self.finished && retired >= step);
        let from = self.checkpoint_before(want);
        if !usable || from.retired() > retired {
            // A clone is a few pointers; it frees the borrow of `self` for the VM's pages.
            let from = from.clone();
            from.resume_into(&mut self.vm);
            self.finished = false;
        }
        while !self.finished && self.vm.retired() < want {
            let at = self.vm.retired();
            let next = self.next_checkpoint();
            // The VM is never past the next checkpoint (it stops at each), but should it be,
            // it runs on to the target without one rather than loop.
            let stop = if next > at && next <= want {
                next
            } else {
                want
            };
            let left = stop - at;
            let ran = self.vm.run(&mut NoTrace, left)?;
            if ran.steps < left {
                self.finished = true;
            } else if stop == next {
                self.take_checkpoint();
            }
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
