//! The executor's side of a game: its tree's answers, the session's rules, and the signature on
//! every answer.

use super::bounded::ReplayError;
use super::tree::{BadNode, SetupError, Tree};
use super::wire::{reply_message, Msg, Node, Nonce, Reply};
use crate::dispute::JobReplay;
use crate::keys::Key;
use crate::vote::Vote;
use crate::windback::Job;
use poie_proof::hash::Digest32;

/// Why the executor refuses a challenger's message: a protocol error, which ends the session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    BadNode(#[from] BadNode),
    #[error("{node:?} is a single leaf: it has no children (open it instead)")]
    Leaf { node: Node },
    #[error("step {index} does not exist: the trace has {n} steps")]
    NoStep { index: u64, n: u64 },
    #[error("a challenger does not send `{0}` messages")]
    Unexpected(&'static str),
    #[error("a session starts with a hello, not a `{0}` message")]
    NoHello(&'static str),
    #[error("a session has one hello, its first message")]
    SecondHello,
    #[error("the hello is about root {}, not this executor's vote (root {})", hex::encode(.got), hex::encode(.ours))]
    WrongRoot { got: Digest32, ours: Digest32 },
    #[error("this executor answers no state queries (it was not given its windback's jobs)")]
    NoStates,
    #[error("job {job} does not exist: the windback has {jobs}")]
    NoJob { job: u32, jobs: usize },
    #[error("a round asks for 1 to {MAX_ROUND_POINTS} points in ascending order, got {0}")]
    BadRound(usize),
    #[error("job {job} has no state after {step} chunks")]
    NoState { job: u32, step: u64 },
    #[error("the job could not be replayed: {0}")]
    Replay(String),
}

/// The most points one round of the second phase may ask for (arity 256, SPEC 6.7).
pub const MAX_ROUND_POINTS: usize = 255;

/// What an executor needs to answer the second phase: its windback's jobs and the step limit
/// they ran under. Each round replays the job (`JobReplay`) from the nearest of its tree's
/// checkpoints before each point, so the executor keeps nothing between rounds but the tree.
#[derive(Clone, Copy)]
pub struct StateSource<'a> {
    pub jobs: &'a [Job],
    pub max_steps: u64,
}

impl StateSource<'_> {
    /// The commitments of job `job`'s states at `points` (ascending, 1 to 255 of them),
    /// replayed from the tree's snapshots of the job (`seeds`).
    fn commitments(&self, job: u32, points: &[u64], tree: &Tree) -> Result<Msg, Refusal> {
        let ascending = points.windows(2).all(|w| w[0] < w[1]);
        if points.is_empty() || points.len() > MAX_ROUND_POINTS || !ascending {
            return Err(Refusal::BadRound(points.len()));
        }
        let j = self.jobs.get(job as usize).ok_or(Refusal::NoJob {
            job,
            jobs: self.jobs.len(),
        })?;
        let replay_error = |e: crate::windback::ExecuteError| Refusal::Replay(e.to_string());
        let seeds = tree.snapshots_of(job as usize);
        let mut replay =
            JobReplay::with_seeds(j, job, self.max_steps, seeds).map_err(replay_error)?;
        let states = points
            .iter()
            .map(|&step| {
                replay
                    .state(step)
                    .map_err(replay_error)?
                    .ok_or(Refusal::NoState { job, step })
            })
            .collect::<Result<_, _>>()?;
        Ok(Msg::Commitments { states })
    }
}

/// Checks that `key` is the key `v` was signed with: the executor signs its replies with it,
/// and the challenger checks them against the vote's public key. The address compared is the
/// one the key votes under in the vote's profile (its Ethereum address in version 4).
pub fn check_key(key: &Key, v: &Vote) -> Result<(), SetupError> {
    let address = v.profile()?.address(key).unwrap_or_else(|_| key.address());
    if key.public() != v.public_key || address != v.address {
        return Err(SetupError::KeyMismatch {
            key: address,
            vote: v.address,
        });
    }
    Ok(())
}

/// A re-execution that failed under an answer: refused, never signed.
fn replay(e: ReplayError) -> Refusal {
    Refusal::Replay(e.to_string())
}

// The executor's answers are its tree's: kept here, beside the session's rules that
// [`Executor::answer`] adds, rather than with the tree's structure.
impl Tree {
    /// The executor's answer to a challenger's message, or why it refuses it. Unsigned, and
    /// without the session's rules (a hello first and once): [`Executor::answer`] adds both.
    pub fn respond(&self, m: &Msg) -> Result<Msg, Refusal> {
        match m {
            Msg::Hello { .. } => Ok(Msg::Top {
                digest: self.digest(self.root_node()).map_err(replay)?,
            }),
            Msg::Query { node } => {
                let node = self.check_node(*node)?;
                let (l, r) = self.split(node).ok_or(Refusal::Leaf { node })?;
                Ok(Msg::Children {
                    left: self.digest_checked(l).map_err(replay)?,
                    right: self.digest_checked(r).map_err(replay)?,
                })
            }
            Msg::Open { index } => {
                let (chunk, link) =
                    self.leaf_at(*index)
                        .map_err(replay)?
                        .ok_or(Refusal::NoStep {
                            index: *index,
                            n: self.n(),
                        })?;
                Ok(Msg::Leaf { chunk, link })
            }
            other => Err(Refusal::Unexpected(other.kind())),
        }
    }
}

/// The executor's side of a game: its tree, and the key and root of the vote it defends.
pub struct Executor<'a> {
    pub tree: &'a Tree,
    pub key: &'a Key,
    /// The root its replies are signed for. An honest executor's is its tree's root; a
    /// different one plays an executor whose tree is not the one it voted on.
    pub root: Digest32,
    /// Where its answers to the second phase come from; `None` refuses state queries.
    pub states: Option<StateSource<'a>>,
}

