//! The tree of a trace in memory (top tree over lane roots, continued into the lane trees),
//! built for a vote: node validation, digests and splits, and the sink that collects the trace.

use super::bounded::{Bounded, Limits, ReplayError};
use super::wire::Node;
use crate::vote::{Reveal, Vote};
use crate::windback::{ExecuteError, Job};
use poie_proof::backend::SimdError;
use poie_proof::hash::{Digest32, Hasher};
use poie_proof::layout::{Layout, Params};
use poie_proof::tree as merkle;
use poie_proof::{Address, Salt, Simd};
use poie_trace::{Chunk, TraceSink};
use std::io;

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
    #[error("{0:?} is not reached from the root by the tree's splits: no node of the tree")]
    NotInTree(Node),
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
    #[error("{0}: it is invalid")]
    BeyondCap(#[from] crate::vote::BeyondCap),
    #[error("{0}: it is invalid")]
    Profile(#[from] crate::vote::ProfileError),
    #[error("the key (address {key}) is not the vote's (address {vote})")]
    KeyMismatch { key: Address, vote: Address },
    #[error(
        "the tree's root is not the vote's: serving it would sign answers that contradict the vote"
    )]
    RootMismatch,
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    #[error(transparent)]
    Simd(#[from] SimdError),
}

/// The tree of a trace under one secret: its nodes' digests and its leaves' chunks and links.
pub struct Tree {
    pub params: Params,
    pub h: Hasher,
    store: Store,
}

