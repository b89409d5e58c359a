//! The challenge game: bisection over the executor's committed tree, over TCP.
//!
//! The tree is the top tree over lane roots, whose leaves continue into the lane trees (a top
//! leaf *is* its lane's root). The challenger, holding the revealed salt, computes the correct
//! tree; each round the executor reveals the two children of the current node, which must hash
//! to it, and the challenger descends into the leftmost child that differs from its own. At a
//! leaf the executor opens it (chunk and link). Messages are newline-delimited JSON, at most
//! [`MAX_LINE`] bytes; each whole message must arrive within the timeout (a deadline per
//! message, not per read, so a peer dripping bytes cannot stretch it).
//!
//! Evidence. The challenger opens each session with a fresh random nonce, and the executor
//! signs every reply with its vote's key, over the nonce, its vote's root, the reply's index in
//! the session, the request and the reply ([`reply_message`]). A transcript therefore proves
//! what the executor said, and nothing about what it did not say: silence, a timeout, a refusal
//! or an unsigned reply is something only the live challenger saw, and a challenger who wanted
//! to frame an executor could write it into a transcript as easily as a true one. So a game
//! convicts ([`Outcome::Challenger`]) only on a signed reply that contradicts the correct tree,
//! and otherwise ends [`Outcome::Unproven`]; [`referee`] replays a transcript under that rule.
//!
//! The executor's side ([`serve`]) treats every challenger as hostile: a node outside the tree,
//! an unexpected, malformed, oversized or late message is a protocol error that ends that
//! session (with an unsigned `error` reply when the connection allows), never the server. It
//! plays several sessions at once, up to a cap, and counts only sessions that ended cleanly as
//! games. It signs only answers its tree gives, so whatever a challenger sends, an honest
//! executor signs nothing a referee could convict it on.
//!
//! Both sides hold the trace's leaves in memory (32 bytes per step): fine for disputes over
//! windbacks of millions of steps, not for 10^9.

use super::keys::{self, Key};
use super::vote::{salt_commitment, Reveal, Vote};
use super::windback::{self, Execution, Job, WindbackError};
use poie_proof::backend::SimdError;
use poie_proof::hash::{Digest32, Hasher};
use poie_proof::layout::Params;
use poie_proof::tree as merkle;
use poie_proof::Simd;
use poie_trace::{Chunk, TraceSink};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Longest accepted message line, newline included. Honest messages are under 400 bytes; the
/// bound is what keeps a peer from making the other side buffer without end.
pub const MAX_LINE: usize = 64 * 1024;

/// Most messages the executor reads in one session. An honest game needs at most 82 (a hello,
/// one query per level of a top tree of at most 2^16 lanes and of a lane tree of at most 2^64
/// positions, an open); the cap bounds how long and how much hashing one challenger can take.
pub const MAX_SESSION_MESSAGES: u32 = 256;

/// Longest per-message timeout, in milliseconds (an hour): a longer one would let a silent peer
/// hold a session, and a server slot, for most of a day.
pub const MAX_TIMEOUT_MS: u32 = 3_600_000;

/// How often [`serve`]'s accept loop looks for a new connection and for the end of its games.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

/// Domain separator of a reply's signed bytes. The vote's signed bytes start with another, so a
/// challenger cannot get a vote (or anything but a reply) signed by choosing what it asks.
pub const DS_REPLY: &[u8] = b"poie/v1/challenge-reply";

/// A session's nonce: 32 random bytes the challenger draws for each session, so that a reply
/// signed in one session cannot be passed off as a reply in another.
pub type Nonce = [u8; 32];

/// An ed25519 signature.
pub type Signature = [u8; 64];

/// A fresh nonce from the system's randomness.
pub fn fresh_nonce() -> io::Result<Nonce> {
    let mut n = [0u8; 32];
    getrandom::fill(&mut n).map_err(|e| io::Error::other(format!("no system randomness: {e}")))?;
    Ok(n)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Node {
    /// Top-tree node over lanes `[lo, hi)`.
    Top { lo: u32, hi: u32 },
    /// Lane tree node over positions `[lo, hi)` of `lane`.
    Lane { lane: u32, lo: u64, hi: u64 },
}

/// A message of the game, without what travels around it (the hello's nonce, a reply's
/// signature: see [`Line`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Msg {
    Hello {
        #[serde(with = "poie_files::hexser::bytes")]
        root: Digest32,
    },
    Top {
        #[serde(with = "poie_files::hexser::bytes")]
        digest: Digest32,
    },
    Query {
        node: Node,
    },
    Children {
        #[serde(with = "poie_files::hexser::bytes")]
        left: Digest32,
        #[serde(with = "poie_files::hexser::bytes")]
        right: Digest32,
    },
    Open {
        index: u64,
    },
    Leaf {
        #[serde(with = "poie_files::hexser::bytes")]
        chunk: Chunk,
        #[serde(with = "poie_files::hexser::bytes")]
        link: Digest32,
    },
    /// The executor refuses the last message (a protocol error) and closes the session. Never
    /// signed: a refusal is not evidence of anything (docs/PROTOCOL.md).
    Error {
        reason: String,
    },
}

impl Msg {
    /// The message's `type`, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Hello { .. } => "hello",
            Msg::Top { .. } => "top",
            Msg::Query { .. } => "query",
            Msg::Children { .. } => "children",
            Msg::Open { .. } => "open",
            Msg::Leaf { .. } => "leaf",
            Msg::Error { .. } => "error",
        }
    }

    /// The message's bytes under a signature (docs/SPEC.md 6.5): a tag byte, then the fields in
    /// order, integers little-endian, an error's reason prefixed by its length. Every encoding
    /// delimits itself, so a request and a reply concatenated read back only one way; and it is
    /// fixed, where JSON may be written many ways.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(72);
        match self {
            Msg::Hello { root } => {
                b.push(1);
                b.extend_from_slice(root);
            }
            Msg::Top { digest } => {
                b.push(2);
                b.extend_from_slice(digest);
            }
            Msg::Query { node } => {
                b.push(3);
                match *node {
                    Node::Top { lo, hi } => {
                        b.push(0);
                        b.extend_from_slice(&lo.to_le_bytes());
                        b.extend_from_slice(&hi.to_le_bytes());
                    }
                    Node::Lane { lane, lo, hi } => {
                        b.push(1);
                        b.extend_from_slice(&lane.to_le_bytes());
                        b.extend_from_slice(&lo.to_le_bytes());
                        b.extend_from_slice(&hi.to_le_bytes());
                    }
                }
            }
            Msg::Children { left, right } => {
                b.push(4);
                b.extend_from_slice(left);
                b.extend_from_slice(right);
            }
            Msg::Open { index } => {
                b.push(5);
                b.extend_from_slice(&index.to_le_bytes());
            }
            Msg::Leaf { chunk, link } => {
                b.push(6);
                b.extend_from_slice(chunk);
                b.extend_from_slice(link);
            }
            Msg::Error { reason } => {
                b.push(7);
                b.extend_from_slice(&(reason.len() as u64).to_le_bytes());
                b.extend_from_slice(reason.as_bytes());
            }
        }
        b
    }
}

