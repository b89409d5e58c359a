//! RFC 6962 Merkle trees: the shape (split at the largest power of two below n), a streaming
//! frontier that builds the root in O(log n) memory, audit paths and their verification.

use super::hash::{Digest32, Hasher};

/// The largest power of two strictly below `n` (n >= 2): where RFC 6962 splits `n` leaves.
/// Total on every input (1 for `n < 2`), so no input can make it panic; callers that take
/// ranges from a peer go through [`split`], which refuses them instead.
pub fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n.max(2) - 1).leading_zeros())
}

/// Where the range of leaves `[lo, hi)` splits: `lo + split_point(hi - lo)`. `None` for a range
/// of fewer than two leaves (a reversed range included), so any pair of numbers is safe here.
pub fn split(lo: u64, hi: u64) -> Option<u64> {
    let n = hi.checked_sub(lo).filter(|&n| n >= 2)?;
    // lo + split_point(n) < lo + n = hi: no overflow.
    lo.checked_add(split_point(n))
}

/// The RFC 6962 Merkle tree hash of the leaves `[lo, hi)`, by the recursive definition: the one
/// statement of the tree's shape that every whole-tree computation (the reference, [`root_of`],
/// the challenge game's nodes) calls. `leaf(i)` is leaf `i`, `node` joins two subtrees. `None`
/// for an empty range, or when `leaf` has no leaf `i`. Recursion depth is at most 64.
pub fn mth(
    lo: u64,
    hi: u64,
    leaf: &impl Fn(u64) -> Option<Digest32>,
    node: &impl Fn(&Digest32, &Digest32) -> Digest32,
) -> Option<Digest32> {
    match split(lo, hi) {
        Some(mid) => {
            let l = mth(lo, mid, leaf, node)?;
            let r = mth(mid, hi, leaf, node)?;
            Some(node(&l, &r))
        }
        None if hi.checked_sub(lo) == Some(1) => leaf(lo),
        None => None,
    }
}

/// Builds a tree's root from its leaves in order. Perfect subtrees can be pushed whole when the
/// count is a multiple of their size, which is how the pipeline pushes blocks.
///
/// `pending[h]` holds the root of a complete subtree of `2^h` leaves when bit `h` of `count` is
/// set: the binary decomposition of `count`.
#[derive(Clone, Debug, Default)]
pub struct Frontier {
    pending: Vec<Digest32>,
    count: u64,
}

impl Frontier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Leaves pushed so far.
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Pushes the root of a perfect subtree of `2^height` leaves. The current count must be a
    /// multiple of `2^height` (blocks are aligned).
    pub fn push_subtree(&mut self, h: &Hasher, height: u32, root: Digest32) {
        assert!(
            self.count.trailing_zeros() >= height,
            "unaligned subtree push"
        );
        let mut carry = root;
        let mut level = height as usize;
        if self.pending.len() <= level {
            self.pending.resize(level + 1, [0; 32]);
        }
        while self.count >> level & 1 == 1 {
            carry = h.node(&self.pending[level], &carry);
            level += 1;
            if self.pending.len() <= level {
                self.pending.resize(level + 1, [0; 32]);
            }
        }
        self.pending[level] = carry;
        self.count += 1 << height;
    }

    pub fn push(&mut self, h: &Hasher, leaf: Digest32) {
        self.push_subtree(h, 0, leaf);
    }

    /// The root of the leaves pushed so far: pending subtrees folded from the smallest up,
    /// which is exactly the RFC 6962 shape. `None` for no leaves.
    pub fn root(&self, h: &Hasher) -> Option<Digest32> {
        let mut acc: Option<Digest32> = None;
        for level in 0..self.pending.len() {
            if self.count >> level & 1 == 1 {
                let sub = &self.pending[level];
                acc = Some(match acc {
                    None => *sub,
                    Some(right) => h.node(sub, &right),
                });
            }
        }
        acc
    }
}

/// The frontiers of many lanes that always hold the same number of leaves, as they do while
/// the pipeline folds full blocks: every lane then merges at the same levels, so each level's
/// merges for all lanes are one batched node call instead of one scalar call per lane.
#[derive(Clone, Debug, Default)]
pub struct LaneFrontiers {
    lanes: usize,
    count: u64,
    /// `pending[h]`: `32 * lanes` bytes, lane order; meaningful where bit `h` of `count` is set.
    pending: Vec<Vec<u8>>,
    carry: Vec<u8>,
    inputs: Vec<[u8; 64]>,
    out: Vec<u8>,
}

