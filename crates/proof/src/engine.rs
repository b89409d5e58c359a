//! The hashing kernels every mode shares: the leaves of a block for a range of lanes, and
//! perfect per-lane subtrees reduced level by level.
//!
//! A *block* is `rows x lanes` consecutive chunks (rows a power of two), aligned in the trace,
//! so each lane gets a perfect, aligned subtree of `rows` leaves.
//!
//! - Unchained leaves are hashed in L1-sized batches and stored lane-major (local lane `k`,
//!   row `r` at bytes `32 (k * rows + r)..`), so each tree level is read in place as the next
//!   level's 64-byte inputs.
//! - Chained leaves are hashed row by row, one SIMD call across the group's lanes per row:
//!   that is the parallelism bound. They are stored row-major (`32 (r * lanes + k)..`), each
//!   call's output written in place, because this loop is the proof's critical path: a
//!   lane-major scatter would write `lanes` streams a power of two apart, which collide in the
//!   same L1 sets. The first node level gathers the sibling pairs back into lane-major order,
//!   off the critical path.

use super::hash::{Digest32, Hasher};
use poie_trace::Chunk;
use std::ops::Range;

/// Unchained leaf inputs built per hash call: 256 x 64 bytes = 16 KiB, so the inputs stay in
/// L1 while the block streams through.
const UNCHAINED_BATCH: usize = 256;

/// How many rows ahead the chained loop prefetches its chunks: the next rows are usually in
/// another core's cache (the worker that filled the block), and a chain's row cannot start
/// before its chunks arrive, so without a prefetch every row waits for a cross-core transfer.
/// Two rows of hashing (about half a microsecond) cover that latency.
const PREFETCH_ROWS: usize = 2;

