//! Opening one 32-byte leaf of a decoded header's trees: the leaf index from what it covers,
//! the tree's depth, and [`verify_leaf`] against the header's root.

use crate::header::Header;
use crate::merkle::{verify_leaf, Hash, INPUT_DEPTH, LEAF_BYTES, MEMORY_DEPTH, PAGE_TABLE_DEPTH};

/// Bytes per page.
const PAGE_SIZE: u64 = 4096;
/// Inputs longer than this are committed flat, not as a tree (SPEC 1.6), and have no proofs.
const MAX_TREE_INPUT: u64 = 1 << 32;

impl Header {
    /// Whether `leaf` is memory bytes `[a, a + 32)`, `a = addr & !31`, in this state.
    pub fn verify_memory(&self, addr: u32, leaf: &Hash, siblings: &[Hash]) -> bool {
        let index = u64::from(addr) / LEAF_BYTES;
        verify_leaf(&self.memory_root, MEMORY_DEPTH, index, leaf, siblings)
    }

    /// Whether `leaf` is the page table leaf holding page `page`'s byte (at `leaf[page % 32]`).
    pub fn verify_page_table(&self, page: u32, leaf: &Hash, siblings: &[Hash]) -> bool {
        let index = u64::from(page) / LEAF_BYTES;
        u64::from(page) < (1 << 32) / PAGE_SIZE
            && verify_leaf(
                &self.page_table_root,
                PAGE_TABLE_DEPTH,
                index,
                leaf,
                siblings,
            )
    }

    /// Whether `leaf` is input bytes `[a, a + 32)`, `a = offset & !31`, zero-padded. Always
    /// false for an input committed flat (longer than 2^32 bytes) or an offset past 2^32.
    pub fn verify_input(&self, offset: u64, leaf: &Hash, siblings: &[Hash]) -> bool {
        self.input_len <= MAX_TREE_INPUT
            && offset < MAX_TREE_INPUT
            && verify_leaf(
                &self.input_root,
                INPUT_DEPTH,
                offset / LEAF_BYTES,
                leaf,
                siblings,
            )
    }
}