/// Where a tree's digests and leaves come from.
enum Store {
    /// Every chunk, link and leaf (96 bytes a step): the simple reference, for tests, drills
    /// and simulations.
    Memory {
        chunks: Vec<Chunk>,
        links: Vec<Digest32>,
        leaves: Vec<Digest32>,
    },
    /// Lane digests down to a block and checkpoints of the VM: what a player holds for a vote.
    Bounded(Box<Bounded>),
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
        Tree::with_link_lie(params, h, chunks, None)
    }

    /// As [`Tree::new`], but with the link of step `link_lie_at` altered (and the leaves after
    /// it in its lane chained to the altered leaf): a drill of an executor whose chunk is right
    /// and whose link is not.
    pub fn with_link_lie(
        params: Params,
        h: Hasher,
        chunks: Vec<Chunk>,
        link_lie_at: Option<u64>,
    ) -> Tree {
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
            let mut link = match prev {
                Some(prev) if layout.chained => *prev,
                _ => [0; 32],
            };
            if link_lie_at == Some(i as u64) {
                link[0] ^= 1;
            }
            leaves.push(h.leaf(c, &link));
            links.push(link);
        }
        Tree {
            params,
            h,
            store: Store::Memory {
                chunks,
                links,
                leaves,
            },
        }
    }

    /// The executor's tree for vote `v`: executes the windback under the vote's step limit, and
    /// no further than its `n` chunks (a vote over a looping job must not grow it without
    /// bound), and hashes it with the unique secret of `salt` and the vote's address, keeping
    /// what the default [`Limits`] allow. The salt and the windback must be the vote's.
    /// `corrupt_at` corrupts one step: drills and tests of a lying executor.
    pub fn for_vote(
        v: &Vote,
        salt: &Salt,
        jobs: &[Job],
        corrupt_at: Option<u64>,
    ) -> Result<Tree, SetupError> {
        Tree::for_vote_within(v, salt, jobs, corrupt_at, Limits::default())
    }

    /// As [`Tree::for_vote`], within `limits`.
    pub fn for_vote_within(
        v: &Vote,
        salt: &Salt,
        jobs: &[Job],
        corrupt_at: Option<u64>,
        limits: Limits,
    ) -> Result<Tree, SetupError> {
        v.within_cap()?;
        if v.profile()?.salt_commitment(salt) != v.salt_commitment {
            return Err(SetupError::SaltMismatch);
        }
        if !v.is_for(jobs)? {
            return Err(SetupError::WindbackMismatch);
        }
        let h = Hasher::for_executor(v.params.hash, salt, &v.address, Simd::detect())?;
        Tree::for_jobs(v.params, h, jobs, v.max_steps, v.n, corrupt_at, limits)
    }

    /// The tree of `jobs`' trace under `max_steps` and hasher `h`, within `limits`: at most
    /// `n_max` chunks (a longer trace is refused), `corrupt_at` as in [`Tree::for_vote`].
    pub fn for_jobs(
        params: Params,
        h: Hasher,
        jobs: &[Job],
        max_steps: u64,
        n_max: u64,
        corrupt_at: Option<u64>,
        limits: Limits,
    ) -> Result<Tree, SetupError> {
        let bounded = Bounded::build(
            params.layout,
            h.clone(),
            jobs,
            max_steps,
            n_max,
            corrupt_at,
            limits,
        )?;
        Ok(Tree {
            params,
            h,
            store: Store::Bounded(Box::new(bounded)),
        })
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
        match &self.store {
            Store::Memory { chunks, .. } => chunks.len() as u64,
            Store::Bounded(b) => b.n(),
        }
    }

    /// The bounded store behind a vote's tree; `None` for a tree in memory.
    pub fn bounded(&self) -> Option<&Bounded> {
        match &self.store {
            Store::Bounded(b) => Some(b),
            Store::Memory { .. } => None,
        }
    }

    /// The VM snapshots the tree keeps inside job `job` (none for a tree in memory): see
    /// [`Bounded::snapshots_of`].
    pub fn snapshots_of(&self, job: usize) -> Vec<poie_vm::Snapshot> {
        self.bounded()
            .map_or_else(Vec::new, |b| b.snapshots_of(job))
    }

    /// The commitment root of the tree: what a vote on it carries. Never re-executes: the top
    /// tree's digests are kept.
    pub fn root(&self) -> Digest32 {
        let top = self.top_digest(self.root_node()).unwrap_or([0; 32]);
        self.params.commitment_root(self.n(), &top)
    }

    /// Chunk and link of step `index`, if the trace has it.
    pub fn leaf_at(&self, index: u64) -> Result<Option<(Chunk, Digest32)>, ReplayError> {
        match &self.store {
            Store::Memory { chunks, links, .. } => {
                let Ok(i) = usize::try_from(index) else {
                    return Ok(None);
                };
                Ok(chunks.get(i).copied().zip(links.get(i).copied()))
            }
            Store::Bounded(b) => b.leaf_at(index),
        }
    }

    /// The leaf at position `pos` of lane `lane` of an in-memory tree.
    fn memory_leaf(leaves: &[Digest32], layout: Layout, lane: u32, pos: u64) -> Option<Digest32> {
        if lane >= layout.lanes {
            return None;
        }
        let i = usize::try_from(layout.index(lane, pos)?).ok()?;
        leaves.get(i).copied()
    }

    /// The tree's shape: its nodes, without their digests.
    pub fn shape(&self) -> Shape {
        Shape {
            params: self.params,
            n: self.n(),
        }
    }

    /// See [`Shape::normalize`].
    pub fn normalize(&self, node: Node) -> Node {
        self.shape().normalize(node)
    }

    /// See [`Shape::check_node`].
    pub fn check_node(&self, node: Node) -> Result<Node, BadNode> {
        self.shape().check_node(node)
    }

    /// The digest of a node of the tree; the zero digest for a node that is not in it (as for
    /// the empty tree's root).
    pub fn digest(&self, node: Node) -> Result<Digest32, ReplayError> {
        match self.check_node(node) {
            Ok(node) => self.digest_checked(node),
            Err(_) => Ok([0; 32]),
        }
    }

    /// The RFC 6962 split of a node of more than one leaf; `None` for a leaf or a node that is
    /// not in the tree.
    pub fn children(&self, node: Node) -> Option<(Node, Node)> {
        self.split(self.check_node(node).ok()?)
    }

    /// `digest` of a node that passed `check_node`, by the tree's one recursive definition
    /// ([`merkle::mth`]): over positions for a lane node, over lane roots for a top node.
    pub(super) fn digest_checked(&self, node: Node) -> Result<Digest32, ReplayError> {
        match self.normalize(node) {
            Node::Lane { lane, lo, hi } => Ok(self.lane_digest(lane, lo, hi)?.unwrap_or([0; 32])),
            top => Ok(self.top_digest(top).unwrap_or([0; 32])),
        }
    }

    fn lane_digest(&self, lane: u32, lo: u64, hi: u64) -> Result<Option<Digest32>, ReplayError> {
        let join = |l: &Digest32, r: &Digest32| self.h.node(l, r);
        match &self.store {
            Store::Memory { leaves, .. } => {
                let layout = self.params.layout;
                let leaf = |pos| Tree::memory_leaf(leaves, layout, lane, pos);
                Ok(merkle::mth(lo, hi, &leaf, &join))
            }
            Store::Bounded(b) => b.lane_digest(lane, lo, hi),
        }
    }

    /// The digest of a top node, over the lanes' roots; never re-executes.
    fn top_digest(&self, node: Node) -> Option<Digest32> {
        let Node::Top { lo, hi } = node else {
            return None;
        };
        let join = |l: &Digest32, r: &Digest32| self.h.node(l, r);
        match &self.store {
            Store::Memory { leaves, .. } => {
                let layout = self.params.layout;
                let n = self.n();
                let lane_root = |j: u64| {
                    let lane = u32::try_from(j).ok()?;
                    let leaf = |pos| Tree::memory_leaf(leaves, layout, lane, pos);
                    merkle::mth(0, layout.lane_len(n, lane), &leaf, &join)
                };
                merkle::mth(u64::from(lo), u64::from(hi), &lane_root, &join)
            }
            Store::Bounded(b) => {
                let roots = b.lane_roots();
                let lane_root = |j: u64| roots.get(usize::try_from(j).ok()?).copied();
                merkle::mth(u64::from(lo), u64::from(hi), &lane_root, &join)
            }
        }
    }

    pub(super) fn split(&self, node: Node) -> Option<(Node, Node)> {
        self.shape().split(node)
    }

    pub fn root_node(&self) -> Node {
        self.shape().root_node()
    }
}

