//! The state commitment: one keccak256 digest of everything that decides a guest's next trace
//! chunk and its next state, the first piece of a one-step referee (as in Optimism's Cannon and
//! Asterisc). Every byte is fixed here so that a Solidity contract can recompute the digest,
//! and open one word of memory, one page's permissions or one word of input against it with a
//! fixed-length Merkle path.
//!
//! - Memory is a binary Merkle tree of depth [`MEMORY_DEPTH`] whose leaves are the raw 32-byte
//!   slices of the whole 2^32-byte address space (unmapped and non-resident bytes read as zero).
//!   Most of that space is zero, so every all-zero subtree is the precomputed zero hash of its
//!   level ([`zero_hashes`]), and only the non-zero leaves of resident pages are hashed.
//! - Page permissions and residency form a second tree of the same kind over a table of one
//!   byte per page ([`page_table_byte`]), depth [`PAGE_TABLE_DEPTH`].
//! - The input is a third such tree over its bytes, zero-padded, depth [`INPUT_DEPTH`].
//! - Everything else is a fixed-width header of big-endian integers ([`StateCommitment::encode`]),
//!   big-endian so that Solidity's `abi.encodePacked` produces it as it is.
//! - One leaf of any of the trees is proven with its siblings from the leaf upward
//!   ([`proof::LeafProof`]: `Vm::memory_proof`, `Vm::page_table_proof`, `Vm::input_proof`).
//!
//! Nodes are `keccak256(left || right)` with no prefix: every tree has a fixed depth and a
//! path is always checked to that depth, so a leaf cannot pass for a node or the reverse.

/// Merkle proofs of one leaf of each tree ([`proof::LeafProof`]).
pub mod proof;
/// The raw parts of a one-step proof ([`step::StepProofParts`], `Vm::step_proof`).
pub mod step;

use crate::memory::{Memory, EXEC, MAPPED, PAGE_SIZE, WRITE};
use crate::snapshot::{find_page, PageList};
use crate::{Outcome, TrapKind, Vm};
use sha3::{Digest, Keccak256};

/// A keccak256 digest.
pub type Hash = [u8; 32];

/// Bytes per leaf of every tree here: one keccak256 input block holds two of them.
pub const LEAF_BYTES: usize = 32;
/// Depth of the memory tree: 2^27 leaves of 32 bytes cover the 2^32-byte address space.
pub const MEMORY_DEPTH: usize = 27;
/// Depth of one page's subtree inside the memory tree: 4096 / 32 = 128 = 2^7 leaves.
pub const PAGE_DEPTH: usize = 7;
/// Depth of the page table tree: 2^20 pages, one byte each, 32 bytes a leaf: 2^15 leaves.
pub const PAGE_TABLE_DEPTH: usize = 15;
/// Depth of the input tree: the input zero-padded to 2^32 bytes, as memory is.
pub const INPUT_DEPTH: usize = 27;
/// The deepest tree; [`zero_hashes`] goes up to its root.
const MAX_DEPTH: usize = 27;

/// Page table byte bit: the page is resident (written since it was mapped). The low three
/// bits are the page's permissions: [`MAPPED`] (1), [`WRITE`] (2), [`EXEC`] (4).
pub const RESIDENT: u8 = 8;

/// Domain prefix of the header, so that no other keccak256 input in poie can equal it.
pub const DOMAIN: &[u8; 15] = b"poie/v1/vmstate";
/// Length of [`StateCommitment::encode`]'s output.
pub const ENCODED_LEN: usize =
    15 + 4 + 4 + 4 * 32 + 32 + 32 + 4 + 8 * 4 + 2 + 4 * 3 + 32 + 8 * 2 + 1 + (8 + 32) * 2;

/// `status` values: how the job stands.
pub const STATUS_RUNNING: u8 = 0;
pub const STATUS_EXITED: u8 = 1;
pub const STATUS_TRAPPED: u8 = 2;
/// Not finished, and `steps >= max_steps`: the job stopped at the step limit.
pub const STATUS_STEP_LIMIT: u8 = 3;

