//! One `ecall` checked and executed against a pre-state header (SPEC 1.4 and 1.7), written
//! from the specification alone like the rest of this crate.
//!
//! Every call is bounded so that its proof is: `read` and `write` move at most the bytes from
//! the buffer to the end of its 32-byte leaf (one memory leaf, one page table leaf, and for
//! `read` the one or two input leaves it copies), and `brk` maps or unmaps at most one page
//! (that page's table leaf and, to unmap it, its subtree root). Which leaves a call needs is
//! decided by the pre-state's registers, descriptors, output counts, break and input position
//! alone; [`needs`] computes it and the verifier refuses any other set.

use crate::header::{Header, TrapKind};
use crate::merkle::{zero_hashes, Hash, INPUT_DEPTH, LEAF_BYTES, MEMORY_DEPTH, PAGE_TABLE_DEPTH};
use crate::step::{
    check_leaves, root_after, Outcome, Step, StepError, StepProof, MAPPED, MAX_RESIDENT_PAGES,
    PAGE_BITS, RESIDENT, WRITABLE,
};
use sha3::{Digest, Keccak256};

const SYS_CLOSE: u32 = 57;
const SYS_READ: u32 = 63;
const SYS_WRITE: u32 = 64;
const SYS_EXIT: u32 = 93;
const SYS_EXIT_GROUP: u32 = 94;
const SYS_BRK: u32 = 214;
const EBADF: u32 = 9u32.wrapping_neg();
const EFAULT: u32 = 14u32.wrapping_neg();
const ENOSYS: u32 = 38u32.wrapping_neg();
/// The most bytes a job writes to each of stdout and stderr (SPEC 1.4).
const MAX_OUTPUT: u64 = 1 << 22;
/// `brk` moves the break within `[initial break, BRK_MAX]` (SPEC 1.4).
const BRK_MAX: u64 = 0x7000_0000;
const PAGE: u64 = 1 << PAGE_BITS;
/// A page is the subtree of height 7 under node `page` at level 7 of the memory tree; its
/// path to the memory root has 20 siblings.
const PAGE_HEIGHT: usize = 7;
const ABOVE_PAGE: usize = MEMORY_DEPTH - PAGE_HEIGHT;
/// Inputs longer than this are committed flat (SPEC 1.6): no `read` can be proven from them.
const MAX_TREE_INPUT: u64 = 1 << 32;

/// The leaves an `ecall` from `pre` reads besides its fetch (SPEC 1.7).
#[derive(Default, Debug, PartialEq, Eq)]
struct Needs {
    /// Memory bytes `[addr, addr + n)` inside one leaf, `n > 0`: that leaf and its page's
    /// table leaf.
    bytes: Option<(u32, u32)>,
    /// Input bytes `[pos, pos + n)`, `n > 0`, that a `read` copies.
    input: Option<(u64, u64)>,
    /// The heap page `brk` maps (`false`) or unmaps (`true`).
    brk_page: Option<(u64, bool)>,
}

fn fd_open(pre: &Header, fd: u32) -> bool {
    fd < 3 && pre.open_fds & (1 << fd) != 0
}

/// `min(len, 32 - buf mod 32)`: the bytes a `read` or `write` moves at most.
fn io_span(buf: u32, len: u32) -> u32 {
    len.min(32 - buf % 32)
}

/// The room left in the stream of `fd` (1 or 2) before the output limit.
fn output_room(pre: &Header, fd: u32) -> u64 {
    let written = if fd == 1 {
        pre.stdout_len
    } else {
        pre.stderr_len
    };
    MAX_OUTPUT.saturating_sub(written)
}

fn page_up(x: u64) -> u64 {
    x.div_ceil(PAGE).saturating_mul(PAGE)
}

/// The break after `brk(want)` from `brk`, `want` valid: `want` when its page top is at most
/// one page from the current top, else one page towards it.
fn brk_after(brk: u64, want: u64) -> u64 {
    let (old_top, new_top) = (page_up(brk), page_up(want));
    if new_top > old_top.saturating_add(PAGE) {
        old_top.saturating_add(PAGE)
    } else if new_top.saturating_add(PAGE) < old_top {
        old_top.saturating_sub(PAGE)
    } else {
        want
    }
}

fn brk_valid(pre: &Header, want: u64) -> bool {
    want >= pre.brk_start && want <= BRK_MAX
}

