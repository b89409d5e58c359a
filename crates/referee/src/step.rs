//! The one-step verifier: given a pre-state header and the Merkle proofs of the few leaves one
//! instruction reads, check every proof against the header's roots, execute the instruction as
//! SPEC 1 defines it, and return the post-state header, its commitment and the trace chunk
//! (SPEC 2). Written from the specification alone, as the rest of this crate.
//!
//! Covered: every RV32IM instruction, `fence` and `fence.i`, `ebreak` and illegal
//! instructions, fetch faults, misaligned jumps, loads and stores with permissions, residency,
//! the 65536-page limit, misaligned accesses across leaves and pages and accesses past 2^32,
//! and every system call (`crate::syscall`: `read`, `write`, `close`, `brk`, `exit`, unknown
//! calls), each bounded to one leaf or one page (SPEC 1.4). Not covered yet: job boundaries.
//!
//! A [`StepProof`] holds, in this order: the pre-state header (394 bytes); the memory leaf of
//! the 32 bytes holding the instruction word (leaf `pc / 32`); the page table leaf of the pc's
//! page (leaf `(pc >> 12) / 32`); for a load or store whose bytes `[addr, addr + len)` end at
//! or before 2^32 and whose instruction is fetched from an executable page, the memory leaves
//! those bytes touch (one or two, ascending) and the page table leaves of the pages they touch
//! (one or two distinct leaves, ascending); for an `ecall`, the leaves its call reads (SPEC 1.7:
//! a memory leaf and its page table leaf, input leaves, a page's subtree root); for anything
//! else, none. Any other number or order of leaves is refused, so a step has exactly one proof.

use crate::header::{DecodeError, Header, Status, TrapKind};
use crate::merkle::{node, verify_leaf, Hash, LEAF_BYTES, MEMORY_DEPTH, PAGE_TABLE_DEPTH};
use thiserror::Error;

/// Page table bits (SPEC 1.6): mapped, writable, executable, resident.
pub(crate) const MAPPED: u8 = 1;
pub(crate) const WRITABLE: u8 = 2;
const EXECUTABLE: u8 = 4;
pub(crate) const RESIDENT: u8 = 8;
/// Pages that may be resident at a time (SPEC 1.2).
pub const MAX_RESIDENT_PAGES: u32 = 1 << 16;
pub(crate) const PAGE_BITS: u32 = 12;
const ECALL: u32 = 0x0000_0073;
/// One trace chunk (SPEC 2).
pub type Chunk = [u8; 32];

/// One leaf of a tree and its siblings from the leaf upward (SPEC 1.6, "Proofs").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafProof {
    pub index: u64,
    pub leaf: Hash,
    pub siblings: Vec<Hash>,
}

/// Everything one step needs besides the pre-state (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepProof {
    /// The pre-state header's 394 bytes.
    pub header: Vec<u8>,
    /// Memory leaf `pc / 32`.
    pub fetch: LeafProof,
    /// Page table leaf `(pc >> 12) / 32`.
    pub fetch_page: LeafProof,
    /// The memory leaves a load's or store's bytes touch, ascending; empty otherwise.
    pub data: Vec<LeafProof>,
    /// The page table leaves of the pages those bytes touch, ascending, or the page table leaf
    /// of the page a `brk` maps or unmaps; empty otherwise.
    pub data_pages: Vec<LeafProof>,
    /// The input leaves a `read` copies from, ascending; empty otherwise.
    pub input: Vec<LeafProof>,
    /// For a `brk` that unmaps a page: its subtree root, node `page` at level 7 of the memory
    /// tree, with the 20 siblings above it; empty otherwise.
    pub page_memory: Vec<LeafProof>,
}