impl LaneFrontiers {
    pub fn new(lanes: usize) -> Self {
        LaneFrontiers {
            lanes,
            ..Self::default()
        }
    }

    /// Leaves each lane holds.
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Pushes one perfect subtree of `2^height` leaves per lane (`roots`: `32 * lanes` bytes,
    /// lane order). The count must be a multiple of `2^height` (blocks are aligned).
    pub fn push_subtrees(&mut self, h: &Hasher, height: u32, roots: &[u8]) {
        assert!(
            self.count.trailing_zeros() >= height,
            "unaligned subtree push"
        );
        let bytes = 32 * self.lanes;
        assert_eq!(roots.len(), bytes, "one root per lane");
        self.carry.clear();
        self.carry.extend_from_slice(roots);
        let mut level = height as usize;
        while self.count >> level & 1 == 1 {
            self.inputs.resize(self.lanes, [0; 64]);
            for ((inp, left), right) in self
                .inputs
                .iter_mut()
                .zip(self.pending[level].chunks_exact(32))
                .zip(self.carry.chunks_exact(32))
            {
                inp[..32].copy_from_slice(left);
                inp[32..].copy_from_slice(right);
            }
            self.out.resize(bytes, 0);
            h.nodes(&self.inputs, &mut self.out);
            std::mem::swap(&mut self.carry, &mut self.out);
            level += 1;
        }
        if self.pending.len() <= level {
            self.pending.resize(level + 1, Vec::new());
        }
        std::mem::swap(&mut self.pending[level], &mut self.carry);
        self.count += 1 << height;
    }

    /// One ordinary [`Frontier`] per lane, to go on leaf by leaf.
    pub fn into_frontiers(self) -> Vec<Frontier> {
        (0..self.lanes)
            .map(|k| Frontier {
                pending: self
                    .pending
                    .iter()
                    .map(|level| {
                        let mut d = [0u8; 32];
                        if let Some(bytes) = level.get(32 * k..32 * k + 32) {
                            d.copy_from_slice(bytes);
                        }
                        d
                    })
                    .collect(),
                count: self.count,
            })
            .collect()
    }
}

/// Root of `leaves` by the recursive definition (reference for tests and small trees).
pub fn root_of(h: &Hasher, leaves: &[Digest32]) -> Option<Digest32> {
    mth(
        0,
        leaves.len() as u64,
        &|i| usize::try_from(i).ok().and_then(|i| leaves.get(i)).copied(),
        &|l, r| h.node(l, r),
    )
}

/// The leaf ranges whose subtree roots form the audit path of leaf `m` in a tree of `n` leaves,
/// listed from the leaf upwards. Each range is a complete RFC 6962 subtree.
pub fn path_ranges(m: u64, n: u64) -> Vec<(u64, u64)> {
    assert!(m < n);
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0u64, n);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if m - lo < k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
        }
    }
    out.reverse();
    out
}

/// Audit path of leaf `m` from all leaves in memory.
pub fn audit_path(h: &Hasher, leaves: &[Digest32], m: u64) -> Vec<Digest32> {
    path_ranges(m, leaves.len() as u64)
        .into_iter()
        .filter_map(|(a, b)| root_of(h, &leaves[a as usize..b as usize]))
        .collect()
}

