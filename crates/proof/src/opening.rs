//! Opening one leaf of a committed trace, and checking an opening against a root.
//!
//! An opening of chunk `i` (lane `j = i mod L`, position `p = i div L`) holds the chunk, its
//! link, the audit path of position `p` in lane `j`'s tree, the audit path of lane `j` in the
//! top tree and, for a chained lane with `p > 0`, the audit path of position `p - 1`: with it
//! the verifier checks that the link *is* the committed previous leaf of the lane.

use super::hash::{Digest32, Hasher};
use super::layout::Params;
use super::tree::{audit_path, path_ranges, root_from_path};
use poie_trace::{Chunk, TraceSink};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io;
use thiserror::Error;

/// Format version of opening files.
pub const OPENING_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    pub version: u32,
    pub params: Params,
    /// Chunks in the whole trace.
    pub n: u64,
    pub index: u64,
    #[serde(with = "poie_files::hexser::bytes")]
    pub chunk: Chunk,
    #[serde(with = "poie_files::hexser::bytes")]
    pub link: Digest32,
    #[serde(with = "poie_files::hexser::list")]
    pub lane_branch: Vec<Digest32>,
    /// Audit path of the previous leaf of the lane (chained lanes, position > 0 only).
    #[serde(
        with = "poie_files::hexser::opt_list",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub prev_branch: Option<Vec<Digest32>>,
    #[serde(with = "poie_files::hexser::list")]
    pub top_branch: Vec<Digest32>,
}

