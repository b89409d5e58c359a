//! Merkle proofs against the VM state commitment (SPEC 1.6), produced by the VM
//! (`Vm::memory_proof`, `Vm::page_table_proof`, `Vm::input_proof`) and checked by
//! `poie-referee`, a verifier written from the specification alone:
//!
//! - the referee decodes the VM's header, re-encodes it to the same bytes, and its commitment
//!   is the VM's `state_commitment`;
//! - for small guests at every step, every memory proof of a set of addresses (resident
//!   pages, mapped pages that are not resident, unmapped pages, the top of the address
//!   space, the stack), every page-table proof of a set of pages, and input proofs verify
//!   against the decoded roots, and their leaves are the VM's bytes;
//! - every single tampered sibling, a tampered leaf, a wrong index and a truncated or
//!   extended path are rejected;
//! - `Header::decode` refuses every length but 394 and every unknown status or trap kind.

mod common;

use common::rv32::*;
use poie::trace::NoTrace;
use poie::vm::{StateCommitment, Vm, STACK_TOP};
use poie_referee::{verify_leaf, zero_hashes, DecodeError, Hash, Header, Status};
use std::time::Instant;

const T0: u32 = 5;
const T2: u32 = 7;
const S1: u32 = 9;
const SP: u32 = 2;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A7: u32 = 17;

/// Two bss pages, mapped, not resident at load.
const BSS: u32 = 0x3_0000;
/// The initial break: the end of the bss.
const BRK_START: u32 = BSS + 0x2000;
const MAX: u64 = 1000;

fn sb(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 0)
}

/// A guest that touches each kind of page in turn: a word of its data page, a bss page that
/// becomes resident, the stack, a heap page that `brk` maps and a store makes resident, input
/// read into the data page; then it exits.
fn toucher() -> Vec<u8> {
    let code = [
        vec![
            lui(T2, DATA),
            addi(T0, 0, 0x55),
            sw(T0, T2, 8),
            lui(S1, BSS),
            sb(T0, S1, 1),
            sw(T0, SP, -4),
        ],
        li(A0, BRK_START + 16),
        vec![addi(A7, 0, 214), ECALL],
        li(S1, BRK_START),
        vec![sb(T0, S1, 3)],
        vec![addi(A0, 0, 0)],
        li(A1, DATA + 64),
        vec![addi(A2, 0, 40), addi(A7, 0, 63), ECALL],
        vec![addi(A0, 0, 0)],
        exit(),
    ]
    .concat();
    let mut data = vec![0u8; 0x1000];
    data[..16].copy_from_slice(&(1..=16).collect::<Vec<u8>>());
    data[0xfe4] = 0x99;
    elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &code),
            Seg {
                vaddr: DATA,
                memsz: 0x1000,
                flags: PF_R | PF_W,
                bytes: data,
            },
            Seg::zero(BSS, 0x2000, PF_R | PF_W),
        ],
    )
}

/// The input of the toucher: 100 bytes, none zero.
fn input() -> Vec<u8> {
    (0..100u8).map(|i| i.wrapping_mul(7) | 1).collect()
}

/// The addresses whose memory proofs are checked in a state with stack pointer `sp`.
fn addresses(sp: u32) -> Vec<u32> {
    vec![
        // Text and data: resident.
        TEXT,
        TEXT + 4,
        TEXT + 31,
        TEXT + 32,
        DATA,
        DATA + 8,
        DATA + 64,
        DATA + 100,
        DATA + 0xfe4,
        DATA + 0xfff,
        // bss: mapped, resident from the fifth step (page BSS) or never (page BSS + 0x1000).
        BSS,
        BSS + 1,
        BSS + 0x1000,
        BSS + 0x1fff,
        // The heap, once brk maps it.
        BRK_START,
        BRK_START + 0x20,
        // The stack: the initial stack is resident, the rest mapped and not.
        sp,
        sp.wrapping_sub(4),
        sp.wrapping_sub(0x1000),
        STACK_TOP - 32,
        STACK_TOP - 1,
        STACK_TOP - (8 << 20),
        // Unmapped: low memory, between the segments and the stack, the top of the space.
        0,
        0x1000,
        0x4000_0000,
        STACK_TOP,
        0xffff_ffe0,
        0xffff_ffff,
    ]
}

fn pages(sp: u32) -> Vec<u32> {
    let mut p: Vec<u32> = addresses(sp).iter().map(|a| a >> 12).collect();
    p.extend([1, 31, 32, 33, 0x7ffe0, (1 << 20) - 32, (1 << 20) - 1]);
    p
}