/// The bytes an executor signs for its reply to request number `index` (0 for the hello) of
/// the session with `nonce`, about the vote with root `root`:
/// `DS_REPLY || nonce || root || index (u64 LE) || encode(request) || encode(reply)`.
pub fn reply_message(
    nonce: &Nonce,
    root: &Digest32,
    index: u64,
    request: &Msg,
    reply: &Msg,
) -> Vec<u8> {
    let request = request.encode();
    let reply = reply.encode();
    let mut m = Vec::with_capacity(DS_REPLY.len() + 72 + request.len() + reply.len());
    m.extend_from_slice(DS_REPLY);
    m.extend_from_slice(nonce);
    m.extend_from_slice(root);
    m.extend_from_slice(&index.to_le_bytes());
    m.extend_from_slice(&request);
    m.extend_from_slice(&reply);
    m
}

/// An executor's reply: the message and its signature, which is absent from an `error` (never
/// signed) and from whatever a faulty executor sends unsigned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub msg: Msg,
    pub sig: Option<Signature>,
}

/// The vote a game is about: its root, and the public key every reply must be signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disputed {
    pub root: Digest32,
    pub public_key: [u8; 32],
}

impl Disputed {
    pub fn of(v: &Vote) -> Disputed {
        Disputed {
            root: v.root,
            public_key: v.public_key,
        }
    }

    /// Whether `reply` is signed by the vote's key as the reply to `request`, number `index` of
    /// the session with `nonce`. A reply without a signature is not.
    pub fn signed(&self, nonce: &Nonce, index: u64, request: &Msg, reply: &Reply) -> bool {
        reply.sig.is_some_and(|sig| {
            keys::verify(
                &self.public_key,
                &reply_message(nonce, &self.root, index, request, &reply.msg),
                &sig,
            )
        })
    }
}

/// Why a node a peer named is not a node of the tree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadNode {
    #[error("top node [{lo}, {hi}) is not a non-empty range of the tree's {used} used lanes")]
    Top { lo: u32, hi: u32, used: u32 },
    #[error("lane {lane} does not exist: the tree has {lanes} lanes")]
    NoLane { lane: u32, lanes: u32 },
    #[error(
        "lane node [{lo}, {hi}) of lane {lane} is not a non-empty range of its {len} positions"
    )]
    Lane {
        lane: u32,
        lo: u64,
        hi: u64,
        len: u64,
    },
}

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
}

/// Why a game cannot be set up for a vote.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the vote's signature does not verify, or its address is not its key's")]
    BadVote,
    #[error("the reveal is not this vote's: its address, root or salt differ")]
    RevealMismatch,
    #[error("the salt is not the one the vote committed to")]
    SaltMismatch,
    #[error("the windback is not the vote's: its digest differs")]
    WindbackMismatch,
    #[error("under the vote's step limit the windback's trace is longer than its {n} chunks")]
    TooLong { n: u64 },
    #[error("the key (address 0x{}) is not the vote's (address 0x{})", hex::encode(.key), hex::encode(.vote))]
    KeyMismatch { key: [u8; 20], vote: [u8; 20] },
    #[error(
        "the tree's root is not the vote's: serving it would sign answers that contradict the vote"
    )]
    RootMismatch,
    #[error(transparent)]
    Windback(#[from] WindbackError),
    #[error(transparent)]
    Simd(#[from] SimdError),
}

/// Checks that `key` is the key `v` was signed with: the executor signs its replies with it,
/// and the challenger checks them against the vote's public key.
pub fn check_key(key: &Key, v: &Vote) -> Result<(), SetupError> {
    if key.public() != v.public_key || key.address() != v.address {
        return Err(SetupError::KeyMismatch {
            key: key.address(),
            vote: v.address,
        });
    }
    Ok(())
}

/// A whole tree in memory: chunks, links and leaves of a trace under one secret.
pub struct Tree {
    pub params: Params,
    pub h: Hasher,
    pub chunks: Vec<Chunk>,
    pub links: Vec<Digest32>,
    pub leaves: Vec<Digest32>,
}

/// Collects chunks (optionally corrupting one, to play a lying executor in tests and drills).
pub struct ChunkCollector {
    pub chunks: Vec<Chunk>,
    pub corrupt_at: Option<u64>,
}

impl TraceSink for ChunkCollector {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        for c in chunks {
            let mut c = *c;
            if self.corrupt_at == Some(self.chunks.len() as u64) {
                c[0] ^= 1;
            }
            self.chunks.push(c);
        }
        Ok(())
    }
}

impl Tree {
    pub fn new(params: Params, h: Hasher, chunks: Vec<Chunk>) -> Tree {
        let layout = params.layout;
        let mut links = Vec::with_capacity(chunks.len());
        let mut leaves: Vec<Digest32> = Vec::with_capacity(chunks.len());
        for (i, c) in chunks.iter().enumerate() {
            // The previous leaf of the lane; none for a lane's first leaf.
            let (lane, pos) = layout.locate(i as u64);
            let prev = pos
                .checked_sub(1)
                .and_then(|p| layout.index(lane, p))
                .and_then(|j| usize::try_from(j).ok())
                .and_then(|j| leaves.get(j));
            let link = match prev {
                Some(prev) if layout.chained => *prev,
                _ => [0; 32],
            };
            leaves.push(h.leaf(c, &link));
            links.push(link);
        }
        Tree {
            params,
            h,
            chunks,
            links,
            leaves,
        }
    }