/// The prefix hashed before an input longer than 2^32 bytes: such an input does not fit a tree
/// of depth [`INPUT_DEPTH`] and is committed flat instead (see [`input_root`]).
const LONG_INPUT: &[u8] = b"poie/v1/vmstate/long-input";

fn keccak(parts: &[&[u8]]) -> Hash {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// An inner node of every tree here.
pub fn node(left: &Hash, right: &Hash) -> Hash {
    keccak(&[left, right])
}

/// `z[k]` is the root of a subtree of height `k` whose leaves are all zero: `z[0]` is 32 zero
/// bytes and `z[k + 1] = node(z[k], z[k])`. Cheap (27 hashes), so computed per call.
pub fn zero_hashes() -> [Hash; MAX_DEPTH + 1] {
    let mut z = [[0u8; 32]; MAX_DEPTH + 1];
    for k in 1..=MAX_DEPTH {
        z[k] = node(&z[k - 1], &z[k - 1]);
    }
    z
}

/// One level up from a level's non-zero nodes (ascending `(index, hash)`), every other node of
/// it being `zero`: the parents that are not zero subtrees, ascending.
pub(crate) fn fold_level(nodes: &[(u64, Hash)], zero: &Hash) -> Vec<(u64, Hash)> {
    let mut up = Vec::with_capacity(nodes.len().div_ceil(2));
    let mut it = nodes.iter().copied().peekable();
    while let Some((i, h)) = it.next() {
        // A left child takes its sibling from the list if it is there; a right child listed
        // alone has a zero left sibling (a listed one would have taken it).
        let parent = if i & 1 == 0 {
            match it.next_if(|&(j, _)| j == i + 1) {
                Some((_, right)) => node(&h, &right),
                None => node(&h, zero),
            }
        } else {
            node(zero, &h)
        };
        up.push((i >> 1, parent));
    }
    up
}

/// The root of a tree of height `depth` above level `level`, given its nodes at `level` that
/// are not zero subtrees, as `(index in the level, hash)` in ascending index order; every node
/// not listed is the zero subtree `z[level]`. Costs about `nodes.len() * (depth - level)`
/// hashes whatever the tree's width, which is what makes the sparse trees cheap.
fn fold_sparse(mut nodes: Vec<(u64, Hash)>, level: usize, depth: usize, z: &[Hash]) -> Hash {
    debug_assert!(
        nodes.windows(2).all(|w| w[0].0 < w[1].0),
        "ascending, distinct"
    );
    debug_assert!(nodes.last().is_none_or(|&(i, _)| i >> (depth - level) == 0));
    let zero_at = |k: usize| z.get(k).copied().unwrap_or([0; 32]);
    for k in level..depth {
        nodes = fold_level(&nodes, &zero_at(k));
    }
    match nodes.first() {
        Some(&(_, root)) => root,
        None => zero_at(depth),
    }
}

/// The 32-byte leaves of `bytes` that are not all zero, with their indices.
fn nonzero_leaves(bytes: &[u8], first_index: u64) -> Vec<(u64, Hash)> {
    bytes
        .chunks_exact(LEAF_BYTES)
        .zip(first_index..)
        .filter(|(chunk, _)| chunk.iter().any(|&b| b != 0))
        .filter_map(|(chunk, i)| Some((i, Hash::try_from(chunk).ok()?)))
        .collect()
}

/// The root of one page's subtree (height [`PAGE_DEPTH`]), or `None` if the page is all zero
/// (its root is then `z[PAGE_DEPTH]` and it needs no entry in the memory tree).
pub fn page_root(bytes: &[u8; PAGE_SIZE], z: &[Hash]) -> Option<Hash> {
    let leaves = nonzero_leaves(bytes, 0);
    (!leaves.is_empty()).then(|| fold_sparse(leaves, 0, PAGE_DEPTH, z))
}

/// The page table byte of a page with permission bits `perms` (0: unmapped): its
/// [`MAPPED`], [`WRITE`] and [`EXEC`] bits, and [`RESIDENT`] if it is resident.
pub fn page_table_byte(perms: u8, resident: bool) -> u8 {
    (perms & (MAPPED | WRITE | EXEC)) | if resident { RESIDENT } else { 0 }
}

/// The memory root and the page table root, in one pass over the permission table
/// ([`memory_nodes`]).
pub fn memory_roots(mem: &Memory, z: &[Hash]) -> (Hash, Hash) {
    let nodes = memory_nodes(mem, z);
    (
        fold_sparse(nodes.pages, PAGE_DEPTH, MEMORY_DEPTH, z),
        fold_sparse(nodes.table_leaves, 0, PAGE_TABLE_DEPTH, z),
    )
}

/// The non-zero nodes that decide the memory and page table roots, each list in ascending
/// index order (as [`fold_sparse`] takes them).
pub(crate) struct MemoryNodes {
    /// The roots of the pages that are not all zero, as `(page, root)`: level [`PAGE_DEPTH`]
    /// of the memory tree.
    pub pages: Vec<(u64, Hash)>,
    /// The page table leaves that are not all zero, as `(leaf index, leaf)`.
    pub table_leaves: Vec<(u64, Hash)>,
}

/// The [`MemoryNodes`] of `mem`.
///
/// The pass reads the 1 MiB permission table 32 bytes at a time, skipping all-zero runs (the
/// table is all that lists pages: `Memory` keeps no list of resident pages, and adding one
/// would touch the store path); hashing is proportional to the resident pages' non-zero
/// leaves plus the mapped 32-page groups. An unmapped page is never resident (unmapping frees
/// it, as `Memory`'s `Drop` also relies on), so skipped runs hold no memory to commit.
///
/// A page whose bytes equal those of the snapshot `mem` came from (its known pages) takes the
/// root that snapshot caches: a 4 KiB compare instead of 255 hashes, the same root either way.
pub(crate) fn memory_nodes(mem: &Memory, z: &[Hash]) -> MemoryNodes {
    let known = mem.known_pages();
    let known: &PageList = known.as_deref().unwrap_or(&[]);
    let mut cursor = 0;
    let mut pages: Vec<(u64, Hash)> = Vec::new();
    let mut table_leaves: Vec<(u64, Hash)> = Vec::new();
    for (group, perms) in (0u64..).zip(mem.perms_table().chunks_exact(LEAF_BYTES)) {
        if perms.iter().fold(0u8, |acc, &p| acc | p) == 0 {
            continue;
        }
        let mut leaf = [0u8; LEAF_BYTES];
        for ((page, &p), byte) in (group * LEAF_BYTES as u64..).zip(perms).zip(&mut leaf) {
            if p == 0 {
                continue;
            }
            let data = usize::try_from(page)
                .ok()
                .and_then(|n| mem.resident_page(n));
            *byte = page_table_byte(p, data.is_some());
            let Some(data) = data else { continue };
            let root = match find_page(known, &mut cursor, page) {
                Some(k) if k.bytes == *data => k.root(z),
                _ => page_root(data, z),
            };
            if let Some(root) = root {
                pages.push((page, root));
            }
        }
        table_leaves.push((group, leaf));
    }
    MemoryNodes {
        pages,
        table_leaves,
    }
}

/// The root of a tree of height `depth` over `bytes` zero-padded to `32 << depth` bytes, in
/// one pass and `depth + 1` hashes of memory (the input may be hundreds of MiB): `frontier[k]`
/// holds the complete subtree at level `k` still waiting for its right sibling.
fn dense_root(bytes: &[u8], depth: usize, z: &[Hash]) -> Hash {
    let mut frontier: Vec<Option<Hash>> = vec![None; depth + 1];
    for chunk in bytes.chunks(LEAF_BYTES) {
        let mut h = [0u8; LEAF_BYTES];
        for (d, s) in h.iter_mut().zip(chunk) {
            *d = *s;
        }
        let mut k = 0;
        while let Some(left) = frontier.get_mut(k).and_then(Option::take) {
            h = node(&left, &h);
            k += 1;
        }
        if let Some(slot) = frontier.get_mut(k) {
            *slot = Some(h);
        }
    }
    if let Some(Some(full)) = frontier.get(depth) {
        return *full;
    }
    // Close the tree: `acc` is the partly filled node at level k right of every complete one
    // (None while it holds no byte: a zero subtree). Where bit k of the leaf count is set, a
    // complete left sibling waits in the frontier; otherwise `acc` is a left child.
    let mut acc: Option<Hash> = None;
    for (k, left) in frontier.iter().take(depth).enumerate() {
        let zero = z.get(k).copied().unwrap_or([0; 32]);
        acc = match (left, acc) {
            (Some(l), Some(r)) => Some(node(l, &r)),
            (Some(l), None) => Some(node(l, &zero)),
            (None, Some(l)) => Some(node(&l, &zero)),
            (None, None) => None,
        };
    }
    acc.unwrap_or_else(|| z.get(depth).copied().unwrap_or([0; 32]))
}

/// The input root: the tree of height [`INPUT_DEPTH`] over the input zero-padded to 2^32
/// bytes. An input longer than 2^32 bytes (poie's protocol allows 256 MiB; only a host could
/// pass more) has no such tree: it is committed as `keccak256(LONG_INPUT || input)` instead,
/// which the input length in the header tells apart.
pub fn input_root(input: &[u8], z: &[Hash]) -> Hash {
    if input.len() as u64 > 1 << 32 {
        return keccak(&[LONG_INPUT, input]);
    }
    dense_root(input, INPUT_DEPTH, z)
}

/// The output accumulator after the guest writes `bytes` (one `write` call) to a stream:
/// `keccak256(acc || bytes)`, starting from 32 zero bytes. A write of no bytes leaves it.
pub(crate) fn absorb_output(acc: &mut Hash, bytes: &[u8]) {
    if !bytes.is_empty() {
        *acc = keccak(&[acc, bytes]);
    }
}

/// Every field of the state, as committed; [`StateCommitment::root`] is the commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCommitment {
    /// The job's index in its windback, given by the caller.
    pub job: u32,
    pub pc: u32,
    /// x0..x31; x0 is 0.
    pub regs: [u32; 32],
    pub memory_root: Hash,
    pub page_table_root: Hash,
    pub resident_pages: u32,
    /// The initial and the current break, 33-bit numbers (2^32 when the break cannot move).
    pub brk_start: u64,
    pub brk: u64,
    /// Instructions retired since loading.
    pub steps: u64,
    /// The job's step limit, given by the caller.
    pub max_steps: u64,
    /// One of the `STATUS_*` values.
    pub status: u8,
    /// [`trap_code`] of the trap; 0 unless trapped.
    pub trap_kind: u8,
    /// The full 32-bit exit status (`a0`) when exited; the trap's address (load, store and
    /// memory-limit faults) or target (misaligned jump) when trapped; else 0.
    pub status_value: u32,
    /// The trapping instruction's pc and word; 0 unless trapped.
    pub trap_pc: u32,
    pub trap_word: u32,
    pub input_root: Hash,
    pub input_len: u64,
    /// Input bytes read so far.
    pub input_pos: u64,
    /// Bit `fd` set while fd 0, 1 or 2 is open.
    pub open_fds: u8,
    /// Bytes written to stdout and its accumulator ([`absorb_output`]); the same for stderr.
    pub stdout_len: u64,
    pub stdout_acc: Hash,
    pub stderr_len: u64,
    pub stderr_acc: Hash,
}

