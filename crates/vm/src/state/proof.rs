//! Merkle proofs against the state commitment: one 32-byte leaf of the memory, page table or
//! input tree with its siblings from the leaf upward, what a one-step referee needs to check
//! the one word an instruction reads against the committed roots.
//!
//! Siblings are computed as sparsely as the roots: each sibling is the root of a subtree
//! disjoint from the others, folded from the non-zero nodes inside it (zero hashes elsewhere),
//! so a proof costs about what a root costs.

use super::{
    dense_root, fold_sparse, memory_nodes, node, nonzero_leaves, zero_hashes, Hash, INPUT_DEPTH,
    LEAF_BYTES, MEMORY_DEPTH, PAGE_DEPTH, PAGE_TABLE_DEPTH,
};
use crate::memory::PAGE_SIZE;
use crate::Vm;

/// Pages in the 2^32-byte address space: the page table's length in bytes.
const PAGES: u64 = 1 << 20;
/// Inputs longer than this have no tree (they are committed flat), so no proofs.
const MAX_TREE_INPUT: u64 = 1 << 32;

/// One leaf of a tree and the path that ties it to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafProof {
    /// The leaf's index: it covers bytes `[32 index, 32 index + 32)` of the tree's data.
    pub index: u64,
    /// The leaf: the raw 32 bytes.
    pub leaf: Hash,
    /// The sibling at each level from the leaf upward, as many as the tree is deep: at level
    /// `k` the path's node is the right child when bit `k` of `index` is set.
    pub siblings: Vec<Hash>,
}

/// The siblings of node `index` at level `level` of a tree of height `depth`, from `level`
/// upward, given the tree's non-zero nodes at `level` (ascending, as [`fold_sparse`] takes
/// them). The sibling at level `k` is the root of the subtree of height `k - level` next to
/// the path; each listed node falls in at most one of them.
pub(super) fn sparse_siblings(
    nodes: &[(u64, Hash)],
    level: usize,
    depth: usize,
    index: u64,
    z: &[Hash],
) -> Vec<Hash> {
    (level..depth)
        .map(|k| {
            let height = (k - level) as u32;
            let lo = ((index >> height) ^ 1) << height;
            let hi = lo + (1u64 << height);
            let from = nodes.partition_point(|&(i, _)| i < lo);
            let to = nodes.partition_point(|&(i, _)| i < hi);
            let inside = nodes
                .get(from..to)
                .unwrap_or_default()
                .iter()
                .map(|&(i, h)| (i - lo, h))
                .collect();
            fold_sparse(inside, level, k, z)
        })
        .collect()
}

/// The 32 bytes of `bytes` at leaf `index`, zero-padded past the end.
fn leaf_at(bytes: &[u8], index: u64) -> Hash {
    let mut leaf = [0u8; LEAF_BYTES];
    let start = usize::try_from(index.saturating_mul(LEAF_BYTES as u64)).unwrap_or(usize::MAX);
    for (d, s) in leaf.iter_mut().zip(bytes.iter().skip(start)) {
        *d = *s;
    }
    leaf
}

impl Vm {
    /// The memory leaf holding byte `addr` (leaf `addr / 32`: bytes `[addr & !31, +32)`, zero
    /// where the page is unmapped or not resident) and its 27 siblings: the first 7 inside
    /// the page, the rest above it. Costs about what the memory root does.
    pub fn memory_proof(&self, addr: u32) -> LeafProof {
        let z = zero_hashes();
        let index = u64::from(addr) / LEAF_BYTES as u64;
        let page = u64::from(addr) / PAGE_SIZE as u64;
        let in_page = index % (PAGE_SIZE / LEAF_BYTES) as u64;
        let data = usize::try_from(page)
            .ok()
            .and_then(|p| self.mem.resident_page(p));
        let leaves = data.map_or_else(Vec::new, |d| nonzero_leaves(d, 0));
        let pages = memory_nodes(&self.mem, &z).pages;
        let mut siblings = sparse_siblings(&leaves, 0, PAGE_DEPTH, in_page, &z);
        siblings.extend(sparse_siblings(&pages, PAGE_DEPTH, MEMORY_DEPTH, page, &z));
        LeafProof {
            index,
            leaf: data.map_or([0; LEAF_BYTES], |d| leaf_at(d, in_page)),
            siblings,
        }
    }

    /// The page table leaf holding page `page`'s byte (leaf `page / 32`, the byte at
    /// `page % 32`) and its 15 siblings; `None` for a page number past
    /// the address space (`page >= 2^20`).
    pub fn page_table_proof(&self, page: u32) -> Option<LeafProof> {
        if u64::from(page) >= PAGES {
            return None;
        }
        let z = zero_hashes();
        let index = u64::from(page) / LEAF_BYTES as u64;
        let table_leaves = memory_nodes(&self.mem, &z).table_leaves;
        let leaf = table_leaves
            .binary_search_by_key(&index, |&(i, _)| i)
            .ok()
            .and_then(|at| table_leaves.get(at))
            .map_or([0; LEAF_BYTES], |&(_, leaf)| leaf);
        Some(LeafProof {
            index,
            leaf,
            siblings: sparse_siblings(&table_leaves, 0, PAGE_TABLE_DEPTH, index, &z),
        })
    }

