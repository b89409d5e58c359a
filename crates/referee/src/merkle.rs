//! The three trees of SPEC 1.6: binary, of fixed depth, leaves the raw 32 bytes of their slice
//! (not hashed), inner nodes `keccak256(left || right)` with no prefix. A path is always
//! checked to the tree's full depth, so a leaf cannot pass for an inner node.

use sha3::{Digest, Keccak256};

/// A keccak256 digest, a leaf or a node.
pub type Hash = [u8; 32];

/// Bytes per leaf: leaf `i` covers bytes `[32 i, 32 i + 32)`.
pub const LEAF_BYTES: u64 = 32;
/// Depth of the memory tree: 2^27 leaves of 32 bytes, the whole 2^32-byte address space.
pub const MEMORY_DEPTH: usize = 27;
/// Depth of the page table tree: 2^20 pages, one byte each, 32 a leaf.
pub const PAGE_TABLE_DEPTH: usize = 15;
/// Depth of the input tree: the input zero-padded to 2^32 bytes.
pub const INPUT_DEPTH: usize = 27;
/// The deepest of the three trees.
const MAX_DEPTH: usize = 27;

/// An inner node: `keccak256(left || right)`, 64 bytes hashed, no prefix.
pub fn node(left: &Hash, right: &Hash) -> Hash {
    let mut h = Keccak256::new();
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `Z[0..=27]`: `Z[0]` is 32 zero bytes, `Z[k + 1] = node(Z[k], Z[k])`, so `Z[k]` is the root
/// of an all-zero subtree of height `k`.
pub fn zero_hashes() -> [Hash; MAX_DEPTH + 1] {
    let mut z = [[0u8; 32]; MAX_DEPTH + 1];
    let mut prev = [0u8; 32];
    for slot in z.iter_mut().skip(1) {
        prev = node(&prev, &prev);
        *slot = prev;
    }
    z
}

/// Whether `leaf` is leaf `index` of the tree of depth `depth` with root `root`, given its
/// `siblings` from the leaf upward: at level `k` (0 the leaves) the running hash is the right
/// child when bit `k` of `index` is set (`node(siblings[k], h)`), the left one otherwise
/// (`node(h, siblings[k])`).
///
/// Rejects a sibling list that is not exactly `depth` long and an index that does not fit
/// `depth` bits.
pub fn verify_leaf(root: &Hash, depth: usize, index: u64, leaf: &Hash, siblings: &[Hash]) -> bool {
    if siblings.len() != depth {
        return false;
    }
    // Every bit of the index must be used by a level: `index < 2^depth`.
    let fits = u32::try_from(depth)
        .ok()
        .and_then(|d| index.checked_shr(d))
        .is_none_or(|high| high == 0);
    if !fits {
        return false;
    }
    let mut h = *leaf;
    for (k, sibling) in siblings.iter().enumerate() {
        let right = index.checked_shr(k as u32).unwrap_or(0) & 1 == 1;
        h = if right {
            node(sibling, &h)
        } else {
            node(&h, sibling)
        };
    }
    h == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn zero_hashes_start_as_ethereum_knows_them() {
        let z = zero_hashes();
        assert_eq!(z[0], [0; 32]);
        // keccak256 of 64 zero bytes.
        assert_eq!(
            hex(&z[1]),
            "ad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5"
        );
        for k in 0..MAX_DEPTH {
            assert_eq!(z[k + 1], node(&z[k], &z[k]));
        }
    }

    #[test]
    fn verify_leaf_takes_the_side_from_the_index_bit() {
        // A tree of depth 2 over leaves a, b, c, d.
        let l: Vec<Hash> = (1..=4u8).map(|i| [i; 32]).collect();
        let (ab, cd) = (node(&l[0], &l[1]), node(&l[2], &l[3]));
        let root = node(&ab, &cd);
        assert!(verify_leaf(&root, 2, 0, &l[0], &[l[1], cd]));
        assert!(verify_leaf(&root, 2, 1, &l[1], &[l[0], cd]));
        assert!(verify_leaf(&root, 2, 2, &l[2], &[l[3], ab]));
        assert!(verify_leaf(&root, 2, 3, &l[3], &[l[2], ab]));
        assert!(!verify_leaf(&root, 2, 1, &l[0], &[l[1], cd]), "wrong side");
        assert!(
            !verify_leaf(&root, 2, 4, &l[0], &[l[1], cd]),
            "index too wide"
        );
        assert!(!verify_leaf(&root, 2, 0, &l[0], &[l[1]]), "short");
        assert!(!verify_leaf(&root, 2, 0, &l[0], &[l[1], cd, cd]), "long");
        // An inner node is no leaf: the path must run the tree's whole depth.
        assert!(!verify_leaf(&root, 2, 0, &ab, &[cd]));
        assert!(!verify_leaf(&root, 2, 0, &ab, &[cd, cd]));
        assert!(verify_leaf(&root, 0, 0, &root, &[]));
        assert!(!verify_leaf(&root, 0, 1, &root, &[]));
        assert!(!verify_leaf(&root, 70, 0, &root, &[]));
    }
}
