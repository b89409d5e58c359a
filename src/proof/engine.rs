//! The hashing kernel shared by every mode: leaves of a block for a range of lanes, perfect
//! subtrees reduced level by level, and the per-lane state ([`LaneGroup`]) that folds blocks
//! into streaming frontiers.
//!
//! A *block* is `rows x lanes` consecutive chunks (rows a power of two), aligned in the trace,
//! so each lane gets a perfect, aligned subtree of `rows` leaves. Leaves are hashed row by row
//! when chained (each row is one SIMD call across the group's lanes: that is the parallelism
//! bound) and all at once when unchained; subtree nodes are hashed across all lanes and
//! positions of a level in one call either way.

use super::hash::{Digest32, Hasher};
use super::tree::Frontier;
use crate::trace::Chunk;
use std::ops::Range;

/// Reused buffers, so a worker allocates nothing per block in steady state.
#[derive(Default)]
pub struct Scratch {
    inputs: Vec<[u8; 64]>,
    out: Vec<u8>,
    /// Digests, flattened and lane-major: local lane `k`, row `r` at bytes
    /// `32 (k * rows + r)..`. Kept as bytes so each tree level is read directly as the next
    /// level's 64-byte inputs, with no copying between levels.
    leaves: Vec<u8>,
    next: Vec<u8>,
}

impl Scratch {
    /// The `i`-th digest of the current level.
    fn digest(&self, i: usize) -> Digest32 {
        let mut d = [0u8; 32];
        d.copy_from_slice(&self.leaves[32 * i..32 * i + 32]);
        d
    }
}

/// Hashes the leaves of `rows` full rows for `lanes` (a range of the `total` lanes) into
/// `s.leaves`, lane-major. With `links` (chained), `links[k]` is lane `k`'s previous leaf and
/// is advanced row by row.
pub fn hash_leaves(
    h: &Hasher,
    block: &[Chunk],
    total: usize,
    rows: usize,
    lanes: Range<usize>,
    links: Option<&mut [Digest32]>,
    s: &mut Scratch,
) {
    let nl = lanes.len();
    s.leaves.resize(32 * nl * rows, 0);
    match links {
        None => {
            s.inputs.clear();
            for k in 0..nl {
                for r in 0..rows {
                    let mut inp = [0u8; 64];
                    inp[..32].copy_from_slice(&block[r * total + lanes.start + k]);
                    s.inputs.push(inp);
                }
            }
            h.leaves(&s.inputs, &mut s.leaves);
        }
        Some(links) => {
            s.inputs.resize(nl, [0; 64]);
            s.out.resize(32 * nl, 0);
            for r in 0..rows {
                let row = &block[r * total + lanes.start..r * total + lanes.end];
                for ((inp, c), link) in s.inputs.iter_mut().zip(row).zip(links.iter()) {
                    inp[..32].copy_from_slice(c);
                    inp[32..].copy_from_slice(link);
                }
                h.leaves(&s.inputs, &mut s.out);
                for (k, (o, link)) in s.out.chunks_exact(32).zip(links.iter_mut()).enumerate() {
                    link.copy_from_slice(o);
                    s.leaves[32 * (k * rows + r)..32 * (k * rows + r + 1)].copy_from_slice(o);
                }
            }
        }
    }
}

/// Reduces `s.leaves` (`nl` lanes of `rows` leaves each, `rows` a power of two) to one subtree
/// root per lane, left in `s.leaves[..nl]`.
pub fn reduce_subtrees(h: &Hasher, nl: usize, rows: usize, s: &mut Scratch) {
    debug_assert!(rows.is_power_of_two());
    let mut width = rows;
    while width > 1 {
        // Sibling pairs are adjacent in the lane-major layout, so the level's inputs are the
        // level itself, read as 64-byte blocks.
        let (pairs, rest) = s.leaves.as_chunks::<64>();
        debug_assert!(rest.is_empty());
        s.next.resize(32 * pairs.len(), 0);
        h.nodes(pairs, &mut s.next);
        std::mem::swap(&mut s.leaves, &mut s.next);
        width /= 2;
    }
    debug_assert_eq!(s.leaves.len(), 32 * nl);
}

/// The state of a set of lanes: their links (chained) and frontiers. Owned by one worker.
pub struct LaneGroup {
    pub lanes: Range<usize>,
    total: usize,
    chained: bool,
    links: Vec<Digest32>,
    frontiers: Vec<Frontier>,
    scratch: Scratch,
}

impl LaneGroup {
    pub fn new(lanes: Range<usize>, total: usize, chained: bool) -> Self {
        LaneGroup {
            links: vec![[0; 32]; lanes.len()],
            frontiers: vec![Frontier::new(); lanes.len()],
            lanes,
            total,
            chained,
            scratch: Scratch::default(),
        }
    }

    /// Folds a block into the group's lanes. A full block (`rows * total` chunks) becomes one
    /// perfect subtree per lane; a shorter one (the trace's last) is pushed leaf by leaf.
    pub fn process(&mut self, h: &Hasher, block: &[Chunk], rows: usize) {
        let nl = self.lanes.len();
        if nl == 0 {
            return;
        }
        let links = self.chained.then_some(&mut self.links[..]);
        if block.len() == rows * self.total {
            hash_leaves(
                h,
                block,
                self.total,
                rows,
                self.lanes.clone(),
                links,
                &mut self.scratch,
            );
            reduce_subtrees(h, nl, rows, &mut self.scratch);
            let height = rows.trailing_zeros();
            for (k, f) in self.frontiers.iter_mut().enumerate() {
                f.push_subtree(h, height, self.scratch.digest(k));
            }
            return;
        }
        // The final, partial block: full rows, then the lanes the last row reaches.
        let full = block.len() / self.total;
        let rem = block.len() % self.total;
        for r in 0..=full {
            let end = if r < full {
                self.lanes.end
            } else {
                self.lanes.end.min(rem)
            };
            if end <= self.lanes.start {
                break;
            }
            let lanes = self.lanes.start..end;
            let row = &block[r * self.total..];
            let links = self.chained.then_some(&mut self.links[..lanes.len()]);
            hash_leaves(
                h,
                row,
                self.total,
                1,
                lanes.clone(),
                links,
                &mut self.scratch,
            );
            for (k, f) in self.frontiers[..lanes.len()].iter_mut().enumerate() {
                f.push(h, self.scratch.digest(k));
            }
        }
    }

    /// Pushes externally computed subtree roots (one per lane, unchained workers).
    pub fn push_roots(&mut self, h: &Hasher, height: u32, roots: &[Digest32]) {
        for (f, root) in self.frontiers.iter_mut().zip(roots) {
            f.push_subtree(h, height, *root);
        }
    }

    /// Lane roots of the group's non-empty lanes, in lane order.
    pub fn roots(&self, h: &Hasher) -> Vec<Digest32> {
        self.frontiers.iter().filter_map(|f| f.root(h)).collect()
    }

    pub fn frontier(&self, k: usize) -> &Frontier {
        &self.frontiers[k]
    }
}

/// Subtree roots of a full block for all lanes, unchained (stateless: any worker can take any
/// block).
pub fn unchained_block_roots(
    h: &Hasher,
    block: &[Chunk],
    total: usize,
    rows: usize,
    s: &mut Scratch,
) -> Vec<Digest32> {
    hash_leaves(h, block, total, rows, 0..total, None, s);
    reduce_subtrees(h, total, rows, s);
    (0..total).map(|k| s.digest(k)).collect()
}