/// Recomputes the root from leaf `m` of `n` and its audit path (RFC 9162, 2.1.3.2).
/// `None` if the path has the wrong length for `(m, n)`.
pub fn root_from_path(
    h: &Hasher,
    leaf: &Digest32,
    m: u64,
    n: u64,
    path: &[Digest32],
) -> Option<Digest32> {
    if m >= n {
        return None;
    }
    let (mut fnode, mut snode) = (m, n - 1);
    let mut r = *leaf;
    for p in path {
        if snode == 0 {
            return None;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = h.node(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = h.node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    (snode == 0).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Simd;
    use crate::hash::HashId;

    fn hasher() -> Hasher {
        Hasher::new(HashId::Blake3, [5; 32], Simd::Portable).expect("portable")
    }

    fn leaves(n: usize) -> Vec<Digest32> {
        (0..n)
            .map(|i| *blake3::hash(&i.to_le_bytes()).as_bytes())
            .collect()
    }

    #[test]
    fn split_refuses_ranges_of_fewer_than_two_leaves_and_never_overflows() {
        assert_eq!(split(0, 2), Some(1));
        assert_eq!(split(0, 3), Some(2));
        assert_eq!(split(5, 13), Some(9));
        assert_eq!(split(0, u64::MAX), Some(1 << 63));
        assert_eq!(split(u64::MAX - 2, u64::MAX), Some(u64::MAX - 1));
        for (lo, hi) in [(0, 0), (0, 1), (7, 7), (7, 8), (8, 7), (u64::MAX, 0)] {
            assert_eq!(split(lo, hi), None, "[{lo}, {hi})");
        }
        let h = hasher();
        let leaf = |i: u64| (i < 10).then_some([i as u8; 32]);
        let node = |l: &Digest32, r: &Digest32| h.node(l, r);
        assert_eq!(mth(3, 3, &leaf, &node), None, "empty");
        assert_eq!(mth(4, 3, &leaf, &node), None, "reversed");
        assert_eq!(mth(3, 4, &leaf, &node), Some([3; 32]), "one leaf");
        assert_eq!(mth(8, 12, &leaf, &node), None, "a leaf missing");
    }

    /// The shape, pinned independently of `mth`: 5 leaves are ((0 1) (2 3)) 4.
    #[test]
    fn mth_has_the_rfc_6962_shape() {
        let h = hasher();
        let ls = leaves(5);
        let n = |a: &Digest32, b: &Digest32| h.node(a, b);
        let expected = n(&n(&n(&ls[0], &ls[1]), &n(&ls[2], &ls[3])), &ls[4]);
        assert_eq!(root_of(&h, &ls), Some(expected));
    }

    #[test]
    fn frontier_matches_recursive_definition() {
        let h = hasher();
        for n in 0..70 {
            let ls = leaves(n);
            let mut f = Frontier::new();
            ls.iter().for_each(|l| f.push(&h, *l));
            assert_eq!(f.root(&h), root_of(&h, &ls), "n={n}");
        }
    }

    #[test]
    fn subtree_pushes_equal_leaf_pushes() {
        let h = hasher();
        let ls = leaves(8 * 5 + 3);
        let mut f = Frontier::new();
        for block in ls[..40].chunks(8) {
            f.push_subtree(&h, 3, root_of(&h, block).expect("non-empty"));
        }
        ls[40..].iter().for_each(|l| f.push(&h, *l));
        assert_eq!(f.root(&h), root_of(&h, &ls));
    }

    #[test]
    fn lane_frontiers_equal_one_frontier_per_lane() {
        let h = hasher();
        let lanes = 3;
        let per_lane: Vec<Vec<Digest32>> = (0..lanes)
            .map(|k| leaves(4 * 11 + k + 2).split_off(k))
            .collect();
        let mut batched = LaneFrontiers::new(lanes);
        for b in 0..11 {
            let roots: Vec<u8> = per_lane
                .iter()
                .flat_map(|ls| root_of(&h, &ls[4 * b..4 * b + 4]).expect("non-empty"))
                .collect();
            batched.push_subtrees(&h, 2, &roots);
        }
        assert_eq!(batched.len(), 44);
        for (k, mut f) in batched.into_frontiers().into_iter().enumerate() {
            per_lane[k][44..].iter().for_each(|l| f.push(&h, *l));
            assert_eq!(f.root(&h), root_of(&h, &per_lane[k]), "lane {k}");
        }
    }

    #[test]
    fn audit_paths_verify_and_reject() {
        let h = hasher();
        for n in 1..40u64 {
            let ls = leaves(n as usize);
            let root = root_of(&h, &ls).expect("non-empty");
            for m in 0..n {
                let path = audit_path(&h, &ls, m);
                assert_eq!(root_from_path(&h, &ls[m as usize], m, n, &path), Some(root));
                if n > 1 {
                    let other = (m + 1) % n;
                    assert_ne!(
                        root_from_path(&h, &ls[m as usize], other, n, &path),
                        Some(root)
                    );
                    let mut bad = path.clone();
                    bad[0][0] ^= 1;
                    assert_ne!(root_from_path(&h, &ls[m as usize], m, n, &bad), Some(root));
                    assert_eq!(root_from_path(&h, &ls[m as usize], m, n, &path[1..]), None);
                }
            }
        }
    }
}