/// A trap kind's code in the commitment (0 is "no trap"). Exhaustive on purpose: a new kind
/// must be given a code before this compiles.
pub fn trap_code(kind: TrapKind) -> (u8, u32) {
    match kind {
        TrapKind::IllegalInstruction => (1, 0),
        TrapKind::Breakpoint => (2, 0),
        TrapKind::LoadFault { addr } => (3, addr),
        TrapKind::StoreFault { addr } => (4, addr),
        TrapKind::FetchFault => (5, 0),
        TrapKind::MisalignedJump { target } => (6, target),
        TrapKind::MemoryLimit { addr } => (7, addr),
        TrapKind::OutputLimit => (8, 0),
    }
}

impl StateCommitment {
    /// The header hashed into the commitment: [`DOMAIN`], then every field in declaration
    /// order, integers big-endian at their declared widths, hashes as they are.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENCODED_LEN);
        out.extend_from_slice(DOMAIN);
        out.extend_from_slice(&self.job.to_be_bytes());
        out.extend_from_slice(&self.pc.to_be_bytes());
        for r in self.regs {
            out.extend_from_slice(&r.to_be_bytes());
        }
        out.extend_from_slice(&self.memory_root);
        out.extend_from_slice(&self.page_table_root);
        out.extend_from_slice(&self.resident_pages.to_be_bytes());
        for v in [self.brk_start, self.brk, self.steps, self.max_steps] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.push(self.status);
        out.push(self.trap_kind);
        for v in [self.status_value, self.trap_pc, self.trap_word] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.input_root);
        out.extend_from_slice(&self.input_len.to_be_bytes());
        out.extend_from_slice(&self.input_pos.to_be_bytes());
        out.push(self.open_fds);
        out.extend_from_slice(&self.stdout_len.to_be_bytes());
        out.extend_from_slice(&self.stdout_acc);
        out.extend_from_slice(&self.stderr_len.to_be_bytes());
        out.extend_from_slice(&self.stderr_acc);
        debug_assert_eq!(out.len(), ENCODED_LEN);
        out
    }

    /// The state commitment: `keccak256(encode())`.
    pub fn root(&self) -> Hash {
        keccak(&[&self.encode()])
    }
}

