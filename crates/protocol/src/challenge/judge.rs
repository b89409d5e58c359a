//! The referee that does not execute (SPEC 6.7, docs/PROTOCOL.md "Verdict rules"): it judges a
//! transcript from the vote, the reveal (for the unique secret that keys the leaves) and what
//! the executor signed, plus one step proof; it never runs the windback. It follows the first
//! phase through the tree's shape alone, checking each signed reply against the digest the
//! executor signed for its node, then replays the second phase and rules on the step proof.
//!
//! It convicts the executor only on what it signed: a top root that does not give the vote's
//! root, children that do not hash to their node, an opening that does not hash to its leaf,
//! a reply of the wrong kind, a vote whose initial state of the disputed job is not the job's
//! (computed by loading the job, without running it), or states and a chunk that one step
//! contradicts. It rules that the challenger lost only when the step proof agrees with the
//! executor. Everything else (silence, a refusal, a transcript that stops) is unproven.

use super::challenger::{locate, steps_add_up, Outcome};
use super::transcript::{Entry, Party, Transcript};
use super::tree::Shape;
use super::wire::{Disputed, Msg, Node};
use crate::vote::{Reveal, Vote};
use poie_proof::hash::{Digest32, Hasher};
use poie_proof::Simd;
use poie_referee::dispute::{settle, GAME_ARITY};
use poie_referee::{Claim, Round, Ruling, StepProof};

/// Why a transcript is not a record of a game the rules allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JudgeError {
    #[error("the vote is not authentic, or the reveal is not its own")]
    BadVote,
    #[error("entry {entry}: the challenger's message is not the game's next one ({why})")]
    NotTheGame { entry: usize, why: String },
    #[error("entry {entry} comes after the game's end")]
    AfterTheEnd { entry: usize },
    #[error("the step proof does not decode: {0}")]
    Proof(String),
    #[error("the second phase does not replay: {0}")]
    Replay(String),
    #[error("the unique secret's hasher: {0}")]
    Hasher(String),
}

/// One exchange of the record: the challenger's message and the executor's signed reply, or
/// why there is none (missing, a failure, a refusal, unsigned or badly signed), as the live
/// challenger words it.
struct Exchange<'t> {
    entry: usize,
    request: &'t Msg,
    reply: Result<&'t Msg, String>,
}

/// Reads a transcript's exchanges in order, checking each reply's signature.
struct Record<'t> {
    entries: &'t [Entry],
    at: usize,
    disputed: Disputed,
    nonce: [u8; 32],
}

impl<'t> Record<'t> {
    fn next(&mut self) -> Result<Option<Exchange<'t>>, JudgeError> {
        let entry = self.at;
        let Some(e) = self.entries.get(entry) else {
            return Ok(None);
        };
        let (Party::Challenger, Some(request)) = (e.from, e.msg.as_ref()) else {
            return Err(JudgeError::NotTheGame {
                entry,
                why: "a challenger's message comes here".into(),
            });
        };
        let index = (entry / 2) as u64;
        let kind = request.kind();
        let reply = match self.entries.get(entry + 1) {
            None => Err(format!("no reply recorded to the {kind} (request {index})")),
            Some(Entry {
                failure: Some(why), ..
            }) => Err(format!(
                "the executor did not answer the {kind} (request {index}): {}",
                why.escape_debug()
            )),
            Some(Entry {
                msg: Some(Msg::Error { reason }),
                ..
            }) => Err(format!(
                "the executor refused to answer the {kind} (request {index}): {}",
                reason.escape_debug()
            )),
            Some(Entry {
                msg: Some(msg),
                sig: None,
                ..
            }) => Err(format!("reply {index} (a {}) is not signed", msg.kind())),
            Some(Entry {
                msg: Some(msg),
                sig,
                from: Party::Executor,
                ..
            }) if self.disputed.signed(
                &self.nonce,
                index,
                request,
                &super::wire::Reply {
                    msg: msg.clone(),
                    sig: *sig,
                },
            ) =>
            {
                Ok(msg)
            }
            Some(Entry { msg: Some(msg), .. }) => Err(format!(
                "the signature of reply {index} (a {}) is not the vote's key's for this session, request and reply",
                msg.kind()
            )),
            Some(_) => Err(format!("no reply recorded to the {kind} (request {index})")),
        };
        self.at = entry + 2;
        Ok(Some(Exchange {
            entry,
            request,
            reply,
        }))
    }

    /// Refuses anything after a proven end.
    fn ended(&self) -> Result<(), JudgeError> {
        match self.at < self.entries.len() {
            true => Err(JudgeError::AfterTheEnd { entry: self.at }),
            false => Ok(()),
        }
    }
}