fn input_offsets(len: u64) -> Vec<u64> {
    let mut o = vec![
        0,
        1,
        31,
        32,
        39,
        40,
        64,
        1 << 20,
        (1 << 32) - 32,
        (1 << 32) - 1,
    ];
    o.extend([len.saturating_sub(1), len, len + 31, len + 32]);
    o
}

/// The VM's header decoded by the referee, checked to re-encode to the same bytes and to
/// commit to the VM's commitment and the VM's roots.
fn decoded(vm: &Vm, job: u32, max_steps: u64) -> Header {
    let state: StateCommitment = vm.state(job, max_steps);
    let bytes = state.encode();
    let header = Header::decode(&bytes).expect("the VM's header decodes");
    assert_eq!(header.encode(), bytes, "re-encodes to the same bytes");
    assert_eq!(header.commitment(), vm.state_commitment(job, max_steps));
    assert_eq!(header.memory_root, state.memory_root);
    assert_eq!(header.page_table_root, state.page_table_root);
    assert_eq!(header.input_root, state.input_root);
    assert_eq!(header.regs, state.regs);
    assert_eq!(header.status as u8, state.status);
    assert_eq!(header.trap_kind as u8, state.trap_kind);
    header
}

/// Every way of breaking a valid proof is rejected: each sibling tampered alone, the leaf
/// tampered, the path one short or one long. A wrong index passes only where the leaf there
/// really is the same bytes (`leaf_at` says what it is), which the test also requires.
fn tampering_is_rejected(
    root: &Hash,
    depth: usize,
    index: u64,
    leaf: &Hash,
    siblings: &[Hash],
    leaf_at: impl Fn(u64) -> Hash,
) -> usize {
    assert!(verify_leaf(root, depth, index, leaf, siblings));
    for k in 0..siblings.len() {
        for bit in [0usize, 255] {
            let mut bad = siblings.to_vec();
            bad[k][bit / 8] ^= 1 << (bit % 8);
            assert!(!verify_leaf(root, depth, index, leaf, &bad), "sibling {k}");
        }
    }
    for bit in [0usize, 100, 255] {
        let mut bad = *leaf;
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(
            !verify_leaf(root, depth, index, &bad, siblings),
            "leaf bit {bit}"
        );
    }
    assert!(!verify_leaf(root, depth, index, leaf, &siblings[1..]));
    assert!(!verify_leaf(
        root,
        depth,
        index,
        leaf,
        &siblings[..siblings.len() - 1]
    ));
    let mut long = siblings.to_vec();
    long.push(zero_hashes()[depth]);
    assert!(!verify_leaf(root, depth, index, leaf, &long));
    long.insert(0, [0; 32]);
    assert!(!verify_leaf(root, depth, index, leaf, &long));
    assert!(!verify_leaf(
        root,
        depth,
        index | 1 << depth,
        leaf,
        siblings
    ));
    let mut rejected = 0;
    let last = (1u64 << depth) - 1;
    for wrong in [
        index ^ 1,
        index ^ 2,
        index ^ (1 << (depth - 1)),
        (index + 5) & last,
    ] {
        if verify_leaf(root, depth, wrong, leaf, siblings) {
            assert_eq!(leaf_at(wrong), *leaf, "index {wrong} passed for {index}");
        } else {
            rejected += 1;
        }
    }
    rejected
}

/// The bytes of memory leaf `index`, read through the VM's memory (zero where unmapped).
fn memory_leaf(vm: &Vm, index: u64) -> Hash {
    let addr = (index * 32) as u32;
    let bytes = vm.memory().read_bytes(addr, 32).unwrap_or(vec![0; 32]);
    bytes.try_into().expect("32 bytes")
}