fn needs(pre: &Header) -> Needs {
    let [a0, a1, a2] = [pre.regs[10], pre.regs[11], pre.regs[12]];
    let mut needs = Needs::default();
    match pre.regs[17] {
        SYS_READ if a0 == 0 && fd_open(pre, 0) => {
            let n = io_span(a1, a2);
            if n > 0 {
                needs.bytes = Some((a1, n));
                let copied = pre
                    .input_len
                    .saturating_sub(pre.input_pos)
                    .min(u64::from(n));
                if copied > 0 {
                    needs.input = Some((pre.input_pos, copied));
                }
            }
        }
        SYS_WRITE if (a0 == 1 || a0 == 2) && fd_open(pre, a0) => {
            let n = u64::from(io_span(a1, a2)).min(output_room(pre, a0));
            if n > 0 {
                needs.bytes = Some((a1, n as u32));
            }
        }
        SYS_BRK if brk_valid(pre, u64::from(a0)) => {
            let (old_top, new_top) = (page_up(pre.brk), page_up(brk_after(pre.brk, u64::from(a0))));
            if new_top > old_top {
                needs.brk_page = Some((old_top / PAGE, false));
            } else if new_top < old_top {
                needs.brk_page = Some((new_top / PAGE, true));
            }
        }
        _ => {}
    }
    needs
}

/// Checks that the proof holds exactly the leaves `needs` names, each against its root.
fn check_needs(pre: &Header, proof: &StepProof, needs: &Needs) -> Result<(), StepError> {
    let (data, pages): (Vec<u64>, Vec<u64>) = match needs.bytes {
        Some((addr, _)) => (
            vec![u64::from(addr) / LEAF_BYTES],
            vec![(u64::from(addr) >> PAGE_BITS) / LEAF_BYTES],
        ),
        None => match needs.brk_page {
            Some((page, _)) => (Vec::new(), vec![page / LEAF_BYTES]),
            None => (Vec::new(), Vec::new()),
        },
    };
    check_leaves("data", &pre.memory_root, MEMORY_DEPTH, &data, &proof.data)?;
    check_leaves(
        "data page",
        &pre.page_table_root,
        PAGE_TABLE_DEPTH,
        &pages,
        &proof.data_pages,
    )?;
    let input: Vec<u64> = match needs.input {
        Some(_) if pre.input_len > MAX_TREE_INPUT => return Err(StepError::FlatInput),
        Some((pos, n)) => (pos / LEAF_BYTES..=(pos + n - 1) / LEAF_BYTES).collect(),
        None => Vec::new(),
    };
    check_leaves("input", &pre.input_root, INPUT_DEPTH, &input, &proof.input)?;
    let unmapped: Vec<u64> = match needs.brk_page {
        Some((page, true)) => vec![page],
        _ => Vec::new(),
    };
    check_leaves(
        "page memory",
        &pre.memory_root,
        ABOVE_PAGE,
        &unmapped,
        &proof.page_memory,
    )
}

/// Executes the `ecall` at `pre.pc` (its chunk's pc, word and next pc already in `chunk`).
pub(crate) fn ecall(
    pre: &Header,
    proof: &StepProof,
    post: &mut Header,
    mut chunk: Step,
) -> Result<Outcome, StepError> {
    let [a0, a1, a2] = [pre.regs[10], pre.regs[11], pre.regs[12]];
    let a7 = pre.regs[17];
    chunk.rs1_val = a7;
    chunk.rs2_val = a0;
    chunk.mem_addr = a1;
    chunk.mem_val = a2;
    let needs = needs(pre);
    check_needs(pre, proof, &needs)?;
    let ret = match a7 {
        SYS_EXIT | SYS_EXIT_GROUP => {
            chunk.rd_val = a0;
            return Ok(Outcome::Exit { chunk, status: a0 });
        }
        SYS_READ if needs.bytes.is_none() => {
            if a0 == 0 && fd_open(pre, 0) {
                0
            } else {
                EBADF
            }
        }
        SYS_READ => match read(pre, proof, post, &needs) {
            Ok(n) => n,
            Err(trap) => return Ok(trap),
        },
        SYS_WRITE if (a0 == 1 || a0 == 2) && fd_open(pre, a0) => {
            if output_room(pre, a0) == 0 && a2 > 0 {
                return Ok(Outcome::Trap(TrapKind::OutputLimit, 0));
            }
            write(proof, post, a0, &needs)
        }
        SYS_WRITE => EBADF,
        SYS_CLOSE if fd_open(pre, a0) => {
            post.open_fds &= !(1u8 << a0);
            0
        }
        SYS_CLOSE => EBADF,
        SYS_BRK => brk(pre, proof, post, &needs)? as u32,
        _ => ENOSYS,
    };
    chunk.rd_val = ret;
    Ok(Outcome::Retire { rd: 10, chunk })
}