    /// The executor's tree for vote `v`: executes the windback under the vote's step limit, and
    /// no further than its `n` chunks (the tree holds the whole trace in memory, so a vote over
    /// a looping job must not grow it without bound), and hashes it with the unique secret of
    /// `salt` and the vote's address. The salt and the windback must be the vote's.
    /// `corrupt_at` corrupts one step: drills and tests of a lying executor.
    pub fn for_vote(
        v: &Vote,
        salt: &[u8; 32],
        jobs: &[Job],
        corrupt_at: Option<u64>,
    ) -> Result<Tree, SetupError> {
        if salt_commitment(salt) != v.salt_commitment {
            return Err(SetupError::SaltMismatch);
        }
        if windback::digest(jobs) != v.windback {
            return Err(SetupError::WindbackMismatch);
        }
        let mut c = ChunkCollector {
            chunks: Vec::new(),
            corrupt_at,
        };
        if windback::execute_within(jobs, &mut c, v.max_steps, v.n)? == Execution::TooLong {
            return Err(SetupError::TooLong { n: v.n });
        }
        let h = Hasher::for_executor(v.params.hash, salt, &v.address, Simd::detect())?;
        Ok(Tree::new(v.params, h, c.chunks))
    }

    /// The correct tree a challenger or a referee judges vote `v` by: the vote must be
    /// authentic and the reveal its own (else the "correct" tree would be another's, and an
    /// honest executor's true answers would contradict it), and the tree is the re-execution
    /// hashed with the revealed salt.
    pub fn correct(v: &Vote, r: &Reveal, jobs: &[Job]) -> Result<Tree, SetupError> {
        if !v.authentic() {
            return Err(SetupError::BadVote);
        }
        if !r.belongs_to(v) {
            return Err(SetupError::RevealMismatch);
        }
        Tree::for_vote(v, &r.salt, jobs, None)
    }

    pub fn n(&self) -> u64 {
        self.chunks.len() as u64
    }

    /// The commitment root of the tree: what a vote on it carries.
    pub fn root(&self) -> Digest32 {
        self.params
            .commitment_root(self.n(), &self.digest(self.root_node()))
    }

    /// Chunk and link of step `index`, if the trace has it.
    pub fn leaf_at(&self, index: u64) -> Option<(Chunk, Digest32)> {
        let i = usize::try_from(index).ok()?;
        Some((*self.chunks.get(i)?, *self.links.get(i)?))
    }

    /// The leaf at position `pos` of lane `lane`, if the tree has it.
    fn leaf(&self, lane: u32, pos: u64) -> Option<Digest32> {
        let layout = self.params.layout;
        if lane >= layout.lanes {
            return None;
        }
        let i = usize::try_from(layout.index(lane, pos)?).ok()?;
        self.leaves.get(i).copied()
    }

    /// A single-lane top node is that lane's whole tree. Other nodes are returned as they are;
    /// this does not check that the node belongs to the tree ([`Tree::check_node`] does).
    pub fn normalize(&self, node: Node) -> Node {
        match node {
            Node::Top { lo, hi } if hi.checked_sub(lo) == Some(1) => Node::Lane {
                lane: lo,
                lo: 0,
                hi: self.params.layout.lane_len(self.n(), lo),
            },
            other => other,
        }
    }

    /// Checks that `node` is a node of this tree, and returns it normalized. Every node a peer
    /// names goes through here first: indexing the leaves with an unchecked node would read
    /// another lane's leaves (lane >= L) or past the trace.
    pub fn check_node(&self, node: Node) -> Result<Node, BadNode> {
        let layout = self.params.layout;
        if let Node::Top { lo, hi } = node {
            let used = layout.used_lanes(self.n());
            if lo >= hi || hi > used {
                return Err(BadNode::Top { lo, hi, used });
            }
        }
        let node = self.normalize(node);
        if let Node::Lane { lane, lo, hi } = node {
            if lane >= layout.lanes {
                return Err(BadNode::NoLane {
                    lane,
                    lanes: layout.lanes,
                });
            }
            let len = layout.lane_len(self.n(), lane);
            if lo >= hi || hi > len {
                return Err(BadNode::Lane { lane, lo, hi, len });
            }
        }
        Ok(node)
    }

    /// The digest of a node of the tree; the zero digest for a node that is not in it (as for
    /// the empty tree's root).
    pub fn digest(&self, node: Node) -> Digest32 {
        match self.check_node(node) {
            Ok(node) => self.digest_checked(node),
            Err(_) => [0; 32],
        }
    }

    /// The RFC 6962 split of a node of more than one leaf; `None` for a leaf or a node that is
    /// not in the tree.
    pub fn children(&self, node: Node) -> Option<(Node, Node)> {
        self.split(self.check_node(node).ok()?)
    }

    /// `digest` of a node that passed `check_node`, by the tree's one recursive definition
    /// ([`merkle::mth`]): over positions for a lane node, over lane roots for a top node.
    fn digest_checked(&self, node: Node) -> Digest32 {
        let join = |l: &Digest32, r: &Digest32| self.h.node(l, r);
        let lane_digest =
            |lane: u32, lo: u64, hi: u64| merkle::mth(lo, hi, &|pos| self.leaf(lane, pos), &join);
        match self.normalize(node) {
            Node::Lane { lane, lo, hi } => lane_digest(lane, lo, hi),
            Node::Top { lo, hi } => merkle::mth(
                u64::from(lo),
                u64::from(hi),
                &|j| {
                    let lane = u32::try_from(j).ok()?;
                    lane_digest(lane, 0, self.params.layout.lane_len(self.n(), lane))
                },
                &join,
            ),
        }
        .unwrap_or([0; 32])
    }

    /// The split of a node that passed `check_node`, at the tree's one split rule
    /// ([`merkle::split`]); `None` for a single leaf.
    fn split(&self, node: Node) -> Option<(Node, Node)> {
        match self.normalize(node) {
            Node::Top { lo, hi } => {
                let mid = u32::try_from(merkle::split(u64::from(lo), u64::from(hi))?).ok()?;
                Some((Node::Top { lo, hi: mid }, Node::Top { lo: mid, hi }))
            }
            Node::Lane { lane, lo, hi } => {
                let mid = merkle::split(lo, hi)?;
                Some((
                    Node::Lane { lane, lo, hi: mid },
                    Node::Lane { lane, lo: mid, hi },
                ))
            }
        }
    }

    pub fn root_node(&self) -> Node {
        Node::Top {
            lo: 0,
            hi: self.params.layout.used_lanes(self.n()),
        }
    }