/// Every memory, page-table and input proof of the sets above, in the VM's current state.
/// Returns how many wrong indices were rejected (the others were the same bytes).
fn check_all_proofs(vm: &Vm, resident: &[u32]) -> usize {
    let header = decoded(vm, 4, MAX);
    let mut rejected = 0;
    for addr in addresses(header.regs[SP as usize]) {
        let p = vm.memory_proof(addr);
        assert_eq!(p.index, u64::from(addr / 32));
        assert_eq!(p.siblings.len(), 27);
        assert_eq!(p.leaf, memory_leaf(vm, p.index), "the leaf of {addr:#x}");
        assert!(
            header.verify_memory(addr, &p.leaf, &p.siblings),
            "{addr:#x}"
        );
        rejected += tampering_is_rejected(
            &header.memory_root,
            27,
            p.index,
            &p.leaf,
            &p.siblings,
            |i| memory_leaf(vm, i),
        );
    }
    let table_leaf = |i: u64| {
        vm.page_table_proof(i as u32 * 32)
            .expect("a page table leaf")
            .leaf
    };
    for page in pages(header.regs[SP as usize]) {
        let p = vm.page_table_proof(page).expect("a page");
        assert_eq!((p.index, p.siblings.len()), (u64::from(page / 32), 15));
        let byte = p.leaf[(page % 32) as usize];
        let perms = vm.memory().perms(page << 12);
        assert_eq!(byte & 7, perms, "page {page:#x}'s permissions");
        if resident.contains(&page) {
            assert_eq!(byte & 8, 8, "page {page:#x} is resident");
        }
        assert!(header.verify_page_table(page, &p.leaf, &p.siblings));
        rejected += tampering_is_rejected(
            &header.page_table_root,
            15,
            p.index,
            &p.leaf,
            &p.siblings,
            table_leaf,
        );
    }
    assert!(vm.page_table_proof(1 << 20).is_none());
    assert!(vm.page_table_proof(u32::MAX).is_none());
    rejected + check_input_proofs(vm, &header)
}

fn check_input_proofs(vm: &Vm, header: &Header) -> usize {
    let input_leaf = |i: u64| vm.input_proof(i * 32).expect("in range").leaf;
    let mut rejected = 0;
    for offset in input_offsets(header.input_len) {
        let p = vm.input_proof(offset).expect("an offset below 2^32");
        assert_eq!((p.index, p.siblings.len()), (offset / 32, 27));
        assert!(
            header.verify_input(offset, &p.leaf, &p.siblings),
            "{offset}"
        );
        rejected += tampering_is_rejected(
            &header.input_root,
            27,
            p.index,
            &p.leaf,
            &p.siblings,
            input_leaf,
        );
    }
    assert!(vm.input_proof(1 << 32).is_none());
    assert!(vm.input_proof(u64::MAX).is_none());
    rejected
}

/// The toucher, checked before its first step and after each one: every proof of every
/// set, every tampering; its end is `exited`, and a state at the step limit decodes too.
#[test]
fn state_proofs_verify_at_every_step_of_a_guest() {
    let mut vm = Vm::new(&toucher(), input()).expect("loads");
    let text_data_stack = [TEXT >> 12, DATA >> 12, (STACK_TOP >> 12) - 1];
    let mut resident = text_data_stack.to_vec();
    let mut rejected = check_all_proofs(&vm, &resident);
    assert_eq!(decoded(&vm, 0, 0).status, Status::StepLimit);
    for step in 1..=40 {
        vm.run(&mut NoTrace, 1).expect("no sink error");
        if step == 5 {
            resident.push(BSS >> 12);
        }
        rejected += check_all_proofs(&vm, &resident);
        if decoded(&vm, 0, MAX).status == Status::Exited {
            break;
        }
    }
    let end = decoded(&vm, 0, MAX);
    assert_eq!(end.status, Status::Exited);
    // The read asked for 40 bytes at a leaf boundary: it moves one leaf's 32 (SPEC 1.4).
    assert_eq!(end.input_pos, 32);
    // The input landed in the data page, and its proof shows it.
    let p = vm.memory_proof(DATA + 64);
    assert_eq!(p.leaf[..], input()[..32]);
    // The heap page is resident and holds the stored byte.
    let heap = vm.memory_proof(BRK_START);
    assert_eq!(heap.leaf[3], 0x55);
    let table = vm.page_table_proof(BRK_START >> 12).expect("a page");
    assert_eq!(table.leaf[((BRK_START >> 12) % 32) as usize], 1 | 2 | 8);
    assert!(
        rejected > 1000,
        "most wrong indices are rejected: {rejected}"
    );
}

/// A trapped guest's header decodes with its trap kind, and its proofs verify.
#[test]
fn state_proofs_verify_after_a_trap() {
    let code = [li(T0, 4), vec![lw(T2, T0, 0)]].concat();
    let mut vm = Vm::new(&elf(&code, &[7; 64]), b"xyz".to_vec()).expect("loads");
    vm.run(&mut NoTrace, 10).expect("no sink error");
    let header = decoded(&vm, 9, 10);
    assert_eq!(header.status, Status::Trapped);
    assert_eq!(header.status_value, 4);
    let resident = [TEXT >> 12, DATA >> 12, (STACK_TOP >> 12) - 1];
    assert!(check_all_proofs(&vm, &resident) > 0);
}

