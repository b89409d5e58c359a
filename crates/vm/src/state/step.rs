//! The raw parts of a one-step proof (the verifier, `poie-referee`'s `step`, is written from
//! the specification alone and does not depend on the VM, nor the VM on it): the pre-state
//! header, the memory and page table leaves of the instruction fetch, and the leaves the
//! instruction reads: for a load or store those of the bytes it touches, for a system call
//! those of its buffer, its input, or the heap page it maps or unmaps.
//!
//! Which leaves, in which order (the verifier refuses any other set):
//! - `fetch`: memory leaf `pc / 32`; `fetch_page`: page table leaf `(pc >> 12) / 32`;
//! - when the pc's page is executable and the word there decodes to a load or store whose bytes
//!   `[addr, addr + len)` end at or before 2^32: `data`, the memory leaves those bytes touch
//!   (one or two, ascending), and `data_pages`, the page table leaves of the pages they touch
//!   (one or two distinct leaves, ascending);
//! - for an `ecall`, what its call reads ([`ecall_needs`], SPEC 1.7): the one memory leaf and
//!   page table leaf of a `read` or `write` buffer, the one or two `input` leaves a `read`
//!   copies, the page table leaf of the page a `brk` maps or unmaps and, to unmap it, the
//!   page's subtree root (`page_memory`);
//! - otherwise all of these are empty.
//!
//! [`Vm::step_proof`] computes everything afresh: the header from [`Vm::state`], the proofs
//! from one pass over memory ([`memory_nodes`]). A [`StepProver`] kept across the steps of one
//! VM gives the same parts faster: it keeps each resident page's bytes and subtree root, and
//! hashes again only the pages whose bytes changed since its last call.

use super::proof::{sparse_siblings, InputTree, LeafProof};
use super::{fold_level, memory_nodes, node, nonzero_leaves, zero_hashes, Hash};
use super::{page_table_byte, MemoryNodes};
use super::{LEAF_BYTES, MEMORY_DEPTH, PAGE_DEPTH, PAGE_TABLE_DEPTH};
use crate::decode::{decode, Op};
use crate::memory::PAGE_SIZE;
use crate::syscall::{brk_page, io_span, MAX_OUTPUT, SYS_BRK, SYS_READ, SYS_WRITE};
use crate::Vm;
use std::collections::HashMap;

/// What a one-step proof holds, as the VM produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepProofParts {
    /// The pre-state header: `Vm::state(job, max_steps).encode()`, 394 bytes.
    pub header: Vec<u8>,
    /// Memory leaf `pc / 32`.
    pub fetch: LeafProof,
    /// Page table leaf `(pc >> 12) / 32`.
    pub fetch_page: LeafProof,
    /// The memory leaves a load's or store's bytes touch, ascending; empty otherwise.
    pub data: Vec<LeafProof>,
    /// The page table leaves of the pages those bytes touch, ascending; empty otherwise.
    pub data_pages: Vec<LeafProof>,
    /// The input leaves a `read` copies from, ascending; empty otherwise.
    pub input: Vec<LeafProof>,
    /// For a `brk` that unmaps a page: that page's subtree root (node `page` at level 7 of the
    /// memory tree) with its 20 siblings above; empty otherwise.
    pub page_memory: Vec<LeafProof>,
}

/// The leaves of one state a step proof draws on.
trait Leaves {
    /// Memory leaf `addr / 32`.
    fn memory(&self, addr: u32) -> LeafProof;
    /// Page table leaf `index`.
    fn table(&self, index: u64) -> LeafProof;
    /// Page `page`'s subtree root and its siblings up to the memory root.
    fn page_root(&self, page: u64) -> LeafProof;
}

/// Proofs of several leaves of one state, sharing one pass over memory.
struct Prover<'a> {
    vm: &'a Vm,
    nodes: MemoryNodes,
    z: [Hash; MEMORY_DEPTH + 1],
}