    /// The executor's answer to a challenger's message, or why it refuses it. Unsigned, and
    /// without the session's rules (a hello first and once): [`Executor::answer`] adds both.
    pub fn respond(&self, m: &Msg) -> Result<Msg, Refusal> {
        match m {
            Msg::Hello { .. } => Ok(Msg::Top {
                digest: self.digest(self.root_node()),
            }),
            Msg::Query { node } => {
                let node = self.check_node(*node)?;
                let (l, r) = self.split(node).ok_or(Refusal::Leaf { node })?;
                Ok(Msg::Children {
                    left: self.digest_checked(l),
                    right: self.digest_checked(r),
                })
            }
            Msg::Open { index } => {
                let (chunk, link) = self.leaf_at(*index).ok_or(Refusal::NoStep {
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
}

impl<'a> Executor<'a> {
    /// An executor defending its tree's own root.
    pub fn new(tree: &'a Tree, key: &'a Key) -> Executor<'a> {
        Executor {
            tree,
            key,
            root: tree.root(),
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
        let msg = self.tree.respond(request)?;
        let sig = self
            .key
            .sign(&reply_message(nonce, &self.root, index, request, &msg));
        Ok(Reply {
            msg,
            sig: Some(sig),
        })
    }

    /// An in-memory session with `nonce`, for [`play`]: answers requests in order, numbering
    /// them from 0.
    pub fn responder(&self, nonce: Nonce) -> impl FnMut(&Msg) -> Result<Reply, String> + '_ {
        let mut index: u64 = 0;
        move |m| {
            let r = self.answer(&nonce, index, m).map_err(|e| e.to_string());
            index = index.saturating_add(1);
            r
        }
    }
}

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

/// Who sent a transcript entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    Challenger,
    Executor,
}

/// One line of a transcript: a challenger's message; or an executor's reply with its
/// signature; or why an expected reply is missing (timeout, garbage, closed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub from: Party,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<Msg>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_sig")]
    pub sig: Option<Signature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl Entry {
    fn challenger(m: Msg) -> Entry {
        Entry {
            from: Party::Challenger,
            msg: Some(m),
            sig: None,
            failure: None,
        }
    }

    fn reply(r: &Reply) -> Entry {
        Entry {
            from: Party::Executor,
            msg: Some(r.msg.clone()),
            sig: r.sig,
            failure: None,
        }
    }

    fn failure(why: String) -> Entry {
        Entry {
            from: Party::Executor,
            msg: None,
            sig: None,
            failure: Some(why),
        }
    }
}

/// An optional signature as hex.
mod opt_sig {
    use super::Signature;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Signature>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(sig) => s.serialize_str(&hex::encode(sig)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Signature>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| poie_files::hexser::decode(&s).map_err(D::Error::custom))
            .transpose()
    }
}

/// What was said in one session: its nonce, and the entries in order (each challenger message
/// followed by the executor's reply or why there is none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    pub nonce: Nonce,
    pub entries: Vec<Entry>,
}

/// The challenger's side, over any source of executor replies: `ask` sends a message (the
/// caller adds `nonce` to the hello) and returns the executor's reply, or why there is none.
/// Records the entries. Only a reply signed by the vote's key for this session, index and
/// request counts: anything else ends the game unproven.
pub fn play(
    correct: &Tree,
    disputed: &Disputed,
    nonce: &Nonce,
    mut ask: impl FnMut(&Msg) -> Result<Reply, String>,
    entries: &mut Vec<Entry>,
) -> Outcome {
    let mut index: u64 = 0;
    let mut exchange = |m: Msg, entries: &mut Vec<Entry>| -> Result<Msg, Outcome> {
        entries.push(Entry::challenger(m.clone()));
        let at = index;
        index = index.saturating_add(1);
        let reply = match ask(&m) {
            Ok(reply) => reply,
            Err(why) => {
                // The reason may come from a file or a peer: escaped, so it cannot drive a
                // terminal.
                let shown = why.escape_debug().to_string();
                entries.push(Entry::failure(why));
                return Err(unproven(format!(
                    "the executor did not answer the {} (request {at}): {shown}",
                    m.kind()
                )));
            }
        };
        entries.push(Entry::reply(&reply));
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
        if !disputed.signed(nonce, at, &m, &reply) {
            return Err(unproven(format!(
                "the signature of reply {at} (a {}) is not the vote's key's for this session, request and reply",
                reply.msg.kind()
            )));
        }
        Ok(reply.msg)
    };
    // Past `exchange`, every reply is the executor's signed word: an honest executor's replies
    // are its tree's answers, so any reply other than the correct tree's convicts.
    let wrong_kind = |reply: &Msg, request: &str| {
        Outcome::Challenger(format!(
            "a signed `{}` reply to a `{request}`",
            reply.kind()
        ))
    };
    let n = correct.n();
    let top = match exchange(
        Msg::Hello {
            root: disputed.root,
        },
        entries,
    ) {
        Ok(Msg::Top { digest }) => digest,
        Ok(other) => return wrong_kind(&other, "hello"),
        Err(o) => return o,
    };
    if correct.params.commitment_root(n, &top) != disputed.root {
        return Outcome::Challenger(
            "the signed top root does not hash to the vote's root (with the trace's true length)"
                .into(),
        );
    }
    let mut node = correct.root_node();
    let mut claimed = top;
    if claimed == correct.digest(node) {
        return Outcome::Executor("no divergence: the executor's root is correct".into());
    }
    // Each round descends one level of a tree at most 16 + 64 levels deep: bounded.
    loop {
        node = correct.normalize(node);
        match correct.children(node) {
            Some((l, r)) => {
                let (left, right) = match exchange(Msg::Query { node }, entries) {
                    Ok(Msg::Children { left, right }) => (left, right),
                    Ok(other) => return wrong_kind(&other, "query"),
                    Err(o) => return o,
                };
                if correct.h.node(&left, &right) != claimed {
                    return Outcome::Challenger(format!(
                        "the signed children of {node:?} do not hash to it"
                    ));
                }
                (node, claimed) = if left != correct.digest(l) {
                    (l, left)
                } else if right != correct.digest(r) {
                    (r, right)
                } else {
                    return Outcome::Executor("no divergent child".into());
                };
            }
            None => {
                // The node came from the challenger's own tree, so it is a leaf of it; were it
                // not, no one could be convicted, hence the executor's win.
                let Node::Lane { lane, lo, .. } = node else {
                    return Outcome::Executor("empty tree".into());
                };
                let Some((index, (right_chunk, right_link))) = correct
                    .params
                    .layout
                    .index(lane, lo)
                    .and_then(|i| Some((i, correct.leaf_at(i)?)))
                else {
                    return Outcome::Executor(format!("{node:?} is not a leaf of the trace"));
                };
                let (chunk, link) = match exchange(Msg::Open { index }, entries) {
                    Ok(Msg::Leaf { chunk, link }) => (chunk, link),
                    Ok(other) => return wrong_kind(&other, "open"),
                    Err(o) => return o,
                };
                if correct.h.leaf(&chunk, &link) != claimed {
                    return Outcome::Challenger(format!(
                        "the signed opening of leaf {index} does not hash to its parent"
                    ));
                }
                if chunk != right_chunk {
                    return Outcome::Challenger(format!(
                        "wrong chunk at step {index}: the executor's trace diverges there"
                    ));
                }
                if link != right_link {
                    return Outcome::Challenger(format!("wrong link at step {index}"));
                }
                return Outcome::Executor("the opened leaf is correct".into());
            }
        }
    }
}

/// Re-judges a transcript offline: replays the challenger's logic against the executor's
/// recorded replies, re-deriving every challenger message, under the live game's rule: only a
/// reply signed by the vote's key for this transcript's nonce, its index and its request is
/// evidence. The replay's outcome is the verdict; so silence, a refusal or an unsigned,
/// altered or replayed reply is [`Outcome::Unproven`], never a conviction. A transcript whose
/// challenger messages are not the game's, or that goes on after a proven end, is refused.
pub fn referee(
    correct: &Tree,
    disputed: &Disputed,
    transcript: &Transcript,
) -> Result<Outcome, String> {
    let mut entries = transcript.entries.iter().enumerate();
    let mut invalid: Option<String> = None;
    let outcome = play(
        correct,
        disputed,
        &transcript.nonce,
        |m| {
            match entries.next() {
                Some((
                    _,
                    Entry {
                        from: Party::Challenger,
                        msg: Some(sent),
                        sig: None,
                        failure: None,
                    },
                )) if sent == m => {}
                Some((k, _)) => {
                    let why = format!("entry {k} is not the challenger's {} here", m.kind());
                    invalid.get_or_insert(why.clone());
                    return Err(why);
                }
                None => {
                    let why = format!("the transcript ends before the challenger's {}", m.kind());
                    invalid.get_or_insert(why.clone());
                    return Err(why);
                }
            }
            match entries.next() {
                Some((
                    _,
                    Entry {
                        from: Party::Executor,
                        msg: Some(msg),
                        sig,
                        failure: None,
                    },
                )) => Ok(Reply {
                    msg: msg.clone(),
                    sig: *sig,
                }),
                Some((
                    _,
                    Entry {
                        from: Party::Executor,
                        msg: None,
                        sig: None,
                        failure: Some(why),
                    },
                )) => Err(why.clone()),
                // The record stops after a request: as silent as a recorded timeout.
                None => Err("no reply recorded".into()),
                Some((k, _)) => {
                    let why = format!("entry {k} is neither an executor's reply nor a failure");
                    invalid.get_or_insert(why.clone());
                    Err(why)
                }
            }
        },
        &mut Vec::new(),
    );
    if let Some(why) = invalid {
        return Err(why);
    }
    // A proven verdict must be the whole transcript's. After an unproven end nothing more can
    // count (the live challenger stops there), and that end is the more useful answer.
    if outcome.is_proven() {
        if let Some((k, _)) = entries.next() {
            return Err(format!("entry {k} comes after the game's end"));
        }
    }
    Ok(outcome)
}

/// One message as it travels: the message, the session's nonce (on the challenger's hello
/// only) and the executor's signature (on its replies, errors excepted). On the wire, one JSON
/// object: the message's fields plus `"nonce"` and `"sig"` as hex where present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub msg: Msg,
    pub nonce: Option<Nonce>,
    pub sig: Option<Signature>,
}