impl<'a> Executor<'a> {
    /// An executor defending its tree's own root.
    pub fn new(tree: &'a Tree, key: &'a Key) -> Executor<'a> {
        Executor {
            tree,
            key,
            root: tree.root(),
            states: None,
        }
    }

    /// This executor, answering the second phase from `jobs` run under `max_steps`.
    pub fn with_states(self, jobs: &'a [Job], max_steps: u64) -> Executor<'a> {
        Executor {
            states: Some(StateSource { jobs, max_steps }),
            ..self
        }
    }

    /// The executor of vote `v`: the key must be the vote's and the tree must give the vote's
    /// root. Otherwise (a wrong windback or salt, say) it would sign answers that contradict
    /// its own vote, and signed answers convict.
    pub fn for_vote(tree: &'a Tree, key: &'a Key, v: &Vote) -> Result<Executor<'a>, SetupError> {
        check_key(key, v)?;
        let e = Executor::new(tree, key);
        if e.root != v.root {
            return Err(SetupError::RootMismatch);
        }
        Ok(e)
    }

    /// The signed answer to request number `index` of the session with `nonce`, or why it is
    /// refused (refusals are never signed). A session's first request is a hello about this
    /// executor's root, and no other request is a hello.
    pub fn answer(&self, nonce: &Nonce, index: u64, request: &Msg) -> Result<Reply, Refusal> {
        match (index, request) {
            (0, Msg::Hello { root }) if *root != self.root => {
                return Err(Refusal::WrongRoot {
                    got: *root,
                    ours: self.root,
                })
            }
            (0, Msg::Hello { .. }) => {}
            (0, other) => return Err(Refusal::NoHello(other.kind())),
            (_, Msg::Hello { .. }) => return Err(Refusal::SecondHello),
            _ => {}
        }
        let msg = match request {
            Msg::States { job, points, .. } => self
                .states
                .ok_or(Refusal::NoStates)?
                .commitments(*job, points, self.tree)?,
            // The step proof that ends the game needs nothing of the executor: it signs that
            // it saw it, and the referee reads the proof from the challenger's message.
            Msg::Prove { .. } => Msg::Noted,
            _ => self.tree.respond(request)?,
        };
        let sig = self
            .key
            .sign(&reply_message(nonce, &self.root, index, request, &msg));
        Ok(Reply {
            msg,
            sig: Some(sig),
        })
    }

    /// An in-memory session with `nonce`, for [`play`](super::play): answers requests in order, numbering
    /// them from 0.
    pub fn responder(&self, nonce: Nonce) -> impl FnMut(&Msg) -> Result<Reply, Refusal> + '_ {
        let mut index: u64 = 0;
        move |m| {
            let r = self.answer(&nonce, index, m);
            index = index.saturating_add(1);
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenge::wire::Disputed;
    use poie_proof::hash::Hasher;
    use poie_proof::layout::Params;
    use poie_proof::Simd;

    fn small_tree() -> Tree {
        let params = Params {
            hash: poie_proof::HashId::Blake3,
            layout: poie_proof::Layout::new(3, true).expect("valid"),
        };
        let h = Hasher::new(params.hash, [5; 32], Simd::Portable).expect("portable");
        Tree::new(params, h, (0u8..20).map(|i| [i; 32]).collect())
    }

    /// A session opens with one hello about the executor's own root; each answer is signed for
    /// the nonce, index and request, and verifies for those only.
    #[test]
    fn answers_follow_the_session_rules_and_are_signed_for_their_place() {
        let t = small_tree();
        let key = Key::from_seed(&[6; 32]);
        let exec = Executor::new(&t, &key);
        let disputed = Disputed {
            root: exec.root,
            public_key: key.public(),
        };
        let nonce = [7; 32];
        let hello = Msg::Hello { root: exec.root };
        let open = Msg::Open { index: 4 };
        assert_eq!(exec.answer(&nonce, 0, &open), Err(Refusal::NoHello("open")));
        assert_eq!(
            exec.answer(&nonce, 0, &Msg::Hello { root: [0; 32] }),
            Err(Refusal::WrongRoot {
                got: [0; 32],
                ours: exec.root
            })
        );
        assert_eq!(exec.answer(&nonce, 3, &hello), Err(Refusal::SecondHello));
        let top = exec.answer(&nonce, 0, &hello).expect("answered");
        assert_eq!(top.msg, t.respond(&hello).expect("top"));
        assert!(disputed.signed(&nonce, 0, &hello, &top));
        let leaf = exec.answer(&nonce, 1, &open).expect("answered");
        assert!(disputed.signed(&nonce, 1, &open, &leaf));
        // Another nonce, index, request, reply or key: not this reply's signature.
        assert!(!disputed.signed(&[8; 32], 1, &open, &leaf));
        assert!(!disputed.signed(&nonce, 2, &open, &leaf));
        assert!(!disputed.signed(&nonce, 1, &Msg::Open { index: 5 }, &leaf));
        let mut altered = leaf.clone();
        if let Msg::Leaf { chunk, .. } = &mut altered.msg {
            chunk[0] ^= 1;
        }
        assert!(!disputed.signed(&nonce, 1, &open, &altered));
        let other = Disputed {
            public_key: Key::from_seed(&[9; 32]).public(),
            ..disputed
        };
        assert!(!other.signed(&nonce, 1, &open, &leaf));
        let unsigned = Reply {
            msg: leaf.msg,
            sig: None,
        };
        assert!(!disputed.signed(&nonce, 1, &open, &unsigned));
    }
}