impl Leaves for Prover<'_> {
    fn memory(&self, addr: u32) -> LeafProof {
        let index = u64::from(addr) / LEAF_BYTES as u64;
        let page = u64::from(addr) / PAGE_SIZE as u64;
        let in_page = index % (PAGE_SIZE / LEAF_BYTES) as u64;
        let data = usize::try_from(page)
            .ok()
            .and_then(|p| self.vm.mem.resident_page(p));
        let leaves = data.map_or_else(Vec::new, |d| nonzero_leaves(d, 0));
        let mut siblings = sparse_siblings(&leaves, 0, PAGE_DEPTH, in_page, &self.z);
        siblings.extend(sparse_siblings(
            &self.nodes.pages,
            PAGE_DEPTH,
            MEMORY_DEPTH,
            page,
            &self.z,
        ));
        let mut leaf = [0u8; LEAF_BYTES];
        if let Some(d) = data {
            let at = in_page as usize * LEAF_BYTES;
            leaf.copy_from_slice(&d[at..at + LEAF_BYTES]);
        }
        LeafProof {
            index,
            leaf,
            siblings,
        }
    }

    /// The page table leaf `index` (pages `32 index ..`).
    fn table(&self, index: u64) -> LeafProof {
        let t = &self.nodes.table_leaves;
        let leaf = t
            .binary_search_by_key(&index, |&(i, _)| i)
            .ok()
            .and_then(|at| t.get(at))
            .map_or([0; LEAF_BYTES], |&(_, leaf)| leaf);
        LeafProof {
            index,
            leaf,
            siblings: sparse_siblings(t, 0, PAGE_TABLE_DEPTH, index, &self.z),
        }
    }

    fn page_root(&self, page: u64) -> LeafProof {
        let p = &self.nodes.pages;
        LeafProof {
            index: page,
            leaf: p
                .binary_search_by_key(&page, |&(i, _)| i)
                .ok()
                .and_then(|at| p.get(at))
                .map_or(self.z[PAGE_DEPTH], |&(_, h)| h),
            siblings: sparse_siblings(p, PAGE_DEPTH, MEMORY_DEPTH, page, &self.z),
        }
    }
}

/// Builds step proofs for the successive states of one VM, keeping each resident page's
/// subtree between calls so that only changed pages are hashed again, and every level of the
/// trees above the pages so that a proof is lookups. Gives exactly what [`Vm::step_proof`]
/// gives (the tests compare the two, and the header with [`Vm::state`]).
#[derive(Default)]
pub struct StepProver {
    /// Resident page number to its bytes and every level of its subtree (leaves first) at the
    /// last call.
    pages: HashMap<u64, PageTree>,
    /// The levels above the pages and of the page table at the last call; rebuilt only when
    /// their bottom level changes.
    upper: Vec<Vec<(u64, Hash)>>,
    table: Vec<Vec<(u64, Hash)>>,
    /// The input tree above its 4 KiB chunks, with the input's length: the input never
    /// changes while a job runs.
    input: Option<(usize, InputTree)>,
}

/// `cache` if its bottom level is `nodes`, else the levels built afresh.
fn levels_cached(
    cache: &mut Vec<Vec<(u64, Hash)>>,
    nodes: Vec<(u64, Hash)>,
    level: usize,
    depth: usize,
    z: &[Hash],
) {
    if cache.first() != Some(&nodes) {
        *cache = sparse_levels(nodes, level, depth, z);
    }
}

struct PageTree {
    bytes: Box<[u8; PAGE_SIZE]>,
    /// `levels[k][j]`: node `j` at level `k` of the page's subtree; `levels[7][0]` its root.
    levels: Vec<Vec<Hash>>,
}

impl PageTree {
    fn new(data: &[u8; PAGE_SIZE], z: &[Hash]) -> PageTree {
        let mut level: Vec<Hash> = data
            .chunks_exact(LEAF_BYTES)
            .map(|c| {
                let mut h = [0u8; LEAF_BYTES];
                h.copy_from_slice(c);
                h
            })
            .collect();
        let mut levels = Vec::with_capacity(PAGE_DEPTH + 1);
        for k in 0..PAGE_DEPTH {
            let zero = z[k];
            let up = level
                .chunks_exact(2)
                .map(|p| {
                    if p[0] == zero && p[1] == zero {
                        z[k + 1]
                    } else {
                        node(&p[0], &p[1])
                    }
                })
                .collect();
            levels.push(std::mem::replace(&mut level, up));
        }
        levels.push(level);
        PageTree {
            bytes: Box::new(*data),
            levels,
        }
    }

    fn root(&self) -> Hash {
        self.levels[PAGE_DEPTH][0]
    }
}

/// Every level of a sparse tree from `level` up to `depth`, given its non-zero nodes at
/// `level` (ascending): entry `k - level` lists the non-zero nodes at level `k`, as
/// [`fold_sparse`] computes them.
fn sparse_levels(
    nodes: Vec<(u64, Hash)>,
    level: usize,
    depth: usize,
    z: &[Hash],
) -> Vec<Vec<(u64, Hash)>> {
    let mut out = vec![nodes];
    for k in level..depth {
        let zero = z.get(k).copied().unwrap_or([0; 32]);
        let up = out
            .last()
            .map_or_else(Vec::new, |below| fold_level(below, &zero));
        out.push(up);
    }
    out
}