fn unproven(why: impl Into<String>) -> Outcome {
    Outcome::Unproven(format!(
        "{}; the transcript shows no signed wrong answer",
        why.into()
    ))
}

fn not_the_game(entry: usize, why: impl Into<String>) -> JudgeError {
    JudgeError::NotTheGame {
        entry,
        why: why.into(),
    }
}

/// What a game's last step was judged on: the agreed state, the executor's claim one step
/// later, the challenger's step proof (its bytes, SPEC 1.7) and, for a claimed chunk, the
/// opened leaf with its place in the executor's tree. Enough to rule again elsewhere, e.g. on
/// a chain (`poie referee --evm`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastStep {
    pub agreed: Digest32,
    pub claim: Claim,
    pub proof: Vec<u8>,
    /// `Some` when the claim is the opened chunk.
    pub opening: Option<OpenedLeaf>,
}

/// The leaf the first phase opened, as the executor signed it: its chunk and link, the leaf's
/// digest (which they hash to), and the audit paths of the leaf in its lane's tree and of the
/// lane in the top tree, leaf upwards (RFC 9162), made of the siblings the executor signed on
/// the way down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedLeaf {
    pub index: u64,
    pub leaf: Digest32,
    pub chunk: [u8; 32],
    pub link: Digest32,
    pub lane_branch: Vec<Digest32>,
    pub top_branch: Vec<Digest32>,
}

/// Judges `t` for vote `v` with reveal `r`, without running anything. `initial_state(job)` is
/// job `job`'s initial state commitment as loading it gives (SPEC 6.2; no instruction runs):
/// asked only when the transcript ends at an opening, to rule on the vote's claim.
pub fn judge(
    v: &Vote,
    r: &Reveal,
    initial_state: &dyn Fn(usize) -> Result<Digest32, String>,
    t: &Transcript,
) -> Result<Outcome, JudgeError> {
    judge_to_last_step(v, r, initial_state, t).map(|(outcome, _)| outcome)
}

/// [`judge`], and the last step the outcome rests on when a step proof decided it.
pub fn judge_to_last_step(
    v: &Vote,
    r: &Reveal,
    initial_state: &dyn Fn(usize) -> Result<Digest32, String>,
    t: &Transcript,
) -> Result<(Outcome, Option<LastStep>), JudgeError> {
    let mut last = None;
    let outcome = judge_recording(v, r, initial_state, t, &mut last)?;
    Ok((outcome, last))
}