/// Asks the CPU to bring `chunks` into this core's L1; a hint, with no effect on results.
#[inline]
fn prefetch(chunks: &[Chunk]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = chunks.as_flattened();
        let lines = bytes.iter().step_by(64).chain(bytes.last());
        for b in lines {
            // SAFETY: a prefetch never faults and changes no memory; `b` is a valid reference.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(b).cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = chunks;
}

/// Reused buffers, so a worker allocates nothing per block in steady state.
#[derive(Default)]
pub struct Scratch {
    /// Unchained inputs: only the first halves are ever written, so the links stay zero.
    zero_linked: Vec<[u8; 64]>,
    /// Chained inputs of one row.
    row: Vec<[u8; 64]>,
    /// Sibling pairs gathered for the first node level of row-major leaves.
    gather: Vec<[u8; 64]>,
    /// The other half of the level ping-pong in [`reduce_subtrees`].
    next: Vec<u8>,
}

/// Hashes the leaves of `rows` full rows of `block` (whose rows are `total` lanes wide) for
/// `lanes` into `leaves` (resized to `32 * lanes.len() * rows` bytes): lane-major unchained,
/// row-major with `links` (chained), where `links[k]` is local lane `k`'s previous leaf and
/// is advanced to the block's last leaves.
#[allow(clippy::too_many_arguments)]
pub fn hash_leaves(
    h: &Hasher,
    block: &[Chunk],
    total: usize,
    rows: usize,
    lanes: Range<usize>,
    links: Option<&mut [Digest32]>,
    leaves: &mut Vec<u8>,
    s: &mut Scratch,
) {
    let nl = lanes.len();
    leaves.resize(32 * nl * rows, 0);
    match links {
        None => {
            s.zero_linked.resize(UNCHAINED_BATCH, [0; 64]);
            if total == 1 {
                // One lane: its chunks are contiguous, so the gather is a plain copy (the
                // general loop below costs some 16 instructions per chunk, 5% of the proof).
                let pieces = block[..rows].chunks(UNCHAINED_BATCH);
                for (piece, out) in pieces.zip(leaves.chunks_mut(32 * UNCHAINED_BATCH)) {
                    let inputs = &mut s.zero_linked[..piece.len()];
                    for (inp, c) in inputs.iter_mut().zip(piece) {
                        inp[..32].copy_from_slice(c);
                    }
                    h.leaves(inputs, out);
                }
                return;
            }
            let count = nl * rows;
            let mut first = 0;
            // Input `first + j` is lane `k`, row `r`; stepped, not divided, because a division
            // per chunk costs as much as the copy.
            let (mut k, mut r) = (0, 0);
            while first < count {
                let m = (count - first).min(UNCHAINED_BATCH);
                for inp in &mut s.zero_linked[..m] {
                    inp[..32].copy_from_slice(&block[r * total + lanes.start + k]);
                    r += 1;
                    if r == rows {
                        (k, r) = (k + 1, 0);
                    }
                }
                h.leaves(
                    &s.zero_linked[..m],
                    &mut leaves[32 * first..32 * (first + m)],
                );
                first += m;
            }
        }
        Some(links) => {
            s.row.resize(nl, [0; 64]);
            let row_bytes = 32 * nl;
            for r in 0..PREFETCH_ROWS.min(rows) {
                prefetch(&block[r * total + lanes.start..r * total + lanes.end]);
            }
            for r in 0..rows {
                let chunks = &block[r * total + lanes.start..r * total + lanes.end];
                let ahead = (r + PREFETCH_ROWS) * total;
                if let Some(next) = block.get(ahead + lanes.start..ahead + lanes.end) {
                    prefetch(next);
                }
                // The links of row r are the leaves of row r - 1 (the block's first row: the
                // previous block's last leaves).
                let (done, rest) = leaves.split_at_mut(row_bytes * r);
                let prev = done
                    .get(row_bytes * r.saturating_sub(1)..)
                    .filter(|_| r > 0);
                for (k, (inp, c)) in s.row.iter_mut().zip(chunks).enumerate() {
                    inp[..32].copy_from_slice(c);
                    match prev {
                        Some(p) => inp[32..].copy_from_slice(&p[32 * k..32 * k + 32]),
                        None => inp[32..].copy_from_slice(&links[k]),
                    }
                }
                h.leaves(&s.row, &mut rest[..row_bytes]);
            }
            if rows > 0 {
                let last = &leaves[row_bytes * (rows - 1)..row_bytes * rows];
                for (link, d) in links.iter_mut().zip(last.chunks_exact(32)) {
                    link.copy_from_slice(d);
                }
            }
        }
    }
}

/// Reduces `leaves` (`nl` lanes of `rows` digests each, lane-major, `rows` a power of two) to
/// one subtree root per lane, written to `roots` (`32 * nl` bytes, lane order). `leaves` is
/// used as working space.
pub fn reduce_subtrees(
    h: &Hasher,
    leaves: &mut Vec<u8>,
    nl: usize,
    rows: usize,
    roots: &mut Vec<u8>,
    s: &mut Scratch,
) {
    debug_assert!(leaves.len() >= 32 * nl * rows);
    s.next.resize(16 * nl * rows, 0);
    reduce_lane_major(h, leaves, &mut s.next, nl, rows, roots);
}

/// As [`reduce_subtrees`] for row-major leaves (chained): the first level gathers each lane's
/// sibling pairs in L1-sized batches, writing lane-major, and the rest is read in place.
pub fn reduce_rows(
    h: &Hasher,
    leaves: &mut Vec<u8>,
    nl: usize,
    rows: usize,
    roots: &mut Vec<u8>,
    s: &mut Scratch,
) {
    debug_assert!(leaves.len() >= 32 * nl * rows);
    if rows == 1 {
        roots.clear();
        roots.extend_from_slice(&leaves[..32 * nl]);
        return;
    }
    let half = rows / 2;
    let count = nl * half;
    s.next.resize(32 * count, 0);
    s.gather.resize(UNCHAINED_BATCH, [0; 64]);
    let mut first = 0;
    // Pair `first + j` is lane `k`, pair `i` (stepped, as in `hash_leaves`).
    let (mut k, mut i) = (0, 0);
    while first < count {
        let m = (count - first).min(UNCHAINED_BATCH);
        for inp in &mut s.gather[..m] {
            let left = 32 * (2 * i * nl + k);
            i += 1;
            if i == half {
                (k, i) = (k + 1, 0);
            }
            let right = left + 32 * nl;
            inp[..32].copy_from_slice(&leaves[left..left + 32]);
            inp[32..].copy_from_slice(&leaves[right..right + 32]);
        }
        h.nodes(&s.gather[..m], &mut s.next[32 * first..32 * (first + m)]);
        first += m;
    }
    reduce_lane_major(h, &mut s.next, leaves, nl, half, roots);
}

/// Level by level from `a` (`nl` lanes of `width` digests, lane-major), ping-ponging with `b`
/// by reference; sibling pairs are adjacent, so a level's inputs are the level itself.
fn reduce_lane_major(
    h: &Hasher,
    a: &mut Vec<u8>,
    b: &mut Vec<u8>,
    nl: usize,
    width: usize,
    roots: &mut Vec<u8>,
) {
    debug_assert!(width.is_power_of_two());
    let (mut src, mut dst) = (a, b);
    let mut width = width;
    while width > 1 {
        let level = 32 * nl * width;
        if dst.len() < level / 2 {
            dst.resize(level / 2, 0);
        }
        let (pairs, _) = src[..level].as_chunks::<64>();
        h.nodes(pairs, &mut dst[..level / 2]);
        std::mem::swap(&mut src, &mut dst);
        width /= 2;
    }
    roots.clear();
    roots.extend_from_slice(&src[..32 * nl]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Simd;
    use crate::hash::HashId;
    use crate::tree::root_of;

    fn chunk(i: usize) -> Chunk {
        *blake3::hash(&i.to_le_bytes()).as_bytes()
    }

    #[test]
    fn block_kernels_match_leaf_by_leaf_hashing() {
        let h = Hasher::new(HashId::Blake3, [3; 32], Simd::Portable).expect("portable");
        let mut s = Scratch::default();
        // A lane range inside a wider block, and one lane (its own path: contiguous chunks)
        // over several unchained batches and within one.
        let shapes = [
            (5usize, 8usize, 1..4),
            (1, 4 * UNCHAINED_BATCH, 0..1),
            (1, 8, 0..1),
        ];
        for ((total, rows, lanes), chained) in shapes
            .into_iter()
            .flat_map(|shape| [false, true].map(|c| (shape.clone(), c)))
        {
            let block: Vec<Chunk> = (0..total * rows).map(chunk).collect();
            let mut links = vec![[9u8; 32]; lanes.len()];
            let start_links = links.clone();
            let mut leaves = Vec::new();
            let l = chained.then_some(&mut links[..]);
            hash_leaves(
                &h,
                &block,
                total,
                rows,
                lanes.clone(),
                l,
                &mut leaves,
                &mut s,
            );
            let mut roots = Vec::new();
            if chained {
                reduce_rows(&h, &mut leaves, lanes.len(), rows, &mut roots, &mut s);
            } else {
                reduce_subtrees(&h, &mut leaves, lanes.len(), rows, &mut roots, &mut s);
            }
            for (k, lane) in lanes.clone().enumerate() {
                let mut link = if chained { start_links[k] } else { [0; 32] };
                let mut expect = Vec::new();
                for r in 0..rows {
                    let leaf = h.leaf(&block[r * total + lane], &link);
                    if chained {
                        link = leaf;
                    }
                    expect.push(leaf);
                }
                let root = root_of(&h, &expect).expect("non-empty");
                assert_eq!(&roots[32 * k..32 * k + 32], &root[..], "lane {lane}");
                if chained {
                    assert_eq!(links[k], link);
                }
            }
        }
    }
}