/// A `read` of `n > 0` bytes into one leaf: `Ok(count)`, or `Err` with the memory-limit trap.
fn read(pre: &Header, proof: &StepProof, post: &mut Header, needs: &Needs) -> Result<u32, Outcome> {
    let (Some((addr, _)), Some(leaf), Some(table)) =
        (needs.bytes, proof.data.first(), proof.data_pages.first())
    else {
        return Ok(0);
    };
    let page = u64::from(addr) >> PAGE_BITS;
    let byte = table.leaf[(page % LEAF_BYTES) as usize];
    if byte & (MAPPED | WRITABLE) != MAPPED | WRITABLE {
        return Ok(EFAULT);
    }
    let Some((pos, copied)) = needs.input else {
        return Ok(0);
    };
    let fresh = byte & RESIDENT == 0;
    if fresh && pre.resident_pages >= MAX_RESIDENT_PAGES {
        return Err(Outcome::Trap(TrapKind::MemoryLimit, addr));
    }
    let mut new_leaf = leaf.leaf;
    let first = proof.input.first().map_or(0, |p| p.index);
    for i in 0..copied {
        let o = pos + i;
        let src = proof
            .input
            .get(usize::from(o / LEAF_BYTES != first))
            .map_or(0, |p| p.leaf[(o % LEAF_BYTES) as usize]);
        new_leaf[(u64::from(addr % 32) + i) as usize] = src;
    }
    post.memory_root = root_after(MEMORY_DEPTH, &proof.data, &[new_leaf]);
    if fresh {
        let mut new_table = table.leaf;
        new_table[(page % LEAF_BYTES) as usize] |= RESIDENT;
        post.page_table_root = root_after(PAGE_TABLE_DEPTH, &proof.data_pages, &[new_table]);
        post.resident_pages = pre.resident_pages + 1;
    }
    post.input_pos = pos + copied;
    Ok(copied as u32)
}

/// A `write` to the open stream `fd`, its output-limit trap already ruled out.
fn write(proof: &StepProof, post: &mut Header, fd: u32, needs: &Needs) -> u32 {
    let (Some((addr, n)), Some(leaf), Some(table)) =
        (needs.bytes, proof.data.first(), proof.data_pages.first())
    else {
        return 0;
    };
    let page = u64::from(addr) >> PAGE_BITS;
    if table.leaf[(page % LEAF_BYTES) as usize] & MAPPED == 0 {
        return EFAULT;
    }
    let from = (addr % 32) as usize;
    let bytes = leaf.leaf.get(from..from + n as usize).unwrap_or_default();
    let (len, acc) = if fd == 1 {
        (&mut post.stdout_len, &mut post.stdout_acc)
    } else {
        (&mut post.stderr_len, &mut post.stderr_acc)
    };
    let mut h = Keccak256::new();
    h.update(*acc);
    h.update(bytes);
    *acc = h.finalize().into();
    *len = len.saturating_add(u64::from(n));
    n
}

/// A `brk`: the new break (mod 2^32), mapping or unmapping the page `needs` names.
fn brk(
    pre: &Header,
    proof: &StepProof,
    post: &mut Header,
    needs: &Needs,
) -> Result<u64, StepError> {
    let want = u64::from(pre.regs[10]);
    if !brk_valid(pre, want) {
        return Ok(pre.brk & 0xffff_ffff);
    }
    post.brk = brk_after(pre.brk, want);
    if let (Some((page, unmaps)), Some(table)) = (needs.brk_page, proof.data_pages.first()) {
        let at = (page % LEAF_BYTES) as usize;
        let mut new_table = table.leaf;
        if unmaps {
            new_table[at] = 0;
            if table.leaf[at] & RESIDENT != 0 {
                post.resident_pages = pre.resident_pages.saturating_sub(1);
            }
            let zero: Hash = zero_hashes()[PAGE_HEIGHT];
            post.memory_root = root_after(ABOVE_PAGE, &proof.page_memory, &[zero]);
        } else {
            new_table[at] |= MAPPED | WRITABLE;
        }
        post.page_table_root = root_after(PAGE_TABLE_DEPTH, &proof.data_pages, &[new_table]);
    }
    Ok(post.brk & 0xffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_moves_at_most_to_the_end_of_the_leaf() {
        assert_eq!(io_span(0x1000, 100), 32);
        assert_eq!(io_span(0x1005, 100), 27);
        assert_eq!(io_span(0x101f, 100), 1);
        assert_eq!(io_span(0x1005, 3), 3);
        assert_eq!(io_span(u32::MAX, 9), 1);
        assert_eq!(io_span(0x1000, 0), 0);
    }

    #[test]
    fn brk_moves_at_most_one_page() {
        assert_eq!(brk_after(0x5000, 0x9000), 0x6000);
        assert_eq!(brk_after(0x5000, 0x5800), 0x5800);
        assert_eq!(brk_after(0x5000, 0x6000), 0x6000);
        assert_eq!(brk_after(0x5800, 0x6001), 0x6001);
        assert_eq!(brk_after(0x9000, 0x5000), 0x8000);
        assert_eq!(brk_after(0x9000, 0x8000), 0x8000);
        assert_eq!(brk_after(0x8800, 0x7fff), 0x7fff);
        assert_eq!(brk_after(0x8800, 0x5000), 0x8000);
    }
}