fn judge_recording(
    v: &Vote,
    r: &Reveal,
    initial_state: &dyn Fn(usize) -> Result<Digest32, String>,
    t: &Transcript,
    last: &mut Option<LastStep>,
) -> Result<Outcome, JudgeError> {
    if !v.authentic() || !r.belongs_to(v) {
        return Err(JudgeError::BadVote);
    }
    // From the vote alone: its job claims must cover its trace.
    if let Some(wrong) = steps_add_up(v) {
        return Ok(wrong);
    }
    let h = Hasher::for_executor(v.params.hash, &r.salt, &v.address, Simd::detect())
        .map_err(|e| JudgeError::Hasher(e.to_string()))?;
    let shape = Shape {
        params: v.params,
        n: v.n,
    };
    let mut rec = Record {
        entries: &t.entries,
        at: 0,
        disputed: Disputed::of(v),
        nonce: t.nonce,
    };
    // The hello and the signed top root.
    let Some(x) = rec.next()? else {
        return Ok(unproven("the transcript is empty"));
    };
    if *x.request != (Msg::Hello { root: v.root }) {
        return Err(not_the_game(x.entry, "a hello about the vote's root"));
    }
    let mut claimed = match x.reply {
        Err(why) => return Ok(unproven(why)),
        Ok(Msg::Top { digest }) => *digest,
        Ok(other) => return Ok(wrong_kind(other, "hello")),
    };
    if v.params.commitment_root(v.n, &claimed) != v.root {
        rec.ended()?;
        return Ok(Outcome::Challenger(
            "the signed top root does not hash to the vote's root".into(),
        ));
    }
    // The descent: each query is the node the challenger chose, and its signed children must
    // hash to the digest the executor signed for it.
    // A dispute of a job's claim goes from the top root straight to the job's states.
    if let Some(Msg::States { job, .. }) = rec.entries.get(rec.at).and_then(|e| e.msg.as_ref()) {
        return claim_dispute(v, &mut rec, initial_state, *job as usize, last);
    }
    let mut node = shape.normalize(shape.root_node());
    // The siblings the executor signed on the way down, and whether each is a top-tree node's.
    let mut siblings: Vec<(bool, Digest32)> = Vec::new();
    // The first lane node of the descent and its signed digest: where a link dispute starts.
    let mut lane_root: Option<(Node, Digest32)> = None;
    let (index, chunk, link) = loop {
        if lane_root.is_none() && matches!(node, Node::Lane { .. }) {
            lane_root = Some((node, claimed));
        }
        let Some(x) = rec.next()? else {
            return Ok(unproven("the challenger stopped before an opening"));
        };
        match (x.request, shape.split(node)) {
            (Msg::Query { node: asked }, Some((l, r))) if *asked == node => {
                let (left, right) = match children(&h, &rec, &x, node, claimed)? {
                    Ok(pair) => pair,
                    Err(end) => return Ok(end),
                };
                // The next message names the child the challenger descends into.
                let next = rec.entries.get(rec.at).and_then(|e| e.msg.as_ref());
                let right_side = match next {
                    Some(Msg::Query { node: n }) => *n == shape.normalize(r),
                    Some(Msg::Open { index }) => leaf_index(&shape, r) == Some(*index),
                    _ => false,
                };
                let sibling = if right_side { left } else { right };
                siblings.push((matches!(node, Node::Top { .. }), sibling));
                (node, claimed) = if right_side { (r, right) } else { (l, left) };
                node = shape.normalize(node);
            }
            (Msg::Open { index }, None) if leaf_index(&shape, node) == Some(*index) => {
                let (chunk, link) = match x.reply {
                    Err(why) => return Ok(unproven(why)),
                    Ok(Msg::Leaf { chunk, link }) => (*chunk, *link),
                    Ok(other) => return Ok(wrong_kind(other, "open")),
                };
                if h.leaf(&chunk, &link) != claimed {
                    rec.ended()?;
                    return Ok(Outcome::Challenger(format!(
                        "the signed opening of leaf {index} does not hash to its parent"
                    )));
                }
                break (*index, chunk, link);
            }
            _ => {
                return Err(not_the_game(
                    x.entry,
                    format!("the query or opening of {node:?}"),
                ))
            }
        }
    };
    // The link: zero where nothing precedes the leaf in its lane; otherwise, when the
    // challenger disputes it, its lane's previous leaf as the executor signs it.
    let layout = v.params.layout;
    let (lane, pos) = layout.locate(index);
    if (!layout.chained || pos == 0) && link != [0; 32] {
        rec.ended()?;
        return Ok(Outcome::Challenger(format!(
            "the signed link of leaf {index} is not zero, though nothing precedes it in its lane"
        )));
    }
    if let Some(Msg::Query { .. }) = rec.entries.get(rec.at).and_then(|e| e.msg.as_ref()) {
        return link_dispute(&shape, &h, &mut rec, lane_root, (lane, pos), link, index);
    }
    let opened = OpenedLeaf::new(&h, (index, chunk, link), &siblings);
    second_phase(v, &mut rec, initial_state, opened, last)
}

impl OpenedLeaf {
    /// The leaf `index` opened as `(chunk, link)`, below the `siblings` the descent passed
    /// (root downwards, each marked when it is a top-tree node's).
    fn new(
        h: &Hasher,
        (index, chunk, link): (u64, [u8; 32], Digest32),
        siblings: &[(bool, Digest32)],
    ) -> OpenedLeaf {
        // Leaf upwards: the lane tree's siblings, then the top tree's.
        let branch = |top: bool| -> Vec<Digest32> {
            let path = siblings.iter().rev().filter(|(t, _)| *t == top);
            path.map(|(_, d)| *d).collect()
        };
        OpenedLeaf {
            index,
            leaf: h.leaf(&chunk, &link),
            chunk,
            link,
            lane_branch: branch(false),
            top_branch: branch(true),
        }
    }
}