    /// The input leaf holding byte `offset` (leaf `offset / 32`, zero-padded past the input)
    /// and its 27 siblings: one pass over the input ([`InputTree`]). `None` for an offset past
    /// 2^32 or an input longer than 2^32 bytes (committed flat, with no tree).
    pub fn input_proof(&self, offset: u64) -> Option<LeafProof> {
        let z = zero_hashes();
        let tree = InputTree::new(&self.io.input, &z)?;
        tree.proof(&self.io.input, offset / LEAF_BYTES as u64, &z)
    }
}

/// The input tree above its 4 KiB chunks: `levels[k]` holds the nodes at level `PAGE_DEPTH + k`
/// that cover input bytes (the rest are zero hashes). Built in one pass over the input; a proof
/// then hashes one chunk's 128 leaves and looks up the rest, so a player answering many input
/// proofs of one job (a [`super::step::StepProver`]) keeps 1/64 of the input's size.
pub(crate) struct InputTree {
    levels: Vec<Vec<Hash>>,
}

impl InputTree {
    /// `None` for an input longer than 2^32 bytes, which has no tree.
    pub(crate) fn new(input: &[u8], z: &[Hash]) -> Option<InputTree> {
        if input.len() as u64 > MAX_TREE_INPUT {
            return None;
        }
        let chunk = PAGE_SIZE;
        let mut level: Vec<Hash> = input
            .chunks(chunk)
            .map(|c| dense_root(c, PAGE_DEPTH, z))
            .collect();
        let mut levels = Vec::with_capacity(INPUT_DEPTH - PAGE_DEPTH + 1);
        for k in PAGE_DEPTH..INPUT_DEPTH {
            let zero = z.get(k).copied().unwrap_or([0; LEAF_BYTES]);
            let up = level
                .chunks(2)
                .map(|p| node(&p[0], p.get(1).unwrap_or(&zero)))
                .collect();
            levels.push(std::mem::replace(&mut level, up));
        }
        levels.push(level);
        Some(InputTree { levels })
    }

    /// Leaf `index` of `input` (the bytes this tree was built from) and its siblings; `None`
    /// past 2^32 bytes.
    pub(crate) fn proof(&self, input: &[u8], index: u64, z: &[Hash]) -> Option<LeafProof> {
        if index >= MAX_TREE_INPUT / LEAF_BYTES as u64 {
            return None;
        }
        let per_chunk = (PAGE_SIZE / LEAF_BYTES) as u64;
        let (chunk, in_chunk) = (index / per_chunk, index % per_chunk);
        let at = |leaf: u64| {
            usize::try_from(leaf.saturating_mul(LEAF_BYTES as u64))
                .unwrap_or(usize::MAX)
                .min(input.len())
        };
        let bytes = input
            .get(at(chunk * per_chunk)..at((chunk + 1) * per_chunk))
            .unwrap_or_default();
        // The last chunk may end inside a leaf: pad it, as the tree pads the input.
        let mut padded = [0u8; PAGE_SIZE];
        if let Some(d) = padded.get_mut(..bytes.len()) {
            d.copy_from_slice(bytes);
        }
        let leaves = nonzero_leaves(&padded, 0);
        let mut siblings = sparse_siblings(&leaves, 0, PAGE_DEPTH, in_chunk, z);
        siblings.extend(
            self.levels
                .iter()
                .take(INPUT_DEPTH - PAGE_DEPTH)
                .enumerate()
                .map(|(k, nodes)| {
                    let want = (chunk >> k) ^ 1;
                    usize::try_from(want)
                        .ok()
                        .and_then(|i| nodes.get(i))
                        .copied()
                        .unwrap_or(z[PAGE_DEPTH + k])
                }),
        );
        Some(LeafProof {
            index,
            leaf: leaf_at(input, index),
            siblings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn climb(proof: &LeafProof) -> Hash {
        proof
            .siblings
            .iter()
            .enumerate()
            .fold(proof.leaf, |h, (k, s)| {
                if proof.index >> k & 1 == 1 {
                    node(s, &h)
                } else {
                    node(&h, s)
                }
            })
    }

    #[test]
    fn state_sparse_siblings_climb_to_the_sparse_root() {
        let z = zero_hashes();
        let nodes: Vec<(u64, Hash)> = [0u64, 1, 5, 6, 77, 1 << 14, (1 << 15) - 1]
            .iter()
            .map(|&i| (i, [i as u8 ^ 0x5a; 32]))
            .collect();
        let root = fold_sparse(nodes.clone(), 0, 15, &z);
        for index in [0u64, 1, 2, 5, 6, 7, 77, 78, 1 << 14, (1 << 15) - 1, 12345] {
            let leaf = nodes
                .iter()
                .find(|&&(i, _)| i == index)
                .map_or([0; 32], |&(_, h)| h);
            let siblings = sparse_siblings(&nodes, 0, 15, index, &z);
            let proof = LeafProof {
                index,
                leaf,
                siblings,
            };
            assert_eq!(climb(&proof), root, "index {index}");
        }
    }
}