impl Line {
    /// The line's JSON, without the newline.
    pub fn encode(&self) -> io::Result<Vec<u8>> {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            msg: &'a Msg,
            #[serde(skip_serializing_if = "Option::is_none")]
            nonce: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            sig: Option<String>,
        }
        serde_json::to_vec(&Out {
            msg: &self.msg,
            nonce: self.nonce.map(hex::encode),
            sig: self.sig.map(hex::encode),
        })
        .map_err(io::Error::other)
    }

    /// Parses a line (without its newline). Any field besides the message's, `nonce` and
    /// `sig` is refused, as is any malformed value. The reason quotes no peer text unescaped.
    pub fn decode(bytes: &[u8]) -> Result<Line, String> {
        let escaped = |e: serde_json::Error| e.to_string().escape_debug().to_string();
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(bytes).map_err(escaped)?;
        fn hex_field<const N: usize>(
            fields: &mut serde_json::Map<String, serde_json::Value>,
            name: &str,
        ) -> Result<Option<[u8; N]>, String> {
            match fields.remove(name) {
                None => Ok(None),
                Some(serde_json::Value::String(s)) => poie_files::hexser::decode(&s)
                    .map(Some)
                    .map_err(|e| format!("`{name}`: {e}")),
                Some(_) => Err(format!("`{name}` is not a hex string")),
            }
        }
        let nonce = hex_field::<32>(&mut fields, "nonce")?;
        let sig = hex_field::<64>(&mut fields, "sig")?;
        let msg = serde_json::from_value(serde_json::Value::Object(fields)).map_err(escaped)?;
        Ok(Line { msg, nonce, sig })
    }
}

/// Why no message came.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("connection closed")]
    Closed,
    #[error("connection closed in the middle of a message")]
    ClosedMidMessage,
    #[error("timed out: no whole message within {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("message longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("read failed: {0}")]
    Io(io::Error),
}

/// The instant `timeout` from now. A zero timeout is refused (the socket calls would read it as
/// "no timeout at all"), and so is one over [`MAX_TIMEOUT_MS`].
fn deadline(timeout: Duration) -> io::Result<Instant> {
    if timeout.is_zero() || timeout > Duration::from_millis(u64::from(MAX_TIMEOUT_MS)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the timeout must be 1 to {MAX_TIMEOUT_MS} ms (got {} ms)",
                timeout.as_millis()
            ),
        ));
    }
    Instant::now().checked_add(timeout).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("timeout of {} ms is too long", timeout.as_millis()),
        )
    })
}

/// One side of a game's connection: newline-delimited messages, each read or written whole
/// within the timeout.
struct Conn {
    reader: BufReader<TcpStream>,
    timeout: Duration,
}