/// A dispute of the opened leaf's link (chained lanes, position `pos > 0`): the queries
/// descend from the lane's root (its digest signed in the descent) to position `pos - 1`, each
/// node's signed children hashing to it; the link must be that leaf's signed digest.
fn link_dispute(
    shape: &Shape,
    h: &Hasher,
    rec: &mut Record<'_>,
    lane_root: Option<(Node, Digest32)>,
    (lane, pos): (u32, u64),
    link: Digest32,
    index: u64,
) -> Result<Outcome, JudgeError> {
    let Some((mut node, mut claimed)) =
        lane_root.filter(|(n, _)| matches!(n, Node::Lane { lane: l, .. } if *l == lane) && pos > 0)
    else {
        return Err(not_the_game(
            rec.at,
            "a link dispute in the opened leaf's lane",
        ));
    };
    let prev = pos - 1;
    while let Some((l, r)) = shape.split(node) {
        let Some(x) = rec.next()? else {
            return Ok(unproven("the link dispute stops before the previous leaf"));
        };
        if *x.request != (Msg::Query { node }) {
            return Err(not_the_game(x.entry, format!("the query of {node:?}")));
        }
        let (left, right) = match children(h, rec, &x, node, claimed)? {
            Ok(pair) => pair,
            Err(end) => return Ok(end),
        };
        (node, claimed) = match l {
            Node::Lane { hi, .. } if prev < hi => (l, left),
            _ => (r, right),
        };
    }
    rec.ended()?;
    Ok(if claimed == link {
        Outcome::Executor(format!(
            "the link of leaf {index} is its lane's previous leaf, as the executor signed it"
        ))
    } else {
        Outcome::Challenger(format!(
            "the signed link of leaf {index} is not the previous leaf of its lane, which the executor signed otherwise"
        ))
    })
}

/// The signed children of `node` in reply to its query, which must hash to `claimed`, the
/// digest the executor signed for it; else how the game ends there (`Ok(Err(..))`).
fn children(
    h: &Hasher,
    rec: &Record<'_>,
    x: &Exchange<'_>,
    node: Node,
    claimed: Digest32,
) -> Result<Result<(Digest32, Digest32), Outcome>, JudgeError> {
    let (left, right) = match x.reply {
        Err(ref why) => return Ok(Err(unproven(why.clone()))),
        Ok(Msg::Children { left, right }) => (*left, *right),
        Ok(other) => return Ok(Err(wrong_kind(other, "query"))),
    };
    if h.node(&left, &right) != claimed {
        rec.ended()?;
        return Ok(Err(Outcome::Challenger(format!(
            "the signed children of {node:?} do not hash to it"
        ))));
    }
    Ok(Ok((left, right)))
}

/// The trace index of a single-leaf lane node.
fn leaf_index(shape: &Shape, node: Node) -> Option<u64> {
    match shape.normalize(node) {
        Node::Lane { lane, lo, hi } if hi.checked_sub(lo) == Some(1) => {
            shape.params.layout.index(lane, lo)
        }
        _ => None,
    }
}

/// After the opening of step `index` (chunk `chunk`): the second phase's rounds, then the
/// challenger's step proof, ruled on without running anything.
fn second_phase(
    v: &Vote,
    rec: &mut Record<'_>,
    initial_state: &dyn Fn(usize) -> Result<Digest32, String>,
    opened: OpenedLeaf,
    last: &mut Option<LastStep>,
) -> Result<Outcome, JudgeError> {
    let (index, chunk) = (opened.index, opened.chunk);
    let Some((job, step)) = locate(&v.jobs, index) else {
        rec.ended()?;
        return Ok(Outcome::Challenger(format!(
            "the vote's job step counts end before step {index}, which its tree holds"
        )));
    };
    if rec.at >= rec.entries.len() {
        // The challenger stopped at the opening: the one claim it can still prove wrong
        // without a step is the job's initial state.
        return initial_claim(v, initial_state, job).map(|wrong| {
            wrong.unwrap_or_else(|| {
                unproven(
                    "the transcript stops at the opening: nothing past it is proven without a step proof",
                )
            })
        });
    }
    let at = format!("at step {index} (job {job})");
    states_game(
        v,
        rec,
        job,
        (Claim::Chunk(chunk), Some(opened)),
        step.saturating_add(1),
        &at,
        last,
    )
}

/// The executor loses when the vote's initial state of `job` is not what loading the job
/// gives; `None` when it is.
fn initial_claim(
    v: &Vote,
    initial_state: &dyn Fn(usize) -> Result<Digest32, String>,
    job: usize,
) -> Result<Option<Outcome>, JudgeError> {
    let Some(claim) = v.jobs.get(job) else {
        return Ok(Some(Outcome::Challenger(format!(
            "the vote has no job {job}"
        ))));
    };
    let loaded = initial_state(job).map_err(JudgeError::Replay)?;
    Ok((loaded != claim.initial_state).then(|| {
        Outcome::Challenger(format!(
            "the vote's initial state of job {job} is not the job's (loading the job shows it)"
        ))
    }))
}

