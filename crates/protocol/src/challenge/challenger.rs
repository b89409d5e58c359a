//! The challenger's side of a game: bisection against the correct tree, over any source of the
//! executor's replies, and the outcome it proves (or that nothing is proven).

use super::bounded::ReplayError;
use super::transcript::Entry;
use super::tree::Tree;
use super::wire::{Disputed, Msg, Node, Nonce, Reply};
use crate::dispute::{self, play_states, JobReplay, PhaseEnd};
use crate::vote::Vote;
use crate::windback::{Job, JobClaim};
use poie_proof::hash::Digest32;
use poie_referee::dispute::GAME_ARITY;
use poie_referee::Bisection;
use poie_referee::{Round, Ruling};
use poie_trace::Chunk;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who won, and why, or that nothing was proven.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "winner", content = "reason", rename_all = "lowercase")]
pub enum Outcome {
    /// The executor lost, on its own signed word: a signed reply contradicts the correct
    /// execution (or its vote). A transcript proves it to anyone.
    Challenger(String),
    /// The challenger lost: the executor's signed replies show its tree is correct.
    Executor(String),
    /// Nothing is proven: the executor did not finish the game with signed replies (silence, a
    /// timeout, a refusal, garbage, a missing or bad signature). The live challenger saw it;
    /// a transcript cannot show it, so no one is convicted on it.
    #[serde(rename = "none")]
    Unproven(String),
}

impl Outcome {
    /// Whether the outcome convicts one side or clears the executor: not [`Outcome::Unproven`].
    pub fn is_proven(&self) -> bool {
        !matches!(self, Outcome::Unproven(_))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Challenger(why) => write!(f, "executor loses: {why}"),
            Outcome::Executor(why) => write!(f, "challenger loses: {why}"),
            Outcome::Unproven(why) => write!(f, "unproven: {why}"),
        }
    }
}

fn unproven(why: impl fmt::Display) -> Outcome {
    Outcome::Unproven(format!(
        "{why}; the transcript shows no signed wrong answer"
    ))
}

/// What the challenger needs for the second phase (SPEC 6.7): the windback's jobs, the vote's
/// claims about them, and the step limit they ran under.
#[derive(Clone, Copy)]
pub struct SecondPhase<'a> {
    pub jobs: &'a [Job],
    pub claims: &'a [JobClaim],
    pub max_steps: u64,
}

impl<'a> SecondPhase<'a> {
    pub fn of(v: &'a Vote, jobs: &'a [Job]) -> SecondPhase<'a> {
        SecondPhase {
            jobs,
            claims: &v.jobs,
            max_steps: v.max_steps,
        }
    }
}

/// The job holding step `index` of the windback's trace, and the step's index in it, by the
/// vote's claimed step counts.
pub fn locate(claims: &[JobClaim], index: u64) -> Option<(usize, u64)> {
    let mut start = 0u64;
    for (k, c) in claims.iter().enumerate() {
        let end = start.checked_add(c.steps)?;
        if index < end {
            return Some((k, index - start));
        }
        start = end;
    }
    None
}

/// The challenger's side, over any source of executor replies: `ask` sends a message (the
/// caller adds `nonce` to the hello) and returns the executor's reply, or why there is none.
/// Records the entries. Only a reply signed by the vote's key for this session, index and
/// request counts: anything else ends the game unproven. A wrong chunk at the opened leaf is
/// judged by the correct tree (re-execution): use [`play_to_one_step`] to settle it by the
/// second phase instead.
pub fn play<E: fmt::Display>(
    correct: &Tree,
    disputed: &Disputed,
    nonce: &Nonce,
    ask: impl FnMut(&Msg) -> Result<Reply, E>,
    entries: &mut Vec<Entry>,
) -> Outcome {
    play_to_one_step(correct, disputed, nonce, None, ask, entries)
}

