//! The naive reference implementation: the whole trace in memory, recursive trees, public-API
//! hash calls, no batching and no threads. Tests check every fast path against it; nothing
//! else should use it. It shares only the tree's recursive definition ([`tree::mth`]) with the
//! crate, never the streaming code it checks.

use super::hash::{reference, Digest32};
use super::layout::Params;
use super::tree;
use poie_trace::Chunk;

/// Every leaf of the trace, in trace order.
pub fn leaves(params: &Params, secret: &Digest32, chunks: &[Chunk]) -> Vec<Digest32> {
    let lanes = params.layout.lanes as usize;
    let mut out: Vec<Digest32> = Vec::with_capacity(chunks.len());
    for (i, c) in chunks.iter().enumerate() {
        let link = if params.layout.chained && i >= lanes {
            out[i - lanes]
        } else {
            [0; 32]
        };
        out.push(reference::leaf(params.hash, secret, c, &link));
    }
    out
}

/// RFC 6962 root by the recursive definition; 32 zero bytes for no leaves.
pub fn mth(params: &Params, leaves: &[Digest32]) -> Digest32 {
    tree::mth(
        0,
        leaves.len() as u64,
        &|i| usize::try_from(i).ok().and_then(|i| leaves.get(i)).copied(),
        &|l, r| reference::node(params.hash, l, r),
    )
    .unwrap_or([0; 32])
}

/// The leaves of lane `j`, in position order.
pub fn lane_leaves(params: &Params, all: &[Digest32], j: usize) -> Vec<Digest32> {
    all.iter()
        .skip(j)
        .step_by(params.layout.lanes as usize)
        .copied()
        .collect()
}

/// Roots of the non-empty lanes.
pub fn lane_roots(params: &Params, all: &[Digest32]) -> Vec<Digest32> {
    let used = params.layout.used_lanes(all.len() as u64) as usize;
    (0..used)
        .map(|j| mth(params, &lane_leaves(params, all, j)))
        .collect()
}

/// The committed root of a whole trace.
pub fn root(params: &Params, secret: &Digest32, chunks: &[Chunk]) -> Digest32 {
    let all = leaves(params, secret, chunks);
    let top = mth(params, &lane_roots(params, &all));
    params.commitment_root(chunks.len() as u64, &top)
}