/// A dispute of job `job`'s claim (SPEC 6.7's final claim): the session goes from the top root
/// straight to the job's states. Its initial state is checked by loading the job first.
fn claim_dispute(
    v: &Vote,
    rec: &mut Record<'_>,
    initial_state: &dyn Fn(usize) -> Result<Digest32, String>,
    job: usize,
    last: &mut Option<LastStep>,
) -> Result<Outcome, JudgeError> {
    if let Some(wrong) = initial_claim(v, initial_state, job)? {
        return Ok(wrong);
    }
    let Some(claim) = v.jobs.get(job) else {
        return Err(not_the_game(rec.at, "a job of the vote"));
    };
    let at = format!("about job {job}'s claim");
    states_game(
        v,
        rec,
        job,
        (Claim::Final(claim.state_root), None),
        claim.steps.saturating_add(1),
        &at,
        last,
    )
}

/// The rounds over job `job`'s states `[0, hi]`, with the executor's claim `at_hi` at the
/// end (and the opened leaf it comes from, for a chunk), then the challenger's step proof,
/// ruled on without running anything; the step is recorded in `last`.
fn states_game(
    v: &Vote,
    rec: &mut Record<'_>,
    job: usize,
    (at_hi, opened): (Claim, Option<OpenedLeaf>),
    hi: u64,
    at: &str,
    last: &mut Option<LastStep>,
) -> Result<Outcome, JudgeError> {
    let Some(claim) = v.jobs.get(job).copied() else {
        return Err(not_the_game(rec.at, "a job of the vote"));
    };
    let mut rounds: Vec<Round> = Vec::new();
    let prev_choice = |rounds: &mut Vec<Round>, disputed: Option<u32>| {
        if let Some(last) = rounds.last_mut() {
            last.disputed = disputed.map(|t| t as usize);
        }
    };
    loop {
        let Some(x) = rec.next()? else {
            return Ok(unproven("the second phase stops before the step proof"));
        };
        match x.request {
            Msg::States {
                job: j,
                disputed,
                points,
            } if *j as usize == job && (!rounds.is_empty() || disputed.is_none()) => {
                prev_choice(&mut rounds, *disputed);
                let states = match x.reply {
                    Err(why) => return Ok(unproven(why)),
                    Ok(Msg::Commitments { states }) => states.clone(),
                    Ok(other) => return Ok(wrong_kind(other, "states")),
                };
                rounds.push(Round {
                    points: points.clone(),
                    answers: states,
                    disputed: None,
                });
            }
            Msg::Prove { disputed, proof } => {
                prev_choice(&mut rounds, *disputed);
                rec.ended()?;
                let bytes = proof;
                let proof =
                    StepProof::decode(bytes).map_err(|e| JudgeError::Proof(e.to_string()))?;
                let (agreed, step_claim) =
                    settle(&claim.initial_state, &at_hi, hi, GAME_ARITY, &rounds)
                        .map_err(|e| JudgeError::Replay(e.to_string()))?;
                let ruling = poie_referee::judge(&agreed, &step_claim, &proof)
                    .map_err(|e| JudgeError::Replay(e.to_string()))?;
                *last = Some(LastStep {
                    agreed,
                    opening: opened.filter(|_| step_claim == at_hi),
                    claim: step_claim,
                    proof: bytes.clone(),
                });
                return Ok(match ruling {
                    Ruling::ExecutorLoses(why) => Outcome::Challenger(format!(
                        "one step proves the executor wrong {at}: {why}"
                    )),
                    Ruling::ChallengerLoses(why) => {
                        Outcome::Executor(format!("one step agrees with the executor {at}: {why}"))
                    }
                });
            }
            _ => {
                return Err(not_the_game(
                    x.entry,
                    format!("a round of job {job}'s states, or the step proof"),
                ))
            }
        }
    }
}

/// A signed reply of the wrong kind: the executor's own word that it does not play by the rules.
fn wrong_kind(reply: &Msg, request: &str) -> Outcome {
    Outcome::Challenger(format!(
        "a signed `{}` reply to a `{request}`",
        reply.kind()
    ))
}