/// As [`play`], but with `second`, a wrong chunk at the opened leaf goes to the second phase
/// (SPEC 6.7): a bisection over the job's states and the step proof that the challenger
/// builds itself, which the referee checks without re-executing.
pub fn play_to_one_step<E: fmt::Display>(
    correct: &Tree,
    disputed: &Disputed,
    nonce: &Nonce,
    second: Option<SecondPhase<'_>>,
    ask: impl FnMut(&Msg) -> Result<Reply, E>,
    entries: &mut Vec<Entry>,
) -> Outcome {
    let mut game = Game {
        correct: Some(correct),
        disputed,
        nonce,
        ask,
        entries,
        index: 0,
        second,
        lane_root: None,
    };
    let top = match game.top() {
        Ok(top) => top,
        Err(end) => return end,
    };
    let (leaf, claimed) = match game.descend(top) {
        Ok(leaf) => leaf,
        Err(end) => return end,
    };
    game.open(leaf, claimed)
}

/// The challenger's own re-execution failed: it cannot judge, so nothing is proven.
fn own_replay(e: ReplayError) -> Outcome {
    unproven(format!("the challenger's own replay failed: {e}"))
}

/// A phase of the game: what it learned, or (`Err`) how the game ended there.
type Phase<T> = Result<T, Outcome>;

/// A game in progress, on the challenger's side.
struct Game<'a, F> {
    /// The correct tree: `None` in a dispute of a job's claim, which needs no tree.
    correct: Option<&'a Tree>,
    disputed: &'a Disputed,
    nonce: &'a Nonce,
    ask: F,
    entries: &'a mut Vec<Entry>,
    /// The index in the session of the next request.
    index: u64,
    second: Option<SecondPhase<'a>>,
    /// The first lane node of the descent (a whole lane) and the digest the executor signed
    /// for it: where a dispute of the opened leaf's link starts.
    lane_root: Option<(Node, Digest32)>,
}