/// The siblings of node `index` at the bottom level of `levels` (from [`sparse_levels`],
/// bottom level `level`), up to the root.
fn siblings_from(levels: &[Vec<(u64, Hash)>], level: usize, index: u64, z: &[Hash]) -> Vec<Hash> {
    levels
        .iter()
        .take(levels.len().saturating_sub(1))
        .enumerate()
        .map(|(k, nodes)| {
            let want = (index >> k) ^ 1;
            nodes
                .binary_search_by_key(&want, |&(i, _)| i)
                .map_or(z[level + k], |at| nodes[at].1)
        })
        .collect()
}

impl StepProver {
    pub fn new() -> Self {
        StepProver::default()
    }

    /// The parts of a one-step proof of `vm`'s next instruction, as [`Vm::step_proof`].
    pub fn prove(&mut self, vm: &Vm, job: u32, max_steps: u64) -> StepProofParts {
        let z = zero_hashes();
        let mem = &vm.mem;
        let mut pages: Vec<(u64, Hash)> = Vec::new();
        let mut table_leaves: Vec<(u64, Hash)> = Vec::new();
        let mut trees: HashMap<u64, PageTree> = HashMap::with_capacity(self.pages.len());
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
                let tree = match self.pages.remove(&page) {
                    Some(t) if *t.bytes == *data => t,
                    _ => PageTree::new(data, &z),
                };
                if tree.root() != z[PAGE_DEPTH] {
                    pages.push((page, tree.root()));
                }
                trees.insert(page, tree);
            }
            table_leaves.push((group, leaf));
        }
        self.pages = trees;
        levels_cached(&mut self.upper, pages, PAGE_DEPTH, MEMORY_DEPTH, &z);
        levels_cached(&mut self.table, table_leaves, 0, PAGE_TABLE_DEPTH, &z);
        let (upper, table) = (&self.upper, &self.table);
        let root = |levels: &[Vec<(u64, Hash)>], depth: usize| {
            levels
                .last()
                .and_then(|l| l.first())
                .map_or(z[depth], |&(_, h)| h)
        };
        let roots = (root(upper, MEMORY_DEPTH), root(table, PAGE_TABLE_DEPTH));
        let header = vm.state_with_roots(job, max_steps, roots, &z).encode();
        let input = match self.input.take() {
            Some((len, tree)) if len == vm.io.input.len() => Some((len, tree)),
            _ => InputTree::new(&vm.io.input, &z).map(|t| (vm.io.input.len(), t)),
        };
        self.input = input;
        let cached = Cached { prover: self, z };
        let input = self.input.as_ref().map(|(_, t)| t);
        parts(vm, header, &cached, input, &z)
    }
}

/// A [`StepProver`]'s kept levels, answering proofs by lookups.
struct Cached<'a> {
    prover: &'a StepProver,
    z: [Hash; MEMORY_DEPTH + 1],
}

impl Leaves for Cached<'_> {
    fn memory(&self, addr: u32) -> LeafProof {
        let z = &self.z;
        let index = u64::from(addr) / LEAF_BYTES as u64;
        let page = u64::from(addr) / PAGE_SIZE as u64;
        let in_page = (index % (PAGE_SIZE / LEAF_BYTES) as u64) as usize;
        let (leaf, mut siblings) = match self.prover.pages.get(&page) {
            Some(t) => (
                t.levels[0][in_page],
                (0..PAGE_DEPTH)
                    .map(|k| t.levels[k][(in_page >> k) ^ 1])
                    .collect(),
            ),
            None => ([0; LEAF_BYTES], z[..PAGE_DEPTH].to_vec()),
        };
        siblings.extend(siblings_from(&self.prover.upper, PAGE_DEPTH, page, z));
        LeafProof {
            index,
            leaf,
            siblings,
        }
    }

    fn table(&self, index: u64) -> LeafProof {
        let table = &self.prover.table;
        LeafProof {
            index,
            leaf: table
                .first()
                .and_then(|t| {
                    t.binary_search_by_key(&index, |&(i, _)| i)
                        .ok()
                        .and_then(|at| t.get(at))
                })
                .map_or([0; LEAF_BYTES], |&(_, leaf)| leaf),
            siblings: siblings_from(table, 0, index, &self.z),
        }
    }

    fn page_root(&self, page: u64) -> LeafProof {
        LeafProof {
            index: page,
            leaf: self
                .prover
                .pages
                .get(&page)
                .map_or(self.z[PAGE_DEPTH], PageTree::root),
            siblings: siblings_from(&self.prover.upper, PAGE_DEPTH, page, &self.z),
        }
    }
}