impl Conn {
    fn new(stream: TcpStream, timeout: Duration) -> io::Result<Conn> {
        deadline(timeout)?;
        // A game is many small request-reply rounds: Nagle's delay would only slow each.
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream),
            timeout,
        })
    }

    fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    /// Reads one whole message. The socket's read timeout is the time left until the
    /// message's deadline, set again before every read, so the whole line must arrive in time.
    fn read_line(&mut self) -> Result<Line, ReadError> {
        let deadline = deadline(self.timeout).map_err(ReadError::Io)?;
        let mut line = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReadError::TimedOut(self.timeout));
            }
            self.stream()
                .set_read_timeout(Some(left))
                .map_err(ReadError::Io)?;
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ReadError::TimedOut(self.timeout))
                }
                Err(e) => return Err(ReadError::Io(e)),
            };
            if buf.is_empty() {
                return Err(if line.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::ClosedMidMessage
                });
            }
            let end = buf.iter().position(|&b| b == b'\n');
            let part = match end {
                Some(i) => buf.get(..=i).unwrap_or(buf),
                None => buf,
            };
            if line.len().saturating_add(part.len()) > MAX_LINE {
                return Err(ReadError::TooLong);
            }
            line.extend_from_slice(part);
            let used = part.len();
            self.reader.consume(used);
            if end.is_some() {
                break;
            }
        }
        let line = line.strip_suffix(b"\n").unwrap_or(&line);
        Line::decode(line).map_err(ReadError::Malformed)
    }

    /// Writes a message with neither nonce nor signature: an executor's `error`.
    fn write_msg(&mut self, m: &Msg) -> io::Result<()> {
        self.write_line(&Line {
            msg: m.clone(),
            nonce: None,
            sig: None,
        })
    }

    /// Writes one whole line within the timeout (a peer that does not read cannot block the
    /// writer longer).
    fn write_line(&mut self, l: &Line) -> io::Result<()> {
        let mut line = l.encode()?;
        line.push(b'\n');
        let deadline = deadline(self.timeout)?;
        let mut rest = line.as_slice();
        while !rest.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.stream().set_write_timeout(Some(left))?;
            match self.stream().write(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(k) => rest = rest.get(k..).unwrap_or_default(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::ErrorKind::TimedOut.into())
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Connects to `addr` (any of the addresses it resolves to) within `timeout` in all. A refused
/// connection is retried until then, so a challenger started just after `poie serve` waits for
/// the server to finish building its tree. Name resolution itself is the system's and has no
/// timeout; a numeric address needs none.
pub fn connect(addr: &str, timeout: Duration) -> io::Result<TcpStream> {
    let deadline = deadline(timeout)?;
    let addrs: Vec<_> = addr.to_socket_addrs()?.collect();
    let mut last = None;
    'retry: loop {
        let mut refused = false;
        for a in &addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break 'retry;
            }
            match TcpStream::connect_timeout(a, left) {
                Ok(s) => return Ok(s),
                Err(e) => {
                    refused |= e.kind() == io::ErrorKind::ConnectionRefused;
                    last = Some(e);
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if !refused || left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
    Err(match last {
        Some(e) if e.kind() != io::ErrorKind::TimedOut => e,
        Some(_) => io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {} ms", timeout.as_millis()),
        ),
        None if Instant::now() >= deadline => io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {} ms", timeout.as_millis()),
        ),
        None => io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr} resolves to no address"),
        ),
    })
}

/// Challenger over TCP: connects within the timeout, opens the session with `nonce` (draw a
/// fresh one per session: [`fresh_nonce`]), then awaits each whole reply at most the timeout.
/// Only setting up the connection is an error; whatever the executor does after that is an
/// outcome.
pub fn challenge(
    addr: &str,
    correct: &Tree,
    disputed: &Disputed,
    nonce: &Nonce,
    timeout: Duration,
) -> io::Result<(Outcome, Transcript)> {
    let mut conn = Conn::new(connect(addr, timeout)?, timeout)?;
    let mut entries = Vec::new();
    let outcome = play(
        correct,
        disputed,
        nonce,
        |m| {
            let hello = matches!(m, Msg::Hello { .. });
            conn.write_line(&Line {
                msg: m.clone(),
                nonce: hello.then_some(*nonce),
                sig: None,
            })
            .map_err(|e| format!("send failed: {e}"))?;
            let line = conn.read_line().map_err(|e| e.to_string())?;
            if line.nonce.is_some() {
                return Err("malformed message: a reply carries a nonce".into());
            }
            Ok(Reply {
                msg: line.msg,
                sig: line.sig,
            })
        },
        &mut entries,
    );
    Ok((
        outcome,
        Transcript {
            nonce: *nonce,
            entries,
        },
    ))
}

/// How the executor's server behaves (misbehaviours exist for drills and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Behaviour {
    #[default]
    Honest,
    /// Accepts and reads, never answers.
    Silent,
}

/// How one session of the executor's server ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// A game: the challenger sent `messages` messages, each answered (or, silent, read), and
    /// closed the connection between two messages.
    Played { messages: u32 },
    /// A protocol error ended the session: a node outside the tree, an unexpected, malformed,
    /// oversized or late message, or a broken connection. The peer was sent the reason as an
    /// `error` message where the connection allowed.
    Failed(String),
    /// Refused at once: the most sessions allowed were in progress.
    Busy,
}

impl SessionEnd {
    /// Whether the session counts as a game played.
    pub fn is_game(&self) -> bool {
        matches!(self, SessionEnd::Played { .. })
    }
}

impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionEnd::Played { messages: 1 } => write!(f, "game played (1 message)"),
            SessionEnd::Played { messages } => write!(f, "game played ({messages} messages)"),
            SessionEnd::Failed(why) => write!(f, "ended by a protocol error: {why}"),
            SessionEnd::Busy => write!(f, "refused: too many sessions in progress"),
        }
    }
}