impl Vm {
    /// Every field of the state, with the memory, page table and input trees' roots. `job` is
    /// the job's index in its windback and `max_steps` its step limit, which the VM does not
    /// keep. Costs hashing proportional to the resident pages (and one pass over the 1 MiB
    /// permission table); the input root is computed on the first call and kept, since the
    /// input never changes.
    pub fn state(&self, job: u32, max_steps: u64) -> StateCommitment {
        let z = zero_hashes();
        let roots = memory_roots(&self.mem, &z);
        self.state_with_roots(job, max_steps, roots, &z)
    }

    /// [`Vm::state`] with the memory and page table roots given, computed from this VM's
    /// memory (the step prover keeps them up to date instead of recomputing them).
    pub(crate) fn state_with_roots(
        &self,
        job: u32,
        max_steps: u64,
        (memory_root, page_table_root): (Hash, Hash),
        z: &[Hash],
    ) -> StateCommitment {
        let input_root = *self
            .io
            .input_root
            .get_or_init(|| input_root(&self.io.input, z));
        let mut regs = [0u32; 32];
        // Index 0 stays 0: x0 reads as 0 whatever the sink slot holds.
        for (i, r) in regs.iter_mut().enumerate().skip(1) {
            *r = self.reg(i);
        }
        let (status, trap_kind, status_value, trap_pc, trap_word) = match self.finished {
            Some(Outcome::Exited(code)) => (STATUS_EXITED, 0, code, 0, 0),
            Some(Outcome::Trapped(t)) => {
                let (kind, value) = trap_code(t.kind);
                (STATUS_TRAPPED, kind, value, t.pc, t.word)
            }
            // `finished` never holds StepLimit (a run may continue past it), but if it did it
            // would mean the same as reaching the limit.
            Some(Outcome::StepLimit) => (STATUS_STEP_LIMIT, 0, 0, 0, 0),
            None if self.retired >= max_steps => (STATUS_STEP_LIMIT, 0, 0, 0, 0),
            None => (STATUS_RUNNING, 0, 0, 0, 0),
        };
        StateCommitment {
            job,
            pc: self.pc,
            regs,
            memory_root,
            page_table_root,
            resident_pages: u32::try_from(self.mem.resident_pages()).unwrap_or(u32::MAX),
            brk_start: self.brk_start,
            brk: self.brk,
            steps: self.retired,
            max_steps,
            status,
            trap_kind,
            status_value,
            trap_pc,
            trap_word,
            input_root,
            input_len: self.io.input.len() as u64,
            input_pos: self.io.input_pos as u64,
            open_fds: self.io.open_fds,
            stdout_len: self.io.stdout_written,
            stdout_acc: self.io.stdout_acc,
            stderr_len: self.io.stderr_written,
            stderr_acc: self.io.stderr_acc,
        }
    }