impl<F, E> Game<'_, F>
where
    F: FnMut(&Msg) -> Result<Reply, E>,
    E: fmt::Display,
{
    /// Sends `m` and returns the executor's reply, if it is one the executor signed for this
    /// session, index and request; otherwise the game ends unproven. Records both.
    fn exchange(&mut self, m: Msg) -> Phase<Msg> {
        self.entries.push(Entry::challenger(m.clone()));
        let at = self.index;
        self.index = self.index.saturating_add(1);
        let reply = match (self.ask)(&m) {
            Ok(reply) => reply,
            Err(why) => {
                let why = why.to_string();
                // The reason may come from a file or a peer: escaped, so it cannot drive a
                // terminal.
                let shown = why.escape_debug().to_string();
                self.entries.push(Entry::failure(why));
                return Err(unproven(format!(
                    "the executor did not answer the {} (request {at}): {shown}",
                    m.kind()
                )));
            }
        };
        self.entries.push(Entry::reply(&reply));
        if let Msg::Error { reason } = &reply.msg {
            return Err(unproven(format!(
                "the executor refused to answer the {} (request {at}): {}",
                m.kind(),
                reason.escape_debug()
            )));
        }
        if reply.sig.is_none() {
            return Err(unproven(format!(
                "reply {at} (a {}) is not signed",
                reply.msg.kind()
            )));
        }
        if !self.disputed.signed(self.nonce, at, &m, &reply) {
            return Err(unproven(format!(
                "the signature of reply {at} (a {}) is not the vote's key's for this session, request and reply",
                reply.msg.kind()
            )));
        }
        Ok(reply.msg)
    }

    // Past `exchange`, every reply is the executor's signed word: an honest executor's replies
    // are its tree's answers, so any reply other than the correct tree's convicts.

    /// The hello: the executor's signed top-tree root, which must give the vote's root and, for
    /// the game to go on, differ from the correct one.
    fn top(&mut self) -> Phase<Digest32> {
        let root = self.disputed.root;
        let top = match self.exchange(Msg::Hello { root })? {
            Msg::Top { digest } => digest,
            other => return Err(wrong_kind(&other, "hello")),
        };
        let Some(correct) = self.correct else {
            return Ok(top);
        };
        if correct.params.commitment_root(correct.n(), &top) != root {
            return Err(Outcome::Challenger(
                "the signed top root does not hash to the vote's root (with the trace's true length)"
                    .into(),
            ));
        }
        if top == correct.digest(correct.root_node()).map_err(own_replay)? {
            return Err(Outcome::Executor(
                "no divergence: the executor's root is correct".into(),
            ));
        }
        Ok(top)
    }

    /// The bisection: from the root, whose digest the executor claims is `top`, one query per
    /// level into the leftmost child whose signed digest differs from the correct one, down to
    /// a leaf. Returns that leaf and the digest the executor claims for it.
    fn descend(&mut self, top: Digest32) -> Phase<(Node, Digest32)> {
        let Some(correct) = self.correct else {
            return Err(unproven("no correct tree to descend by"));
        };
        let mut node = correct.root_node();
        let mut claimed = top;
        // Each round descends one level of a tree at most 16 + 64 levels deep: bounded.
        loop {
            node = correct.normalize(node);
            if self.lane_root.is_none() && matches!(node, Node::Lane { .. }) {
                self.lane_root = Some((node, claimed));
            }
            let Some((l, r)) = correct.children(node) else {
                return Ok((node, claimed));
            };
            let (left, right) = match self.exchange(Msg::Query { node })? {
                Msg::Children { left, right } => (left, right),
                other => return Err(wrong_kind(&other, "query")),
            };
            if correct.h.node(&left, &right) != claimed {
                return Err(Outcome::Challenger(format!(
                    "the signed children of {node:?} do not hash to it"
                )));
            }
            (node, claimed) = if left != correct.digest(l).map_err(own_replay)? {
                (l, left)
            } else if right != correct.digest(r).map_err(own_replay)? {
                (r, right)
            } else {
                return Err(Outcome::Executor("no divergent child".into()));
            };
        }
    }

    /// The opening of the divergent leaf `node`, whose digest the executor claims is `claimed`:
    /// its chunk and link must hash to that digest, and be the correct execution's.
    fn open(&mut self, node: Node, claimed: Digest32) -> Outcome {
        let Some(correct) = self.correct else {
            return unproven("no correct tree to open by");
        };
        // The node came from the challenger's own tree, so it is a leaf of it; were it not, no
        // one could be convicted, hence the executor's win.
        let Node::Lane { lane, lo, .. } = node else {
            return Outcome::Executor("empty tree".into());
        };
        let Some(index) = correct.params.layout.index(lane, lo) else {
            return Outcome::Executor(format!("{node:?} is not a leaf of the trace"));
        };
        let right = match correct.leaf_at(index) {
            Ok(right) => right,
            Err(e) => return own_replay(e),
        };
        let Some((right_chunk, right_link)) = right else {
            return Outcome::Executor(format!("{node:?} is not a leaf of the trace"));
        };
        let (chunk, link) = match self.exchange(Msg::Open { index }) {
            Ok(Msg::Leaf { chunk, link }) => (chunk, link),
            Ok(other) => return wrong_kind(&other, "open"),
            Err(end) => return end,
        };
        if correct.h.leaf(&chunk, &link) != claimed {
            return Outcome::Challenger(format!(
                "the signed opening of leaf {index} does not hash to its parent"
            ));
        }
        if chunk != right_chunk {
            if let Some(second) = self.second {
                return self.second_phase(second, index, chunk);
            }
            return Outcome::Challenger(format!(
                "wrong chunk at step {index}: the executor's trace diverges there"
            ));
        }
        if link != right_link {
            // A lane's first leaf, and every leaf of unchained lanes, links to zero: the signed
            // opening says otherwise.
            if !correct.params.layout.chained || lo == 0 {
                return Outcome::Challenger(format!(
                    "the signed link of leaf {index} is not zero, though nothing precedes it in its lane"
                ));
            }
            if self.second.is_some() {
                return self.link_dispute(lane, lo - 1, link, index);
            }
            return Outcome::Challenger(format!("wrong link at step {index}"));
        }
        Outcome::Executor("the opened leaf is correct".into())
    }
}