/// Input proofs for inputs of several lengths (the empty one, one partial leaf, 100 KB),
/// straight after loading: the input tree is independent of the guest.
#[test]
fn state_input_proofs_verify_for_several_lengths() {
    let image = elf(&exit(), &[]);
    for len in [0usize, 1, 32, 33, 100_000] {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 253) as u8 + 1).collect();
        let vm = Vm::new(&image, bytes.clone()).expect("loads");
        let header = decoded(&vm, 0, MAX);
        // An empty input is all zero: every index holds the same leaf, so none is "wrong".
        let rejected = check_input_proofs(&vm, &header);
        assert_eq!(rejected > 0, len > 0, "{len} bytes");
        for offset in [0u64, 40, len as u64 / 2, len as u64] {
            let p = vm.input_proof(offset).expect("in range");
            let mut want = [0u8; 32];
            let start = (offset as usize / 32 * 32).min(len);
            let end = (start + 32).min(len);
            want[..end - start].copy_from_slice(&bytes[start..end]);
            assert_eq!(p.leaf, want, "{len} bytes, offset {offset}");
        }
    }
}

/// `Header::decode` takes only the VM's 394 bytes: every other length, a wrong domain,
/// every unknown status and trap kind are refused; known ones that agree round-trip.
#[test]
fn state_header_decode_refuses_bad_bytes() {
    let vm = Vm::new(&toucher(), input()).expect("loads");
    let bytes = vm.state(1, MAX).encode();
    assert_eq!(bytes.len(), 394);
    for len in 0..=2 * 394 {
        if len == 394 {
            continue;
        }
        let mut b = bytes.clone();
        b.resize(len, 0);
        assert_eq!(Header::decode(&b), Err(DecodeError::Length(len)));
    }
    // status at byte 251, trap kind at 252 (15 + 4 + 4 + 128 + 64 + 4 + 32).
    for status in 4..=255u8 {
        let mut b = bytes.clone();
        b[251] = status;
        assert_eq!(Header::decode(&b), Err(DecodeError::Status(status)));
    }
    for kind in 9..=255u8 {
        let mut b = bytes.clone();
        b[252] = kind;
        assert_eq!(Header::decode(&b), Err(DecodeError::TrapKind(kind)));
    }
    // A trap kind without a trap, and a trap without a kind.
    for (status, kind) in [(0u8, 3u8), (1, 1), (3, 8), (2, 0)] {
        let mut b = bytes.clone();
        b[251] = status;
        b[252] = kind;
        assert!(
            matches!(Header::decode(&b), Err(DecodeError::TrapMismatch { .. })),
            "status {status}, kind {kind}"
        );
    }
    for (status, kind) in [(2u8, 1u8), (2, 8), (1, 0), (3, 0)] {
        let mut b = bytes.clone();
        b[251] = status;
        b[252] = kind;
        let h = Header::decode(&b).expect("a known pair");
        assert_eq!(h.encode(), b);
    }
    for at in [0usize, 14] {
        let mut b = bytes.clone();
        b[at] ^= 0x20;
        assert_eq!(Header::decode(&b), Err(DecodeError::Domain));
    }
}

/// A proof costs about what the root does: timed with 1.75 GiB of heap mapped and untouched.
#[test]
fn state_proofs_are_cheap_when_memory_is_untouched() {
    // brk moves a page per call: loop until the break is at the top of the heap.
    let code = [
        li(T0, 0x7000_0000),
        vec![addi(A0, T0, 0), addi(A7, 0, 214), ECALL, b(-12, T0, A0, 1)],
        exit(),
    ]
    .concat();
    let mut vm = Vm::new(&elf(&code, &[]), Vec::new()).expect("loads");
    vm.run(&mut NoTrace, 2 + 4 * ((0x7000_0000 - 0x2_1000) / 4096))
        .expect("no sink error");
    let header = decoded(&vm, 0, MAX);
    let t = Instant::now();
    let p = vm.memory_proof(0x6000_0000);
    let q = vm.page_table_proof(0x6000_0000 >> 12).expect("a page");
    let took = t.elapsed();
    assert!(header.verify_memory(0x6000_0000, &p.leaf, &p.siblings));
    assert!(header.verify_page_table(0x6000_0000 >> 12, &q.leaf, &q.siblings));
    assert_eq!(q.leaf[0], 1 | 2, "mapped, writable, not resident");
    eprintln!("a memory and a page-table proof with 1.75 GiB mapped: {took:?}");
    assert!(took.as_secs_f64() < 1.0, "took {took:?}");
}