    /// The state commitment (see the module documentation): `self.state(job, max_steps).root()`.
    pub fn state_commitment(&self, job: u32, max_steps: u64) -> Hash {
        self.state(job, max_steps).root()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memory root from every leaf of the mapped pages, level by level, with no sparse
    /// shortcut inside the listed range: what `fold_sparse` must agree with.
    fn naive_root(leaves: &[(u64, Hash)], depth: usize) -> Hash {
        let z = zero_hashes();
        fn go(lo: u64, height: usize, leaves: &[(u64, Hash)], z: &[Hash]) -> Hash {
            let hi = lo + (1u64 << height);
            let inside: Vec<_> = leaves
                .iter()
                .filter(|(i, _)| *i >= lo && *i < hi)
                .copied()
                .collect();
            if inside.is_empty() {
                return z[height];
            }
            if height == 0 {
                return inside[0].1;
            }
            let half = 1u64 << (height - 1);
            node(
                &go(lo, height - 1, &inside, z),
                &go(lo + half, height - 1, &inside, z),
            )
        }
        go(0, depth, leaves, &z)
    }

    #[test]
    fn state_zero_hashes_are_the_roots_of_zero_trees() {
        let z = zero_hashes();
        assert_eq!(z[0], [0; 32]);
        assert_eq!(dense_root(&[], 5, &z), z[5]);
        assert_eq!(dense_root(&[0; 32 * 32], 5, &z), z[5]);
        assert_eq!(fold_sparse(Vec::new(), 3, 27, &z), z[27]);
        assert_eq!(page_root(&[0; PAGE_SIZE], &z), None);
    }

    #[test]
    fn state_dense_and_sparse_roots_agree_with_the_naive_tree() {
        let z = zero_hashes();
        for n in [1usize, 31, 32, 33, 64, 95, 96, 100, 1023, 1024, 1025, 4096] {
            let bytes: Vec<u8> = (0..n).map(|i| (i % 251) as u8 + 1).collect();
            let mut leaves = nonzero_leaves(&bytes, 0);
            if let Some(tail) = bytes.len().checked_rem(32).filter(|&r| r != 0) {
                let mut last = [0u8; 32];
                last[..tail].copy_from_slice(&bytes[bytes.len() - tail..]);
                leaves.push(((bytes.len() / 32) as u64, last));
            }
            let want = naive_root(&leaves, 12);
            assert_eq!(dense_root(&bytes, 12, &z), want, "dense, {n} bytes");
            assert_eq!(fold_sparse(leaves, 0, 12, &z), want, "sparse, {n} bytes");
        }
        // A full tree, and scattered leaves including the last one.
        assert_eq!(
            dense_root(&[7; 32 * 16], 4, &z),
            naive_root(&(0..16).map(|i| (i, [7; 32])).collect::<Vec<_>>(), 4)
        );
        let scattered: Vec<(u64, Hash)> = [0u64, 5, 6, 77, 1 << 20, (1 << 27) - 1]
            .iter()
            .map(|&i| (i, [i as u8 ^ 0x5a; 32]))
            .collect();
        assert_eq!(
            fold_sparse(scattered.clone(), 0, 27, &z),
            naive_root(&scattered, 27)
        );
    }

    #[test]
    fn state_output_accumulator_ignores_empty_writes() {
        let mut acc = [0u8; 32];
        absorb_output(&mut acc, b"");
        assert_eq!(acc, [0; 32]);
        absorb_output(&mut acc, b"hi");
        assert_eq!(acc, keccak(&[&[0u8; 32], b"hi"]));
    }

    #[test]
    fn state_encoding_has_the_documented_length() {
        let s = StateCommitment {
            job: 0,
            pc: 0,
            regs: [0; 32],
            memory_root: [0; 32],
            page_table_root: [0; 32],
            resident_pages: 0,
            brk_start: 0,
            brk: 0,
            steps: 0,
            max_steps: 0,
            status: 0,
            trap_kind: 0,
            status_value: 0,
            trap_pc: 0,
            trap_word: 0,
            input_root: [0; 32],
            input_len: 0,
            input_pos: 0,
            open_fds: 0,
            stdout_len: 0,
            stdout_acc: [0; 32],
            stderr_len: 0,
            stderr_acc: [0; 32],
        };
        assert_eq!(s.encode().len(), ENCODED_LEN);
        assert_eq!(ENCODED_LEN, 394);
    }
}