impl<F, E> Game<'_, F>
where
    F: FnMut(&Msg) -> Result<Reply, E>,
    E: fmt::Display,
{
    /// The second phase for the wrong chunk the executor opened at step `index`: bisection
    /// over its job's states, then the step proof from the agreed state, sent as the
    /// challenger's last word (SPEC 6.7).
    fn second_phase(&mut self, second: SecondPhase<'_>, index: u64, chunk: Chunk) -> Outcome {
        let Some((job, step)) = locate(second.claims, index) else {
            return Outcome::Challenger(format!(
                "the vote's job step counts end before step {index}, which its tree holds"
            ));
        };
        let lie = dispute::Disputed::Chunk { step, chunk };
        self.states_game(second, job, &lie, &format!("at step {index} (job {job})"))
    }

    /// The opened leaf's link, disputed: a descent from the lane's root, whose digest the
    /// executor signed, to its previous leaf `prev`, each node's children signed; the link must
    /// be that leaf's digest. The referee follows it by the tree's shape alone.
    fn link_dispute(&mut self, lane: u32, prev: u64, link: Digest32, index: u64) -> Outcome {
        let (Some(correct), Some((mut node, mut claimed))) = (self.correct, self.lane_root) else {
            return unproven("no lane root to descend from");
        };
        if !matches!(node, Node::Lane { lane: l, .. } if l == lane) {
            return unproven("the descent did not pass through the opened leaf's lane");
        }
        // Each round descends one level of a lane tree at most 64 levels deep: bounded.
        while let Some((l, r)) = correct.children(node) {
            let (left, right) = match self.exchange(Msg::Query { node }) {
                Ok(Msg::Children { left, right }) => (left, right),
                Ok(other) => return wrong_kind(&other, "query"),
                Err(end) => return end,
            };
            if correct.h.node(&left, &right) != claimed {
                return Outcome::Challenger(format!(
                    "the signed children of {node:?} do not hash to it"
                ));
            }
            (node, claimed) = match l {
                Node::Lane { hi, .. } if prev < hi => (l, left),
                _ => (r, right),
            };
        }
        if claimed == link {
            return Outcome::Executor(format!(
                "the link of leaf {index} is its lane's previous leaf, as the executor signed it"
            ));
        }
        Outcome::Challenger(format!(
            "the signed link of leaf {index} is not the previous leaf of its lane, which the executor signed otherwise"
        ))
    }

    /// Bisection over job `job`'s states against the executor's claim `lie` at the end, then
    /// the step proof; `at` names the disputed place in the verdict.
    fn states_game(
        &mut self,
        second: SecondPhase<'_>,
        job: usize,
        lie: &dispute::Disputed,
        at: &str,
    ) -> Outcome {
        let (Some(j), Some(claim), Ok(job32)) = (
            second.jobs.get(job),
            second.claims.get(job),
            u32::try_from(job),
        ) else {
            return Outcome::Challenger(format!(
                "the vote claims job {job}, which the windback lacks"
            ));
        };
        // The correct tree's checkpoints of the job, where it has one: their pages are shared.
        let seeds = self.correct.map_or_else(Vec::new, |t| t.snapshots_of(job));
        let mut truth = match JobReplay::with_seeds(j, job32, second.max_steps, seeds) {
            Ok(t) => t,
            Err(e) => return unproven(format!("the challenger cannot replay job {job}: {e}")),
        };
        let mut stopped = None;
        let mut ask = |prev: Option<&Round>, points: &[u64]| {
            let disputed = prev.and_then(|r| r.disputed).map(|t| t as u32);
            let m = Msg::States {
                job: job32,
                disputed,
                points: points.to_vec(),
            };
            match self.exchange(m) {
                Ok(Msg::Commitments { states }) => Ok(states),
                Ok(other) => {
                    stopped = Some(wrong_kind(&other, "states"));
                    Err("a reply of the wrong kind")
                }
                Err(end) => {
                    stopped = Some(end);
                    Err("no signed reply")
                }
            }
        };
        // A wrong initial state needs no bisection: the challenger still asks for the first
        // round, so that the record names the job whose claim it disputes, and the referee
        // checks the claim by loading the job.
        if truth.state(0).ok().flatten() != Some(claim.initial_state) {
            if let Some((hi, _)) = lie.end() {
                let points = Bisection::new(0, hi, GAME_ARITY)
                    .map(|b| b.points())
                    .unwrap_or_default();
                if !points.is_empty() {
                    let _ = ask(None, &points);
                }
            }
            return Outcome::Challenger(format!(
                "the vote's initial state of job {job} is not the job's (loading the job shows it)"
            ));
        }
        let end = play_states(&mut truth, &claim.initial_state, lie, GAME_ARITY, &mut ask);
        let game = match end {
            Ok(PhaseEnd::Ruled(g)) => g,
            Ok(PhaseEnd::WrongInitialState) => {
                return Outcome::Challenger(format!(
                "the vote's initial state of job {job} is not the job's (loading the job shows it)"
            ))
            }
            Ok(PhaseEnd::Unproven(why)) => return stopped.unwrap_or_else(|| unproven(why)),
            Err(e) => return unproven(format!("the challenger's own replay failed: {e}")),
        };
        let last = game
            .rounds
            .last()
            .and_then(|r| r.disputed)
            .map(|t| t as u32);
        // The executor's acknowledgement is not needed: the proof decides, whatever it says.
        let _ = self.exchange(Msg::Prove {
            disputed: last,
            proof: game.proof.encode(),
        });
        match game.ruling {
            Ruling::ExecutorLoses(why) => {
                Outcome::Challenger(format!("one step proves the executor wrong {at}: {why}"))
            }
            Ruling::ChallengerLoses(why) => {
                Outcome::Executor(format!("one step agrees with the executor {at}: {why}"))
            }
        }
    }
}