/// Whether `[lo, hi)` is a node of the tree over `[0, len)`: reached from it by splits. Only
/// such a node is answered: any other range has no place in a game, and its digest would cost
/// a player up to a pass over its leaves. At most 64 splits.
fn reached(len: u64, lo: u64, hi: u64) -> bool {
    let (mut a, mut b) = (0, len);
    while (a, b) != (lo, hi) {
        match merkle::split(a, b) {
            Some(mid) if hi <= mid => b = mid,
            Some(mid) if lo >= mid => a = mid,
            _ => return false,
        }
    }
    true
}

/// The nodes of the tree over `n` chunks under `params`, without their digests: what a referee
/// that holds no trace needs to follow a game (docs/SPEC.md 3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub params: Params,
    pub n: u64,
}

impl Shape {
    fn n(&self) -> u64 {
        self.n
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
            if !reached(len, lo, hi) {
                return Err(BadNode::NotInTree(node));
            }
        }
        if let Node::Top { lo, hi } = node {
            let used = layout.used_lanes(self.n());
            if !reached(u64::from(used), u64::from(lo), u64::from(hi)) {
                return Err(BadNode::NotInTree(node));
            }
        }
        Ok(node)
    }

    /// The split of a node that passed `check_node`, at the tree's one split rule
    /// ([`merkle::split`]); `None` for a single leaf.
    pub fn split(&self, node: Node) -> Option<(Node, Node)> {
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
}