/// Plays one session with a connected challenger, until it closes the connection or breaks the
/// protocol: its first message must be a hello with a nonce, and every answer is signed for
/// that nonce and the request's index. Never panics on what the peer sends, and lasts at most
/// about [`MAX_SESSION_MESSAGES`] timeouts.
pub fn session(
    stream: TcpStream,
    exec: &Executor<'_>,
    behaviour: Behaviour,
    timeout: Duration,
) -> SessionEnd {
    let mut conn = match Conn::new(stream, timeout) {
        Ok(c) => c,
        Err(e) => return SessionEnd::Failed(format!("setting up the connection failed: {e}")),
    };
    let mut received: u32 = 0;
    let mut nonce: Option<Nonce> = None;
    let why = loop {
        let line = match conn.read_line() {
            Ok(l) => l,
            Err(ReadError::Closed) if received > 0 => {
                return SessionEnd::Played { messages: received }
            }
            Err(ReadError::Closed) => {
                return SessionEnd::Failed(
                    "the peer closed the connection without a message".into(),
                )
            }
            Err(e @ (ReadError::ClosedMidMessage | ReadError::Io(_))) => {
                return SessionEnd::Failed(e.to_string())
            }
            Err(e) => break e.to_string(),
        };
        // The request's index in the session: every earlier one was answered (a refusal ends
        // the session), so it numbers replies too.
        let index = u64::from(received);
        received = received.saturating_add(1);
        if received > MAX_SESSION_MESSAGES {
            break format!("more than {MAX_SESSION_MESSAGES} messages in one session");
        }
        if line.sig.is_some() {
            break "a challenger does not sign its messages".into();
        }
        match (index, &line.msg, line.nonce) {
            (0, Msg::Hello { .. }, Some(n)) => nonce = Some(n),
            (0, Msg::Hello { .. }, None) => break "the hello carries no session nonce".into(),
            (_, _, Some(_)) => {
                break "only the session's first message, its hello, carries a nonce".into()
            }
            _ => {}
        }
        if behaviour == Behaviour::Silent {
            continue;
        }
        let Some(nonce) = nonce else {
            break Refusal::NoHello(line.msg.kind()).to_string();
        };
        match exec.answer(&nonce, index, &line.msg) {
            Ok(reply) => {
                let out = Line {
                    msg: reply.msg,
                    nonce: None,
                    sig: reply.sig,
                };
                if let Err(e) = conn.write_line(&out) {
                    return SessionEnd::Failed(format!("send failed: {e}"));
                }
            }
            Err(refusal) => break refusal.to_string(),
        }
    };
    // Best effort: the session ends whether or not the peer takes the reason.
    let _ = conn.write_msg(&Msg::Error {
        reason: why.clone(),
    });
    SessionEnd::Failed(why)
}

/// Executor over TCP: answers one challenger, then returns how the session ended. A malformed,
/// oversized or late message from the challenger ends the session without harm.
pub fn serve_one(
    listener: &TcpListener,
    exec: &Executor<'_>,
    behaviour: Behaviour,
    timeout: Duration,
) -> io::Result<SessionEnd> {
    deadline(timeout)?;
    let (stream, _) = listener.accept()?;
    Ok(session(stream, exec, behaviour, timeout))
}

/// How [`serve`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServeOptions {
    pub behaviour: Behaviour,
    /// Per-message timeout (positive).
    pub timeout: Duration,
    /// Return once this many games have been played ([`SessionEnd::is_game`]); sessions ended
    /// by a protocol error do not count.
    pub games: u64,
    /// Most sessions in progress at once (at least 1); a connection beyond them gets an
    /// `error` message and is closed at once.
    pub max_sessions: usize,
}

#[derive(Default)]
struct Counts {
    active: usize,
    games: u64,
}