impl poie_files::json::VersionedFile for Opening {
    const WHAT: &'static str = "opening";
    const VERSION: u32 = OPENING_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum OpeningError {
    #[error("unsupported opening version {0} (this poie reads version {OPENING_VERSION})")]
    Version(u32),
    #[error("opening is for {0:?}, the commitment for {1:?}")]
    ParamsMismatch(Params, Params),
    #[error("opening is for a trace of {0} chunks, the commitment for {1}")]
    LengthMismatch(u64, u64),
    #[error("index {0} is outside a trace of {1} chunks")]
    IndexOutOfRange(u64, u64),
    #[error("a lane's first leaf (or an unchained leaf) must have a zero link")]
    NonZeroLink,
    #[error("a chained leaf after a lane's first needs the previous leaf's branch")]
    MissingPrevBranch,
    #[error("unexpected previous-leaf branch for this position")]
    UnexpectedPrevBranch,
    #[error("{0} branch has the wrong length for its position")]
    BranchLength(&'static str),
    #[error("the link is not the lane's committed previous leaf")]
    LinkNotCommitted,
    #[error("the opening does not reproduce the committed root")]
    RootMismatch,
}

/// Checks `o` against the commitment `(params, n, root)`; `h` holds the executor's unique
/// secret (so it is run after the reveal).
pub fn verify(
    h: &Hasher,
    o: &Opening,
    params: &Params,
    n: u64,
    root: &Digest32,
) -> Result<(), OpeningError> {
    if o.version != OPENING_VERSION {
        return Err(OpeningError::Version(o.version));
    }
    if o.params != *params {
        return Err(OpeningError::ParamsMismatch(o.params, *params));
    }
    if o.n != n {
        return Err(OpeningError::LengthMismatch(o.n, n));
    }
    if o.index >= n {
        return Err(OpeningError::IndexOutOfRange(o.index, n));
    }
    let layout = params.layout;
    let (j, p) = layout.locate(o.index);
    let m = layout.lane_len(n, j);
    let leaf = h.leaf(&o.chunk, &o.link);
    let lane_root =
        root_from_path(h, &leaf, p, m, &o.lane_branch).ok_or(OpeningError::BranchLength("lane"))?;
    match (&o.prev_branch, layout.chained && p > 0) {
        (None, false) if o.link != [0; 32] => return Err(OpeningError::NonZeroLink),
        (None, false) => {}
        (None, true) => return Err(OpeningError::MissingPrevBranch),
        (Some(_), false) => return Err(OpeningError::UnexpectedPrevBranch),
        (Some(prev), true) => {
            let r = root_from_path(h, &o.link, p - 1, m, prev)
                .ok_or(OpeningError::BranchLength("previous-leaf"))?;
            if r != lane_root {
                return Err(OpeningError::LinkNotCommitted);
            }
        }
    }
    let top = root_from_path(
        h,
        &lane_root,
        u64::from(j),
        u64::from(layout.used_lanes(n)),
        &o.top_branch,
    )
    .ok_or(OpeningError::BranchLength("top"))?;
    if params.commitment_root(n, &top) != *root {
        return Err(OpeningError::RootMismatch);
    }
    Ok(())
}

/// The nodes one lane's openings need, recorded while the lane's tree is built once.
struct LaneNodes {
    /// Leaves in the lane (its length in the committed trace).
    m: u64,
    prev_leaf: Digest32,
    /// `pending[h]` holds the root of a complete subtree of `2^h` leaves when bit `h` of
    /// `count` is set, as in [`super::tree::Frontier`]; kept here so every completed node can be
    /// looked up as it appears.
    pending: Vec<Digest32>,
    count: u64,
    /// Wanted leaves, by position: `(chunk, link)` once seen.
    leaves: HashMap<u64, Option<(Chunk, Digest32)>>,
    /// Wanted subtree roots, by `[start, end)`: filled when the subtree completes (or, for the
    /// right edge of a lane whose length is not a power of two, at the end).
    nodes: HashMap<(u64, u64), Option<Digest32>>,
}

impl LaneNodes {
    fn new(m: u64) -> Self {
        LaneNodes {
            m,
            prev_leaf: [0; 32],
            pending: Vec::new(),
            count: 0,
            leaves: HashMap::new(),
            nodes: HashMap::new(),
        }
    }

    fn want(&mut self, pos: u64, chained: bool) {
        self.leaves.insert(pos, None);
        let mut ranges = path_ranges(pos, self.m);
        if chained && pos > 0 {
            ranges.extend(path_ranges(pos - 1, self.m));
        }
        for r in ranges {
            self.nodes.insert(r, None);
        }
    }

    /// Pushes leaf `count`; returns the node hashes done.
    fn push(&mut self, h: &Hasher, leaf: Digest32) -> u64 {
        let pos = self.count;
        let mut carry = leaf;
        let mut level = 0usize;
        let mut hashes = 0;
        loop {
            // `carry` is the root of the aligned subtree of `2^level` leaves ending at `pos`.
            let size = 1u64 << level;
            let start = pos + 1 - size;
            if let Some(slot) = self.nodes.get_mut(&(start, start + size)) {
                *slot = Some(carry);
            }
            if self.count >> level & 1 == 0 {
                break;
            }
            carry = h.node(&self.pending[level], &carry);
            hashes += 1;
            level += 1;
        }
        if self.pending.len() <= level {
            self.pending.resize(level + 1, [0; 32]);
        }
        self.pending[level] = carry;
        self.count += 1;
        hashes
    }

    /// Fills the wanted nodes on the lane's right edge, `[x, m)` for `m - x` not a power of two
    /// with `x` aligned: the pending subtrees folded from the smallest up, as the root is.
    fn finish(&mut self, h: &Hasher) {
        let mut acc: Option<Digest32> = None;
        for level in 0..self.pending.len() {
            if self.count >> level & 1 == 1 {
                let sub = &self.pending[level];
                let folded = match acc {
                    None => *sub,
                    Some(right) => h.node(sub, &right),
                };
                acc = Some(folded);
                // The fold so far covers the leaves from the start of this pending subtree on.
                let start = self.count - (self.count & (u64::MAX >> (63 - level)));
                if let Some(slot) = self.nodes.get_mut(&(start, self.count)) {
                    slot.get_or_insert(folded);
                }
            }
        }
    }

    fn branch(&self, pos: u64) -> io::Result<Vec<Digest32>> {
        path_ranges(pos, self.m)
            .into_iter()
            .map(|r| {
                self.nodes
                    .get(&r)
                    .copied()
                    .flatten()
                    .ok_or_else(|| io::Error::other(format!("subtree {r:?} of the lane not built")))
            })
            .collect()
    }
}

/// A [`TraceSink`] that collects the openings of any number of indices in one streaming pass:
/// each lane that holds a wanted index has its leaves hashed and its tree built once, and the
/// subtree roots the audit paths need are recorded as they complete. The work is at most one
/// leaf and one node hash per chunk of those lanes, however many indices are wanted; memory is
/// O(indices x log n). Run it beside a [`super::Prover`] (with [`poie_trace::Tee`]) to get the
/// lane roots for the top branches.
pub struct OpeningCollector {
    h: Hasher,
    params: Params,
    n: u64,
    indices: Vec<u64>,
    lanes: BTreeMap<u32, LaneNodes>,
    seen: u64,
    hashes: u64,
}

impl OpeningCollector {
    /// `n` is the committed trace length; the trace fed must have exactly that many chunks.
    /// Indices may repeat; the openings come back in the order asked.
    pub fn new(h: Hasher, params: Params, n: u64, indices: &[u64]) -> Result<Self, OpeningError> {
        let mut lanes = BTreeMap::new();
        for &index in indices {
            if index >= n {
                return Err(OpeningError::IndexOutOfRange(index, n));
            }
            let (lane, pos) = params.layout.locate(index);
            lanes
                .entry(lane)
                .or_insert_with(|| LaneNodes::new(params.layout.lane_len(n, lane)))
                .want(pos, params.layout.chained);
        }
        Ok(OpeningCollector {
            h,
            params,
            n,
            indices: indices.to_vec(),
            lanes,
            seen: 0,
            hashes: 0,
        })
    }

    /// Leaf and node hashes done so far: the cost of the openings, which does not grow with
    /// the number of indices.
    pub fn hashes(&self) -> u64 {
        self.hashes
    }

    /// Completes the openings, in the order asked, given all lane roots (from the prover of
    /// the same trace).
    pub fn into_openings(mut self, lane_roots: &[Digest32]) -> io::Result<Vec<Opening>> {
        if self.seen != self.n {
            return Err(io::Error::other(format!(
                "the trace has {} chunks, the commitment says {}: not the committed execution",
                self.seen, self.n
            )));
        }
        for lane in self.lanes.values_mut() {
            lane.finish(&self.h);
        }
        let chained = self.params.layout.chained;
        self.indices
            .iter()
            .map(|&index| {
                let (j, pos) = self.params.layout.locate(index);
                let lane = self
                    .lanes
                    .get(&j)
                    .ok_or_else(|| io::Error::other("opened lane not collected"))?;
                let (chunk, link) = lane
                    .leaves
                    .get(&pos)
                    .copied()
                    .flatten()
                    .ok_or_else(|| io::Error::other("opened chunk not seen"))?;
                let prev_branch = if chained && pos > 0 {
                    Some(lane.branch(pos - 1)?)
                } else {
                    None
                };
                Ok(Opening {
                    version: OPENING_VERSION,
                    params: self.params,
                    n: self.n,
                    index,
                    chunk,
                    link,
                    lane_branch: lane.branch(pos)?,
                    prev_branch,
                    top_branch: audit_path(&self.h, lane_roots, u64::from(j)),
                })
            })
            .collect()
    }
}

impl TraceSink for OpeningCollector {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        let lanes = u64::from(self.params.layout.lanes);
        let first = self.seen;
        self.seen += chunks.len() as u64;
        if self.seen > self.n {
            return Err(io::Error::other(format!(
                "the trace is longer than the commitment's {} chunks",
                self.n
            )));
        }
        let chained = self.params.layout.chained;
        for (&j, lane) in self.lanes.iter_mut() {
            // The first index >= `first` in lane `j`.
            let mut i = first + (u64::from(j) + lanes - first % lanes) % lanes;
            while i < self.seen {
                let c = &chunks[(i - first) as usize];
                let link = if chained { lane.prev_leaf } else { [0; 32] };
                let leaf = self.h.leaf(c, &link);
                lane.prev_leaf = leaf;
                if let Some(slot) = lane.leaves.get_mut(&lane.count) {
                    *slot = Some((*c, link));
                }
                self.hashes += 1 + lane.push(&self.h, leaf);
                i += lanes;
            }
        }
        Ok(())
    }
}