/// The executor's loss when vote `v`'s job step counts do not add up to its `n`: the tree it
/// proves is not the trace of the jobs it claims, whatever else holds (SPEC 6.3).
pub fn steps_add_up(v: &Vote) -> Option<Outcome> {
    let sum = v
        .jobs
        .iter()
        .try_fold(0u64, |acc, j| acc.checked_add(j.steps));
    (sum != Some(v.n)).then(|| {
        Outcome::Challenger(format!(
            "the vote's job step counts add up to {}, not its n of {}",
            sum.map_or("more than 2^64".to_string(), |s| s.to_string()),
            v.n
        ))
    })
}

/// A dispute of job `job`'s claim in vote `v` (its step count and state root, SPEC 6.7's
/// final claim): after the hello, no tree descent, but the bisection over the job's states to
/// its claimed end, and the step proof. For a vote whose claims the challenger's own replay
/// contradicts (a job claimed shorter or longer than it runs, a wrong state root or initial
/// state), which the tree game cannot reach: the trace the vote proves may not be the
/// windback's at all.
pub fn play_claim<E: fmt::Display>(
    v: &Vote,
    nonce: &Nonce,
    second: SecondPhase<'_>,
    job: usize,
    ask: impl FnMut(&Msg) -> Result<Reply, E>,
    entries: &mut Vec<Entry>,
) -> Outcome {
    let disputed = Disputed::of(v);
    let mut game = Game {
        correct: None,
        disputed: &disputed,
        nonce,
        ask,
        entries,
        index: 0,
        second: Some(second),
        lane_root: None,
    };
    let top = match game.top() {
        Ok(top) => top,
        Err(end) => return end,
    };
    if v.params.commitment_root(v.n, &top) != v.root {
        return Outcome::Challenger("the signed top root does not hash to the vote's root".into());
    }
    if let Some(wrong) = steps_add_up(v) {
        return wrong;
    }
    let Some(claim) = second.claims.get(job) else {
        return unproven(format!("the vote has no job {job}"));
    };
    let lie = dispute::Disputed::Final {
        steps: claim.steps,
        root: claim.state_root,
    };
    game.states_game(second, job, &lie, &format!("about job {job}'s claim"))
}

/// A signed reply of the wrong type to a `request`: the executor's own word that it does not
/// play by the rules.
fn wrong_kind(reply: &Msg, request: &str) -> Outcome {
    Outcome::Challenger(format!(
        "a signed `{}` reply to a `{request}`",
        reply.kind()
    ))
}