/// What a verified step gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepResult {
    pub post: Header,
    /// `post.commitment()`.
    pub post_commitment: Hash,
    /// The chunk of the retired instruction; `None` when it trapped (SPEC 1.5).
    pub chunk: Option<Chunk>,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StepError {
    #[error("the proof's header does not decode: {0}")]
    Header(#[from] DecodeError),
    #[error("the proof's header is not the pre-state")]
    HeaderMismatch,
    #[error("the job has finished ({0:?}): there is no next step")]
    Finished(Status),
    #[error("the job is at its step limit ({steps} of {max_steps} steps): there is no next step")]
    StepLimit { steps: u64, max_steps: u64 },
    #[error("pc {0:#x} is not 4-byte aligned (no run reaches such a state)")]
    MisalignedPc(u32),
    #[error("the input is longer than 2^32 bytes and committed flat: a read has no proof")]
    FlatInput,
    #[error("{what}: expected {expected} leaf proof(s), got {got}")]
    ProofCount {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what}: the proof is of leaf {got}, the step needs leaf {expected}")]
    WrongLeaf {
        what: &'static str,
        expected: u64,
        got: u64,
    },
    #[error("{what}: leaf {index} does not verify against the pre-state's root")]
    BadProof { what: &'static str, index: u64 },
}

/// How an instruction ends.
pub(crate) enum Outcome {
    /// Retires: `rd` (0: none) gets `rd_val`, the pc moves to `next_pc`.
    Retire {
        rd: usize,
        chunk: Step,
    },
    /// An `exit` or `exit_group` retires and ends the job with `status` (the full `a0`).
    Exit {
        chunk: Step,
        status: u32,
    },
    Trap(TrapKind, u32),
}

/// The chunk's eight fields (SPEC 2).
#[derive(Default)]
pub(crate) struct Step {
    pub pc: u32,
    pub insn: u32,
    pub rs1_val: u32,
    pub rs2_val: u32,
    pub rd_val: u32,
    pub mem_addr: u32,
    pub mem_val: u32,
    pub next_pc: u32,
}

impl Step {
    fn encode(&self) -> Chunk {
        let mut c = [0u8; 32];
        let words = [
            self.pc,
            self.insn,
            self.rs1_val,
            self.rs2_val,
            self.rd_val,
            self.mem_addr,
            self.mem_val,
            self.next_pc,
        ];
        for (dst, w) in c.chunks_exact_mut(4).zip(words) {
            dst.copy_from_slice(&w.to_le_bytes());
        }
        c
    }
}

/// A load or store the instruction makes.
#[derive(Clone, Copy)]
struct Access {
    addr: u32,
    len: u32,
    /// `Some(value)` for a store.
    store: Option<u32>,
}

impl StepProof {
    /// Verifies a step from a pre-state commitment alone: the header must decode and hash to
    /// `pre_state`, then [`step`].
    pub fn verify(&self, pre_state: &Hash) -> Result<StepResult, StepError> {
        let pre = Header::decode(&self.header)?;
        if pre.commitment() != *pre_state {
            return Err(StepError::HeaderMismatch);
        }
        step(&pre, self)
    }
}

fn check_leaf(
    what: &'static str,
    root: &Hash,
    depth: usize,
    expected: u64,
    p: &LeafProof,
) -> Result<(), StepError> {
    if p.index != expected {
        return Err(StepError::WrongLeaf {
            what,
            expected,
            got: p.index,
        });
    }
    if !verify_leaf(root, depth, p.index, &p.leaf, &p.siblings) {
        return Err(StepError::BadProof {
            what,
            index: p.index,
        });
    }
    Ok(())
}

/// Checks that `proofs` are exactly the leaves `indices` (ascending, distinct) of the tree.
pub(crate) fn check_leaves(
    what: &'static str,
    root: &Hash,
    depth: usize,
    indices: &[u64],
    proofs: &[LeafProof],
) -> Result<(), StepError> {
    if proofs.len() != indices.len() {
        return Err(StepError::ProofCount {
            what,
            expected: indices.len(),
            got: proofs.len(),
        });
    }
    for (&i, p) in indices.iter().zip(proofs) {
        check_leaf(what, root, depth, i, p)?;
    }
    Ok(())
}

/// The distinct values of `lo..=hi` (at most two here), ascending.
fn span(lo: u64, hi: u64) -> Vec<u64> {
    (lo..=hi).collect()
}

/// The root after replacing the leaves of `proofs` (one or two, distinct indices, each already
/// verified against the same root) by `new_leaves`. For two, the second path's sibling at the
/// level where the two paths meet is the first path's new node there.
pub(crate) fn root_after(depth: usize, proofs: &[LeafProof], new_leaves: &[Hash]) -> Hash {
    let climb = |index: u64, leaf: Hash, siblings: &[Hash], mut at: Vec<Hash>| {
        let mut h = leaf;
        for (k, s) in siblings.iter().enumerate() {
            at.push(h);
            h = if index >> k & 1 == 1 {
                node(s, &h)
            } else {
                node(&h, s)
            };
        }
        at.push(h);
        at
    };
    let (Some(first), Some(&new_first)) = (proofs.first(), new_leaves.first()) else {
        return [0; 32];
    };
    let path = climb(first.index, new_first, &first.siblings, Vec::new());
    match (proofs.get(1), new_leaves.get(1)) {
        (Some(second), Some(&new_second)) => {
            // The level at which the two nodes are siblings: the highest bit that differs.
            let diff = first.index ^ second.index;
            let meet = (63 - diff.leading_zeros()) as usize;
            let mut siblings = second.siblings.clone();
            if let (Some(s), Some(&n)) = (siblings.get_mut(meet), path.get(meet)) {
                *s = n;
            }
            climb(second.index, new_second, &siblings, Vec::new())
                .last()
                .copied()
                .unwrap_or([0; 32])
        }
        _ => path.get(depth).copied().unwrap_or([0; 32]),
    }
}

fn sext(v: u32, bits: u32) -> u32 {
    let shift = 32 - bits;
    (((v << shift) as i32) >> shift) as u32
}

/// Executes one step (see the module documentation). `proof.header` must be `pre`'s encoding.
pub fn step(pre: &Header, proof: &StepProof) -> Result<StepResult, StepError> {
    if proof.header != pre.encode() {
        return Err(StepError::HeaderMismatch);
    }
    match pre.status {
        Status::Running if pre.steps < pre.max_steps => {}
        Status::Running | Status::StepLimit => {
            return Err(StepError::StepLimit {
                steps: pre.steps,
                max_steps: pre.max_steps,
            })
        }
        s => return Err(StepError::Finished(s)),
    }
    let pc = pre.pc;
    if pc & 3 != 0 {
        return Err(StepError::MisalignedPc(pc));
    }
    let page = pc >> PAGE_BITS;
    check_leaf(
        "fetch page",
        &pre.page_table_root,
        PAGE_TABLE_DEPTH,
        u64::from(page) / LEAF_BYTES,
        &proof.fetch_page,
    )?;
    check_leaf(
        "fetch",
        &pre.memory_root,
        MEMORY_DEPTH,
        u64::from(pc) / LEAF_BYTES,
        &proof.fetch,
    )?;
    let at = (pc % 32) as usize;
    let word = u32::from_le_bytes([
        proof.fetch.leaf[at],
        proof.fetch.leaf[at + 1],
        proof.fetch.leaf[at + 2],
        proof.fetch.leaf[at + 3],
    ]);
    let exec = proof.fetch_page.leaf[(page % 32) as usize] & EXECUTABLE != 0;
    let mut post = pre.clone();
    let outcome = if !exec {
        no_data(proof)?;
        Outcome::Trap(TrapKind::FetchFault, 0)
    } else {
        execute(pre, proof, word, &mut post)?
    };
    let chunk = match outcome {
        Outcome::Exit { chunk, status } => {
            post.pc = chunk.next_pc;
            post.steps = pre.steps + 1;
            post.status = Status::Exited;
            post.status_value = status;
            Some(chunk.encode())
        }
        Outcome::Retire { rd, chunk } => {
            if rd != 0 {
                post.regs[rd] = chunk.rd_val;
            }
            post.pc = chunk.next_pc;
            post.steps = pre.steps + 1;
            if post.steps >= post.max_steps {
                post.status = Status::StepLimit;
            }
            Some(chunk.encode())
        }
        Outcome::Trap(kind, value) => {
            post.status = Status::Trapped;
            post.trap_kind = kind;
            post.status_value = value;
            post.trap_pc = pc;
            post.trap_word = word;
            None
        }
    };
    Ok(StepResult {
        post_commitment: post.commitment(),
        post,
        chunk,
    })
}

fn no_data(proof: &StepProof) -> Result<(), StepError> {
    check_leaves("data", &[0; 32], MEMORY_DEPTH, &[], &proof.data)?;
    check_leaves(
        "data page",
        &[0; 32],
        PAGE_TABLE_DEPTH,
        &[],
        &proof.data_pages,
    )?;
    no_syscall_leaves(proof)
}

/// Only an `ecall` reads input leaves or a page's subtree root.
fn no_syscall_leaves(proof: &StepProof) -> Result<(), StepError> {
    check_leaves("input", &[0; 32], 0, &[], &proof.input)?;
    check_leaves("page memory", &[0; 32], 0, &[], &proof.page_memory)
}

/// Decodes and executes `word` at `pre.pc` from an executable page; a store also updates
/// `post`'s memory, page table and resident count.
fn execute(
    pre: &Header,
    proof: &StepProof,
    word: u32,
    post: &mut Header,
) -> Result<Outcome, StepError> {
    let pc = pre.pc;
    let reg = |r: u32| pre.regs[(r & 31) as usize];
    let rd = ((word >> 7) & 31) as usize;
    let (rs1, rs2) = ((word >> 15) & 31, (word >> 20) & 31);
    let f3 = (word >> 12) & 7;
    let f7 = word >> 25;
    let Imm {
        i: imm_i,
        s: imm_s,
        b: imm_b,
        u: imm_u,
        j: imm_j,
    } = Imm::of(word);
    let seq = pc.wrapping_add(4);
    let mut chunk = Step {
        pc,
        insn: word,
        next_pc: seq,
        ..Step::default()
    };
    let illegal = Outcome::Trap(TrapKind::IllegalInstruction, 0);
    let (a, b) = (reg(rs1), reg(rs2));
    // The outcome of a jump or taken branch to `t`, with `link` for rd.
    let jump = |mut chunk: Step, t: u32, link: Option<u32>| {
        if t & 3 != 0 {
            return Outcome::Trap(TrapKind::MisalignedJump, t);
        }
        chunk.next_pc = t;
        chunk.rd_val = link.unwrap_or(0);
        Outcome::Retire {
            rd: if link.is_some() { rd } else { 0 },
            chunk,
        }
    };
    let alu = |mut chunk: Step, v: u32| {
        chunk.rd_val = v;
        Outcome::Retire { rd, chunk }
    };
    let opcode = word & 0x7f;
    // Loads and stores go through `access`, which checks the data proofs, and an `ecall`
    // through `syscall::ecall`, which checks its own; every other arm requires that there are
    // none.
    if word != ECALL {
        no_syscall_leaves(proof)?;
    }
    if !matches!(opcode, 0x03 | 0x23) && word != ECALL {
        no_data(proof)?;
    }
    Ok(match opcode {
        0x37 => alu(chunk, imm_u),
        0x17 => alu(chunk, pc.wrapping_add(imm_u)),
        0x6f => jump(chunk, pc.wrapping_add(imm_j), Some(seq)),
        0x67 if f3 == 0 => {
            chunk.rs1_val = a;
            jump(chunk, a.wrapping_add(imm_i) & !1, Some(seq))
        }
        0x63 => {
            let Some(taken) = branch_taken(f3, a, b) else {
                return Ok(illegal);
            };
            chunk.rs1_val = a;
            chunk.rs2_val = b;
            if taken {
                jump(chunk, pc.wrapping_add(imm_b), None)
            } else {
                Outcome::Retire { rd: 0, chunk }
            }
        }
        0x03 => load(pre, proof, post, chunk, [f3, a, imm_i], rd)?,
        0x23 => store(pre, proof, post, chunk, [f3, a, b, imm_s])?,
        0x13 => {
            chunk.rs1_val = a;
            match op_imm(f3, f7, a, imm_i, (word >> 20) & 31) {
                Some(v) => alu(chunk, v),
                None => illegal,
            }
        }
        0x33 => {
            chunk.rs1_val = a;
            chunk.rs2_val = b;
            match op_reg(f7, f3, a, b) {
                Some(v) => alu(chunk, v),
                None => illegal,
            }
        }
        // FENCE and FENCE.I: nothing, whatever the other fields; recorded with no operands.
        0x0f if f3 <= 1 => Outcome::Retire { rd: 0, chunk },
        0x73 if word == ECALL => crate::syscall::ecall(pre, proof, post, chunk)?,
        0x73 if word == 0x0010_0073 => Outcome::Trap(TrapKind::Breakpoint, 0),
        _ => illegal,
    })
}

/// The immediates of every format, sign-extended (SPEC 1.1: the RV32I encodings).
struct Imm {
    i: u32,
    s: u32,
    b: u32,
    u: u32,
    j: u32,
}

impl Imm {
    fn of(word: u32) -> Imm {
        let f7 = word >> 25;
        Imm {
            i: sext(word >> 20, 12),
            s: sext((f7 << 5) | ((word >> 7) & 31), 12),
            b: sext(
                ((word >> 31) << 12)
                    | (((word >> 7) & 1) << 11)
                    | (((word >> 25) & 0x3f) << 5)
                    | (((word >> 8) & 0xf) << 1),
                13,
            ),
            u: word & 0xffff_f000,
            j: sext(
                ((word >> 31) << 20)
                    | (((word >> 12) & 0xff) << 12)
                    | (((word >> 20) & 1) << 11)
                    | (((word >> 21) & 0x3ff) << 1),
                21,
            ),
        }
    }
}

/// Whether a branch with `funct3` is taken; `None` for an encoding that is not a branch.
fn branch_taken(f3: u32, a: u32, b: u32) -> Option<bool> {
    Some(match f3 {
        0 => a == b,
        1 => a != b,
        4 => (a as i32) < (b as i32),
        5 => (a as i32) >= (b as i32),
        6 => a < b,
        7 => a >= b,
        _ => return None,
    })
}

/// The result of an OP-IMM instruction; `None` for an illegal encoding.
fn op_imm(f3: u32, f7: u32, a: u32, imm: u32, shamt: u32) -> Option<u32> {
    Some(match (f3, f7) {
        (0, _) => a.wrapping_add(imm),
        (2, _) => u32::from((a as i32) < (imm as i32)),
        (3, _) => u32::from(a < imm),
        (4, _) => a ^ imm,
        (6, _) => a | imm,
        (7, _) => a & imm,
        (1, 0) => a << shamt,
        (5, 0) => a >> shamt,
        (5, 0x20) => ((a as i32) >> shamt) as u32,
        _ => return None,
    })
}

/// The result of an OP instruction (RV32I and the M extension, with RISC-V's results for a
/// division by zero and the one overflowing division); `None` for an illegal encoding.
fn op_reg(f7: u32, f3: u32, a: u32, b: u32) -> Option<u32> {
    let (sa, sb) = (a as i32, b as i32);
    let wide = |x: i64, y: i64| ((x * y) >> 32) as u32;
    let v = match (f7, f3) {
        (0, 0) => a.wrapping_add(b),
        (0x20, 0) => a.wrapping_sub(b),
        (0, 1) => a << (b & 31),
        (0, 2) => u32::from(sa < sb),
        (0, 3) => u32::from(a < b),
        (0, 4) => a ^ b,
        (0, 5) => a >> (b & 31),
        (0x20, 5) => (sa >> (b & 31)) as u32,
        (0, 6) => a | b,
        (0, 7) => a & b,
        (1, 0) => a.wrapping_mul(b),
        (1, 1) => wide(i64::from(sa), i64::from(sb)),
        (1, 2) => wide(i64::from(sa), i64::from(b)),
        (1, 3) => ((u64::from(a) * u64::from(b)) >> 32) as u32,
        (1, 4) if b == 0 => u32::MAX,
        (1, 4) => sa.wrapping_div(sb) as u32,
        (1, 5) => a.checked_div(b).unwrap_or(u32::MAX),
        (1, 6) if b == 0 => a,
        (1, 6) => sa.wrapping_rem(sb) as u32,
        (1, 7) => a.checked_rem(b).unwrap_or(a),
        _ => return None,
    };
    Some(v)
}

/// A load: `f3`, the base register's value `a` and the immediate; `rd` gets the value.
fn load(
    pre: &Header,
    proof: &StepProof,
    post: &mut Header,
    mut chunk: Step,
    [f3, a, imm]: [u32; 3],
    rd: usize,
) -> Result<Outcome, StepError> {
    let (len, signed) = match f3 {
        0 => (1, true),
        1 => (2, true),
        2 => (4, false),
        4 => (1, false),
        5 => (2, false),
        _ => {
            no_data(proof)?;
            return Ok(Outcome::Trap(TrapKind::IllegalInstruction, 0));
        }
    };
    let addr = a.wrapping_add(imm);
    chunk.rs1_val = a;
    Ok(
        match access(
            pre,
            proof,
            post,
            Access {
                addr,
                len,
                store: None,
            },
        )? {
            Err(trap) => trap,
            Ok(raw) => {
                chunk.mem_addr = addr;
                chunk.mem_val = raw;
                let v = if signed { sext(raw, 8 * len) } else { raw };
                chunk.rd_val = v;
                Outcome::Retire { rd, chunk }
            }
        },
    )
}

/// A store: `f3`, the base register's value `a`, the stored register's value `b` and the
/// immediate.
fn store(
    pre: &Header,
    proof: &StepProof,
    post: &mut Header,
    mut chunk: Step,
    [f3, a, b, imm]: [u32; 4],
) -> Result<Outcome, StepError> {
    let (len, mask) = match f3 {
        0 => (1, 0xff),
        1 => (2, 0xffff),
        2 => (4, u32::MAX),
        _ => {
            no_data(proof)?;
            return Ok(Outcome::Trap(TrapKind::IllegalInstruction, 0));
        }
    };
    let addr = a.wrapping_add(imm);
    chunk.rs1_val = a;
    chunk.rs2_val = b;
    let store = Some(b & mask);
    Ok(
        match access(pre, proof, post, Access { addr, len, store })? {
            Err(trap) => trap,
            Ok(_) => {
                chunk.mem_addr = addr;
                chunk.mem_val = b & mask;
                Outcome::Retire { rd: 0, chunk }
            }
        },
    )
}

/// Checks the data proofs of `acc` and performs it: `Ok(Ok(raw value))` (a load's bytes, a
/// store's written value), or `Ok(Err(trap))` when it faults. A store updates `post`.
fn access(
    pre: &Header,
    proof: &StepProof,
    post: &mut Header,
    acc: Access,
) -> Result<Result<u32, Outcome>, StepError> {
    let Access { addr, len, store } = acc;
    let fault = |kind: TrapKind| Ok(Err(Outcome::Trap(kind, addr)));
    let kind = if store.is_some() {
        TrapKind::StoreFault
    } else {
        TrapKind::LoadFault
    };
    let end = u64::from(addr) + u64::from(len);
    if end > 1 << 32 {
        no_data(proof)?;
        return fault(kind);
    }
    let last = end - 1;
    let leaves = span(u64::from(addr) / LEAF_BYTES, last / LEAF_BYTES);
    let pages = span(u64::from(addr) >> PAGE_BITS, last >> PAGE_BITS);
    let table_leaves = {
        let mut t: Vec<u64> = pages.iter().map(|p| p / LEAF_BYTES).collect();
        t.dedup();
        t
    };
    check_leaves("data", &pre.memory_root, MEMORY_DEPTH, &leaves, &proof.data)?;
    check_leaves(
        "data page",
        &pre.page_table_root,
        PAGE_TABLE_DEPTH,
        &table_leaves,
        &proof.data_pages,
    )?;
    // The table byte of page `p` (one of `pages`).
    let table_byte = |p: u64| {
        proof
            .data_pages
            .iter()
            .find(|t| t.index == p / LEAF_BYTES)
            .map_or(0, |t| t.leaf[(p % LEAF_BYTES) as usize])
    };
    let need = if store.is_some() {
        MAPPED | WRITABLE
    } else {
        MAPPED
    };
    if pages.iter().any(|&p| table_byte(p) & need != need) {
        return fault(kind);
    }
    // Byte `addr + i` is byte `(addr + i) % 32` of leaf `(addr + i) / 32`.
    let locate = |i: u32| {
        let a = u64::from(addr) + u64::from(i);
        (
            usize::from(a / LEAF_BYTES != leaves[0]),
            (a % LEAF_BYTES) as usize,
        )
    };
    let Some(value) = store else {
        let mut raw = 0u32;
        for i in 0..len {
            let (which, at) = locate(i);
            raw |= u32::from(proof.data[which].leaf[at]) << (8 * i);
        }
        return Ok(Ok(raw));
    };
    let fresh: Vec<u64> = pages
        .iter()
        .copied()
        .filter(|&p| table_byte(p) & RESIDENT == 0)
        .collect();
    let room = MAX_RESIDENT_PAGES.saturating_sub(pre.resident_pages);
    if fresh.len() as u32 > room {
        return fault(TrapKind::MemoryLimit);
    }
    let mut new_leaves: Vec<Hash> = proof.data.iter().map(|p| p.leaf).collect();
    for i in 0..len {
        let (which, at) = locate(i);
        new_leaves[which][at] = (value >> (8 * i)) as u8;
    }
    post.memory_root = root_after(MEMORY_DEPTH, &proof.data, &new_leaves);
    if !fresh.is_empty() {
        let mut new_table: Vec<Hash> = proof.data_pages.iter().map(|p| p.leaf).collect();
        for &p in &fresh {
            for (t, leaf) in proof.data_pages.iter().zip(&mut new_table) {
                if t.index == p / LEAF_BYTES {
                    leaf[(p % LEAF_BYTES) as usize] |= RESIDENT;
                }
            }
        }
        post.page_table_root = root_after(PAGE_TABLE_DEPTH, &proof.data_pages, &new_table);
        post.resident_pages = pre.resident_pages + fresh.len() as u32;
    }
    Ok(Ok(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::zero_hashes;

    /// A full tree of depth `d` over `leaves`: every level, bottom first.
    fn levels(leaves: &[Hash]) -> Vec<Vec<Hash>> {
        let mut out = vec![leaves.to_vec()];
        while out.last().map_or(0, Vec::len) > 1 {
            let up = out
                .last()
                .map(|l| l.chunks(2).map(|p| node(&p[0], &p[1])).collect())
                .unwrap_or_default();
            out.push(up);
        }
        out
    }

    fn proof_of(levels: &[Vec<Hash>], index: u64) -> LeafProof {
        let siblings = (0..levels.len() - 1)
            .map(|k| levels[k][((index >> k) ^ 1) as usize])
            .collect();
        LeafProof {
            index,
            leaf: levels[0][index as usize],
            siblings,
        }
    }

    #[test]
    fn root_after_updates_one_or_two_leaves_of_any_pair() {
        let leaves: Vec<Hash> = (0..16u8).map(|i| [i.wrapping_mul(37) ^ 5; 32]).collect();
        let before = levels(&leaves);
        for i in 0..16u64 {
            for j in i..16u64 {
                let mut after = leaves.clone();
                after[i as usize] = [0xaa; 32];
                after[j as usize][3] ^= 0x11;
                let want = levels(&after).last().unwrap()[0];
                let (pi, pj) = (proof_of(&before, i), proof_of(&before, j));
                let got = if i == j {
                    root_after(4, &[pi], &[after[i as usize]])
                } else {
                    root_after(4, &[pi, pj], &[after[i as usize], after[j as usize]])
                };
                assert_eq!(got, want, "leaves {i} and {j}");
            }
        }
        assert_eq!(zero_hashes()[4], levels(&[[0; 32]; 16]).last().unwrap()[0]);
    }
}