fn lock(m: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    // The counts stay meaningful if a reporting callback panicked while holding the lock.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Executor over TCP: plays sessions with challengers, each on its own thread, at most
/// `max_sessions` at once, until `games` games have been played; then waits for the sessions
/// in progress (each bounded by its timeouts) and returns the number of games. `report` hears
/// how each session ended. A bad session only ends itself: it is never the server's end.
pub fn serve(
    listener: &TcpListener,
    exec: &Executor<'_>,
    opts: &ServeOptions,
    report: &(dyn Fn(SocketAddr, &SessionEnd) + Sync),
) -> io::Result<u64> {
    deadline(opts.timeout)?;
    if opts.max_sessions == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "at least one session must be allowed",
        ));
    }
    // Non-blocking, so the loop sees the last game end without waiting for a connection.
    listener.set_nonblocking(true)?;
    let counts = Mutex::new(Counts::default());
    let counts = &counts;
    let result = std::thread::scope(|scope| -> io::Result<()> {
        loop {
            if lock(counts).games >= opts.games {
                return Ok(());
            }
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(ACCEPT_POLL);
                    continue;
                }
                // The peer gave up before the accept: its problem, not the server's.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(e),
            };
            if let Err(e) = stream.set_nonblocking(false) {
                report(
                    peer,
                    &SessionEnd::Failed(format!("setting up the connection failed: {e}")),
                );
                continue;
            }
            {
                let mut c = lock(counts);
                if c.active >= opts.max_sessions {
                    drop(c);
                    if let Ok(mut conn) =
                        Conn::new(stream, opts.timeout.min(Duration::from_secs(1)))
                    {
                        let _ = conn.write_msg(&Msg::Error {
                            reason: format!(
                                "busy: {} sessions in progress, try again later",
                                opts.max_sessions
                            ),
                        });
                    }
                    report(peer, &SessionEnd::Busy);
                    continue;
                }
                c.active += 1;
            }
            let spawned = std::thread::Builder::new()
                .name("poie-session".into())
                .spawn_scoped(scope, move || {
                    // A bug in one session must not take the others down with the server.
                    let end = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        session(stream, exec, opts.behaviour, opts.timeout)
                    }))
                    .unwrap_or_else(|_| SessionEnd::Failed("internal error (a panic)".into()));
                    report(peer, &end);
                    let mut c = lock(counts);
                    c.active = c.active.saturating_sub(1);
                    if end.is_game() {
                        c.games = c.games.saturating_add(1);
                    }
                });
            if let Err(e) = spawned {
                let mut c = lock(counts);
                c.active = c.active.saturating_sub(1);
                drop(c);
                report(
                    peer,
                    &SessionEnd::Failed(format!("could not start a session thread: {e}")),
                );
            }
        }
    });
    let restored = listener.set_nonblocking(false);
    result?;
    restored?;
    let games = lock(counts).games;
    Ok(games)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connected loopback pair: (the side under test, the peer).
    fn pair(timeout: Duration) -> (Conn, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let peer = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mine, _) = listener.accept().expect("accept");
        (Conn::new(mine, timeout).expect("conn"), peer)
    }

    #[test]
    fn messages_split_over_writes_or_sharing_one_are_each_read_whole() {
        let (mut conn, mut peer) = pair(Duration::from_secs(5));
        let hello = b"{\"type\":\"open\",\"index\":7}\n{\"type\":\"open\",\"ind";
        peer.write_all(hello).expect("send");
        let rest = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            peer.write_all(b"ex\":8}\n").expect("send");
            peer
        });
        assert_eq!(conn.read_line().expect("first").msg, Msg::Open { index: 7 });
        assert_eq!(
            conn.read_line().expect("second").msg,
            Msg::Open { index: 8 }
        );
        drop(rest.join().expect("writer"));
        assert!(matches!(conn.read_line(), Err(ReadError::Closed)));
    }

    #[test]
    fn a_line_may_be_max_line_bytes_and_not_one_more() {
        let open = b"{\"type\":\"open\",\"index\":7}";
        for (pad, ok) in [
            (MAX_LINE - open.len() - 1, true),
            (MAX_LINE - open.len(), false),
        ] {
            let (mut conn, mut peer) = pair(Duration::from_secs(5));
            let mut line = open.to_vec();
            line.resize(open.len() + pad, b' ');
            line.push(b'\n');
            // The writer may be cut short when the reader gives up: that is the point.
            let writer = std::thread::spawn(move || {
                let _ = peer.write_all(&line);
                peer
            });
            match conn.read_line() {
                Ok(l) => assert!(ok && l.msg == Msg::Open { index: 7 }, "{pad}: {l:?}"),
                Err(e) => assert!(!ok && matches!(e, ReadError::TooLong), "{pad}: {e}"),
            }
            drop(writer.join().expect("writer"));
        }
    }

    #[test]
    fn a_line_cut_by_the_peer_is_not_a_message() {
        let (mut conn, mut peer) = pair(Duration::from_secs(5));
        peer.write_all(b"{\"type\":\"open\"").expect("send");
        drop(peer);
        assert!(matches!(conn.read_line(), Err(ReadError::ClosedMidMessage)));
    }

    #[test]
    fn lines_carry_the_nonce_and_signature_beside_the_message_fields() {
        let hello = Line {
            msg: Msg::Hello { root: [1; 32] },
            nonce: Some([2; 32]),
            sig: None,
        };
        let text = String::from_utf8(hello.encode().expect("json")).expect("utf-8");
        assert_eq!(
            text,
            format!(
                "{{\"type\":\"hello\",\"root\":\"{}\",\"nonce\":\"{}\"}}",
                "01".repeat(32),
                "02".repeat(32)
            )
        );
        assert_eq!(Line::decode(text.as_bytes()), Ok(hello));
        let reply = Line {
            msg: Msg::Children {
                left: [3; 32],
                right: [4; 32],
            },
            nonce: None,
            sig: Some([5; 64]),
        };
        let text = reply.encode().expect("json");
        assert_eq!(Line::decode(&text), Ok(reply));
        let open = br#"{"type":"open","index":7}"#;
        assert_eq!(
            Line::decode(open),
            Ok(Line {
                msg: Msg::Open { index: 7 },
                nonce: None,
                sig: None
            })
        );
        for bad in [
            &br#"{"type":"open","index":7,"extra":1}"#[..],
            br#"{"type":"open","index":7,"sig":"00"}"#,
            br#"{"type":"open","index":7,"sig":7}"#,
            br#"{"type":"open","index":7,"nonce":"zz"}"#,
            br#"{"type":"open","index":-1}"#,
            br#"["open",7]"#,
            b"\x00\x01 not json",
        ] {
            let e = Line::decode(bad).expect_err("refused");
            assert!(!e.contains('\u{0}'), "escaped: {e:?}");
        }
    }

    /// The signed bytes are a wire format of their own (docs/SPEC.md 6.5): pinned here byte
    /// for byte, so a change to them cannot pass unnoticed.
    #[test]
    fn signed_bytes_are_pinned() {
        let node = Node::Lane {
            lane: 2,
            lo: 3,
            hi: 0x0102,
        };
        let mut query = vec![3, 1, 2, 0, 0, 0];
        query.extend_from_slice(&3u64.to_le_bytes());
        query.extend_from_slice(&0x0102u64.to_le_bytes());
        assert_eq!(Msg::Query { node }.encode(), query);
        assert_eq!(
            Msg::Query {
                node: Node::Top { lo: 1, hi: 4 }
            }
            .encode(),
            [3, 0, 1, 0, 0, 0, 4, 0, 0, 0]
        );
        assert_eq!(Msg::Open { index: 9 }.encode(), [5, 9, 0, 0, 0, 0, 0, 0, 0]);
        let mut error = vec![7, 2, 0, 0, 0, 0, 0, 0, 0];
        error.extend_from_slice(b"no");
        assert_eq!(
            Msg::Error {
                reason: "no".into()
            }
            .encode(),
            error
        );
        for (m, tag) in [
            (Msg::Hello { root: [8; 32] }, 1),
            (Msg::Top { digest: [8; 32] }, 2),
        ] {
            let mut b = vec![tag];
            b.extend_from_slice(&[8; 32]);
            assert_eq!(m.encode(), b);
        }
        for (m, tag) in [
            (
                Msg::Children {
                    left: [8; 32],
                    right: [9; 32],
                },
                4,
            ),
            (
                Msg::Leaf {
                    chunk: [8; 32],
                    link: [9; 32],
                },
                6,
            ),
        ] {
            let mut b = vec![tag];
            b.extend_from_slice(&[8; 32]);
            b.extend_from_slice(&[9; 32]);
            assert_eq!(m.encode(), b);
        }
        let mut expected = b"poie/v1/challenge-reply".to_vec();
        expected.extend_from_slice(&[1; 32]);
        expected.extend_from_slice(&[2; 32]);
        expected.extend_from_slice(&5u64.to_le_bytes());
        expected.extend_from_slice(&[5, 9, 0, 0, 0, 0, 0, 0, 0]);
        expected.push(2);
        expected.extend_from_slice(&[8; 32]);
        assert_eq!(
            reply_message(
                &[1; 32],
                &[2; 32],
                5,
                &Msg::Open { index: 9 },
                &Msg::Top { digest: [8; 32] }
            ),
            expected
        );
    }

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

    #[test]
    fn timeouts_must_be_positive_and_at_most_an_hour() {
        assert!(deadline(Duration::ZERO).is_err());
        assert!(deadline(Duration::from_millis(u64::from(MAX_TIMEOUT_MS) + 1)).is_err());
        assert!(deadline(Duration::MAX).is_err());
        assert!(deadline(Duration::from_millis(1)).is_ok());
        assert!(deadline(Duration::from_millis(u64::from(MAX_TIMEOUT_MS))).is_ok());
    }
}
