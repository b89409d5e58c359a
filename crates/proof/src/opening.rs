//! Opening one leaf of a committed trace, and checking an opening against a root.
//!
//! An opening of chunk `i` (lane `j = i mod L`, position `p = i div L`) holds the chunk, its
//! link, the audit path of position `p` in lane `j`'s tree, the audit path of lane `j` in the
//! top tree and, for a chained lane with `p > 0`, the audit path of position `p - 1`: with it
//! the verifier checks that the link *is* the committed previous leaf of the lane.

use super::hash::{Digest32, Hasher};
use super::layout::Params;
use super::tree::{audit_path, path_ranges, root_from_path, Frontier};
use poie_trace::{Chunk, TraceSink};
use serde::{Deserialize, Serialize};
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

/// One audit-path sibling being built from the leaves streaming by.
struct RangeRoot {
    start: u64,
    end: u64,
    frontier: Frontier,
}

/// A [`TraceSink`] that collects what an opening of chunk `index` needs from lane `j`, in one
/// streaming pass and O(log n) memory: the chunk and link, and the roots of the sibling
/// subtrees of positions `p` and `p - 1`. Run it beside a [`super::Prover`] (with
/// [`poie_trace::Tee`]) to get the lane roots for the top branch.
pub struct OpeningCollector {
    h: Hasher,
    params: Params,
    n: u64,
    index: u64,
    lane: u64,
    pos: u64,
    seen: u64,
    prev_leaf: Digest32,
    chunk: Option<(Chunk, Digest32)>,
    ranges: Vec<RangeRoot>,
    prev_ranges: Vec<RangeRoot>,
}

fn ranges(p: u64, m: u64) -> Vec<RangeRoot> {
    path_ranges(p, m)
        .into_iter()
        .map(|(start, end)| RangeRoot {
            start,
            end,
            frontier: Frontier::new(),
        })
        .collect()
}

impl OpeningCollector {
    /// `n` is the committed trace length; the trace fed must have exactly that many chunks.
    pub fn new(h: Hasher, params: Params, n: u64, index: u64) -> Result<Self, OpeningError> {
        if index >= n {
            return Err(OpeningError::IndexOutOfRange(index, n));
        }
        let (lane, pos) = params.layout.locate(index);
        let lane = u64::from(lane);
        let m = params.layout.lane_len(n, lane as u32);
        let prev_ranges = if params.layout.chained && pos > 0 {
            ranges(pos - 1, m)
        } else {
            Vec::new()
        };
        Ok(OpeningCollector {
            h,
            params,
            n,
            index,
            lane,
            pos,
            seen: 0,
            prev_leaf: [0; 32],
            chunk: None,
            ranges: ranges(pos, m),
            prev_ranges,
        })
    }

    /// Completes the opening given all lane roots (from the prover of the same trace).
    pub fn into_opening(self, lane_roots: &[Digest32]) -> io::Result<Opening> {
        if self.seen != self.n {
            return Err(io::Error::other(format!(
                "the trace has {} chunks, the commitment says {}: not the committed execution",
                self.seen, self.n
            )));
        }
        let (chunk, link) = self
            .chunk
            .ok_or_else(|| io::Error::other("opened chunk not seen"))?;
        let roots = |rs: Vec<RangeRoot>| -> Vec<Digest32> {
            rs.iter()
                .map(|r| r.frontier.root(&self.h).unwrap_or([0; 32]))
                .collect()
        };
        let lane_branch = roots(self.ranges);
        let prev_branch =
            (self.params.layout.chained && self.pos > 0).then(|| roots(self.prev_ranges));
        Ok(Opening {
            version: OPENING_VERSION,
            params: self.params,
            n: self.n,
            index: self.index,
            chunk,
            link,
            lane_branch,
            prev_branch,
            top_branch: audit_path(&self.h, lane_roots, self.lane),
        })
    }
}

impl TraceSink for OpeningCollector {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        let lanes = u64::from(self.params.layout.lanes);
        let first = self.seen;
        self.seen += chunks.len() as u64;
        // The first index >= `first` in our lane.
        let mut i = first + (self.lane + lanes - first % lanes) % lanes;
        while i < self.seen {
            let c = &chunks[(i - first) as usize];
            let q = i / lanes;
            let link = if self.params.layout.chained {
                self.prev_leaf
            } else {
                [0; 32]
            };
            let leaf = self.h.leaf(c, &link);
            self.prev_leaf = leaf;
            if q == self.pos {
                self.chunk = Some((*c, link));
            }
            for r in self.ranges.iter_mut().chain(self.prev_ranges.iter_mut()) {
                if (r.start..r.end).contains(&q) {
                    r.frontier.push(&self.h, leaf);
                }
            }
            i += lanes;
        }
        Ok(())
    }
}