/// The fetch and data proofs of `vm`'s next instruction, with `header`.
fn parts(
    vm: &Vm,
    header: Vec<u8>,
    leaves: &dyn Leaves,
    input_tree: Option<&InputTree>,
    z: &[Hash],
) -> StepProofParts {
    let pc = vm.pc;
    let page_leaf = |addr: u64| (addr / PAGE_SIZE as u64) / LEAF_BYTES as u64;
    let mut proof = StepProofParts {
        header,
        fetch: leaves.memory(pc),
        fetch_page: leaves.table(page_leaf(u64::from(pc))),
        data: Vec::new(),
        data_pages: Vec::new(),
        input: Vec::new(),
        page_memory: Vec::new(),
    };
    if !vm.mem.is_executable(pc) {
        return proof;
    }
    let inst = decode(vm.mem.load_u32(pc).unwrap_or(0));
    let needs = match inst.op {
        Op::Ecall => ecall_needs(vm),
        op => {
            let len = match op {
                Op::Lb | Op::Lbu | Op::Sb => 1,
                Op::Lh | Op::Lhu | Op::Sh => 2,
                Op::Lw | Op::Sw => 4,
                _ => 0,
            };
            let addr = u64::from(vm.reg(usize::from(inst.rs1)).wrapping_add(inst.imm));
            Needs {
                bytes: (len > 0 && addr + len <= 1 << 32).then_some((addr, len)),
                ..Needs::default()
            }
        }
    };
    if let Some((addr, len)) = needs.bytes {
        let last = addr + len - 1;
        let step = LEAF_BYTES as u64;
        for index in (addr / step)..=(last / step) {
            proof.data.push(leaves.memory((index * step) as u32));
        }
        for index in page_leaf(addr)..=page_leaf(last) {
            proof.data_pages.push(leaves.table(index));
        }
    }
    if let Some(page) = needs.table_page {
        proof
            .data_pages
            .push(leaves.table(page / LEAF_BYTES as u64));
    }
    if let Some(page) = needs.page_memory {
        proof.page_memory.push(leaves.page_root(page));
    }
    if let (Some((from, len)), Some(tree)) = (needs.input, input_tree) {
        let step = LEAF_BYTES as u64;
        for index in (from / step)..=((from + len - 1) / step) {
            proof.input.extend(tree.proof(&vm.io.input, index, z));
        }
    }
    proof
}

/// What a step reads besides its fetch (SPEC 1.7).
#[derive(Default)]
struct Needs {
    /// Memory bytes `(addr, len)`, `len > 0`: their leaves and their pages' table leaves.
    bytes: Option<(u64, u64)>,
    /// One page's table leaf (`brk`).
    table_page: Option<u64>,
    /// One page's subtree root (`brk` unmapping it).
    page_memory: Option<u64>,
    /// Input bytes `(offset, len)`, `len > 0`, that a `read` copies.
    input: Option<(u64, u64)>,
}

/// The leaves an `ecall` reads from the state before it (SPEC 1.7), decided by the registers,
/// the open descriptors, the output counts, the break and the input position alone.
fn ecall_needs(vm: &Vm) -> Needs {
    let [a0, a1, a2] = [vm.regs[10], vm.regs[11], vm.regs[12]];
    let open = |fd: u32| fd < 3 && vm.io.open_fds & (1 << fd) != 0;
    let mut needs = Needs::default();
    match vm.regs[17] {
        SYS_READ if a0 == 0 && open(0) => {
            let n = io_span(a1, a2);
            if n > 0 {
                needs.bytes = Some((u64::from(a1), u64::from(n)));
                let left = (vm.io.input.len() as u64).saturating_sub(vm.io.input_pos as u64);
                let copied = left.min(u64::from(n));
                if copied > 0 {
                    needs.input = Some((vm.io.input_pos as u64, copied));
                }
            }
        }
        SYS_WRITE if (a0 == 1 || a0 == 2) && open(a0) => {
            let written = if a0 == 1 {
                vm.io.stdout_written
            } else {
                vm.io.stderr_written
            };
            let room = MAX_OUTPUT.saturating_sub(written);
            let n = u64::from(io_span(a1, a2)).min(room);
            if n > 0 {
                needs.bytes = Some((u64::from(a1), n));
            }
        }
        SYS_BRK => {
            if let Some((page, unmaps)) = brk_page(vm.brk_start, vm.brk, a0) {
                needs.table_page = Some(page);
                needs.page_memory = unmaps.then_some(page);
            }
        }
        _ => {}
    }
    needs
}

impl Vm {
    /// The parts of a one-step proof of the next instruction from this state (see the module
    /// documentation). `job` and `max_steps` go into the header as in [`Vm::state`].
    pub fn step_proof(&self, job: u32, max_steps: u64) -> StepProofParts {
        let header = self.state(job, max_steps).encode();
        let z = zero_hashes();
        let prover = Prover {
            vm: self,
            nodes: memory_nodes(&self.mem, &z),
            z,
        };
        let input = InputTree::new(&self.io.input, &z);
        parts(self, header, &prover, input.as_ref(), &z)
    }
}
