//! The one-step verifier (`poie-referee`'s `step`, written from SPEC 1 alone) against the VM:
//! at every step of the built-in guests (small inputs, a step budget each), of seeded random
//! programs (ALU and M ops, loads and stores misaligned across leaves and pages, stores into
//! fresh pages, branches, jumps, fences, now and then a trap) and of hand-written programs for
//! each trap, the VM builds a step proof (`Vm::step_proof`), the referee verifies and executes
//! it, and its post-state header (so its commitment) and chunk must be the VM's, `ecall` steps
//! included (the system calls' own cases are in `one_step_syscalls`).
//! Tampered proofs (a sibling, a leaf, a proof of another leaf, a missing or extra leaf, a
//! header that is not the pre-state) are refused. `POIE_ONE_STEP_PROGRAMS=N` runs N random
//! programs instead of 150 (and N random system-call programs in `one_step_syscalls`).

mod common;

use common::one_step::{check_run, convert, leaf, referee_step, Tally, JOB, MAX};
use common::random_programs::instructions::random_program;
use common::rv32::*;
use poie::guests;
use poie::trace::VecSink;
use poie::vm::{StepProofParts, Vm};
use poie_referee::{Header, LeafProof, Status, StepError, StepProof, TrapKind};
use std::time::Instant;

#[test]
fn one_step_matches_the_vm_on_the_built_in_guests() {
    let t = Instant::now();
    let mut tally = Tally::default();
    let runs: [(&str, &[u8], u64); 5] = [
        ("hello", b"", 20_000),
        ("sort", b"100 7", 20_000),
        ("sieve", b"1000", 20_000),
        ("sha256", b"abc", 15_000),
        ("ledger", b"1 2 30\n2 3 5\n# c\n7 1 9\n", 20_000),
    ];
    for (name, input, budget) in runs {
        let g = guests::find(name).expect("a built-in guest");
        let mut vm = Vm::new(g.elf, input.to_vec()).expect("loads");
        let before = tally.verified;
        let end = check_run(&mut vm, MAX, budget, &mut tally);
        eprintln!(
            "{name}: {} steps verified, status {:?}",
            tally.verified - before,
            end.status
        );
    }
    eprintln!("guests: {tally:?} in {:?}", t.elapsed());
    assert!(tally.verified >= 50_000, "{tally:?}");
    // Each of those steps also went through the on-chain verifier (within its budget).
    #[cfg(feature = "evm")]
    assert!(
        common::evm::steps_checked() >= 50_000,
        "{} steps checked on-chain",
        common::evm::steps_checked()
    );
    assert!(tally.ecalls > 0 && tally.stores > 1000, "{tally:?}");
}

#[test]
fn one_step_matches_the_vm_on_random_programs() {
    let t = Instant::now();
    let mut tally = Tally::default();
    let programs = common::one_step::programs(150);
    for n in 0..programs {
        let image = random_program(0x5eed ^ n.wrapping_mul(0x9e37_79b9), 400, 2);
        let mut vm = Vm::new(&image, Vec::new()).expect("loads");
        check_run(&mut vm, MAX, 10_000, &mut tally);
    }
    eprintln!("random programs: {tally:?} in {:?}", t.elapsed());
    #[cfg(feature = "evm")]
    eprintln!("on-chain: {} steps so far", common::evm::steps_checked());
    assert!(tally.verified >= 30_000, "{tally:?}");
    assert!(tally.traps >= 10 && tally.two_leaf >= 100, "{tally:?}");
}

// ---- Hand-written programs ------------------------------------------------------------

/// Pages 0x3e and 0x3f (page-table leaf 1) hold file bytes; 0x40 (leaf 2) is bss, mapped and
/// not resident; 0x41 is read-only; 0x42 is writable and executable (self-modifying code).
const D2: u32 = 0x3_e000;
const FRESH: u32 = 0x4_0000;
const RO2: u32 = 0x4_1000;
const RWX: u32 = 0x4_2000;
/// Two bss pages (0x43, 0x44), mapped and not resident: a store across them makes both resident.
const FRESH2: u32 = 0x4_3000;
const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const T3: u32 = 28;

fn sh(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 1)
}
fn sb(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 0)
}
fn lh(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 1, rd, 0x03)
}
fn lbu(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 4, rd, 0x03)
}

fn handwritten(code: &[u32]) -> Vec<u8> {
    let data: Vec<u8> = (0..0x2000u32).map(|k| (k * 13 + 1) as u8).collect();
    elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, code),
            Seg {
                vaddr: D2,
                memsz: 0x2000,
                flags: PF_R | PF_W,
                bytes: data,
            },
            Seg::zero(FRESH, 0x1000, PF_R | PF_W),
            Seg {
                vaddr: RO2,
                memsz: 0x1000,
                flags: PF_R,
                bytes: vec![7; 32],
            },
            Seg::zero(FRESH2, 0x2000, PF_R | PF_W),
            Seg {
                vaddr: RWX,
                memsz: 0x1000,
                flags: PF_R | PF_W | PF_X,
                bytes: [addi(T1, 0, 1), jalr(0, 1, 0)]
                    .iter()
                    .flat_map(|w| w.to_le_bytes())
                    .collect(),
            },
        ],
    )
}

/// Runs a hand-written program under the referee to its end; returns the last header.
fn run_handwritten(code: &[u32], max_steps: u64, tally: &mut Tally) -> Header {
    let mut vm = Vm::new(&handwritten(code), Vec::new()).expect("loads");
    check_run(&mut vm, max_steps, 10_000, tally)
}

/// The accesses that cross 32-byte leaves and pages, a store that makes a page resident, a
/// load from a mapped page that is not resident, fences, self-modifying code; then exit.
#[test]
fn one_step_misaligned_accesses_residency_and_fences() {
    let mut tally = Tally::default();
    let code = [
        li(T0, D2 + 0xffe),
        vec![
            lw(T1, T0, 0),      // crosses page 0x3e -> 0x3f, both resident
            lh(T2, T0, -0xfdf), // 0x3e01f: crosses a leaf inside a page
            lw(T2, T0, -0xfe0), // 0x3e01e: crosses a leaf
        ],
        li(T0, FRESH - 2),
        vec![
            lw(T2, T0, 0),  // crosses into page 0x40, not resident: zeros; two table leaves
            sw(T1, T0, 0),  // store across: page 0x40 becomes resident
            sh(T1, T0, 1),  // 0x3ffff: one byte in each page
            lbu(T2, T0, 3), // reads back
            sb(T1, T0, 0x800),
            0x0ff0_000f, // fence
            0x0000_100f, // fence.i
            0xfff2_900f, // a fence with other fields set
        ],
        // A store across two fresh pages makes both resident.
        li(T0, FRESH2 + 0xffd),
        vec![sw(T1, T0, 0), lw(T2, T0, 0)],
        // Overwrite the rwx page's first instruction, then call it (it returns through ra).
        li(T3, RWX),
        li(T2, addi(T1, T1, 5)),
        vec![sw(T2, T3, 0), jalr(1, T3, 0)],
        exit(),
    ]
    .concat();
    let end = run_handwritten(&code, MAX, &mut tally);
    assert_eq!(end.status, Status::Exited, "{tally:?}");
    assert!(
        tally.two_leaf >= 6 && tally.two_page_leaves >= 3,
        "{tally:?}"
    );
}

/// Every trap the referee covers, each as the end of a short program: its kind, value and
/// the trapping word must be the VM's (check_run compares whole headers).
#[test]
fn one_step_traps_match_the_vm() {
    let mut tally = Tally::default();
    let cases: Vec<(Vec<u32>, TrapKind, Option<u32>)> = vec![
        // Past 2^32: no data proofs at all.
        (
            [li(T0, 0xffff_fffd), vec![lw(T1, T0, 0)]].concat(),
            TrapKind::LoadFault,
            Some(0xffff_fffd),
        ),
        (
            [li(T0, 0xffff_ffff), vec![sh(T1, T0, 0)]].concat(),
            TrapKind::StoreFault,
            Some(0xffff_ffff),
        ),
        // Ends exactly at 2^32: an ordinary access, to an unmapped page.
        (
            [li(T0, 0xffff_fffc), vec![lw(T1, T0, 0)]].concat(),
            TrapKind::LoadFault,
            Some(0xffff_fffc),
        ),
        (
            [li(T0, 0x5_0002), vec![lbu(T1, T0, 0)]].concat(),
            TrapKind::LoadFault,
            Some(0x5_0002),
        ),
        // Into a read-only page, and across from a writable into a read-only one.
        (
            [li(T0, RO2 + 4), vec![sb(T1, T0, 0)]].concat(),
            TrapKind::StoreFault,
            Some(RO2 + 4),
        ),
        (
            [li(T1, 0x1234_5678), li(T0, RO2 - 2), vec![sw(T1, T0, 0)]].concat(),
            TrapKind::StoreFault,
            Some(RO2 - 2),
        ),
        // A load across from a mapped into an unmapped page.
        (
            [li(T0, FRESH2 + 0x1ffe), vec![lw(T1, T0, 0)]].concat(),
            TrapKind::LoadFault,
            Some(FRESH2 + 0x1ffe),
        ),
        // Fetch from a page that is not executable, and from an unmapped one.
        (
            [li(T0, D2 + 0x40), vec![jalr(1, T0, 0)]].concat(),
            TrapKind::FetchFault,
            Some(0),
        ),
        (
            [li(T0, 0x5_0000), vec![jalr(1, T0, 0)]].concat(),
            TrapKind::FetchFault,
            Some(0),
        ),
        // Misaligned jumps: jalr (bit 0 cleared first, bit 1 set) and a taken branch.
        (
            [li(T0, TEXT + 3), vec![jalr(1, T0, 4)]].concat(),
            TrapKind::MisalignedJump,
            Some(TEXT + 6),
        ),
        (
            vec![addi(T0, 0, 1), b(6, 0, T0, 1)],
            TrapKind::MisalignedJump,
            None,
        ),
        (
            vec![addi(T0, 0, 1), 0xffff_ffff],
            TrapKind::IllegalInstruction,
            Some(0),
        ),
        (vec![0xc000_2573], TrapKind::IllegalInstruction, Some(0)),
        (vec![0x0000_0000], TrapKind::IllegalInstruction, Some(0)),
        (
            vec![r(0x01, 1, 2, 0, 3, 0x3b)],
            TrapKind::IllegalInstruction,
            Some(0),
        ),
        (
            vec![i(0x21, 1, 1, 3, 0x13) | 1 << 25],
            TrapKind::IllegalInstruction,
            Some(0),
        ),
        (
            vec![i(0, 1, 3, 3, 0x03)],
            TrapKind::IllegalInstruction,
            Some(0),
        ),
        (vec![s(0, 1, 1, 3)], TrapKind::IllegalInstruction, Some(0)),
        (
            vec![jalr(1, 0, 0) | 1 << 12],
            TrapKind::IllegalInstruction,
            Some(0),
        ),
        (vec![0x0000_200f], TrapKind::IllegalInstruction, Some(0)),
        (vec![EBREAK], TrapKind::Breakpoint, Some(0)),
        // Past the end of the code, in the executable page: zero words, illegal.
        (vec![addi(T0, 0, 1)], TrapKind::IllegalInstruction, Some(0)),
    ];
    for (code, kind, value) in cases {
        let end = run_handwritten(&code, MAX, &mut tally);
        assert_eq!(
            (end.status, end.trap_kind),
            (Status::Trapped, kind),
            "{code:08x?}"
        );
        if let Some(v) = value {
            assert_eq!(end.status_value, v, "{code:08x?}");
        }
    }
    assert!(tally.traps >= 22, "{tally:?}");
}

/// The step limit: the step that reaches it gives status 3 (as the VM's state does), and a
/// state at the limit, or one that has exited, has no next step.
#[test]
fn one_step_step_limit_and_finished_states_are_refused() {
    let mut tally = Tally::default();
    let code = [li(T0, 5), li(T1, 6), vec![addi(T2, 0, 7)], exit()].concat();
    let end = run_handwritten(&code, 3, &mut tally);
    assert_eq!((end.status, end.steps), (Status::StepLimit, 3));
    assert_eq!(tally.verified, 3);
    let end = run_handwritten(&code, MAX, &mut tally);
    assert_eq!(end.status, Status::Exited);
    // A running header with steps >= max_steps is no state the VM commits to: refused too.
    let vm = Vm::new(&handwritten(&code), Vec::new()).expect("loads");
    let parts = vm.step_proof(JOB, 10);
    let mut pre = Header::decode(&parts.header).expect("decodes");
    pre.max_steps = 0;
    let mut proof = convert(&parts);
    proof.header = pre.encode();
    assert_eq!(
        referee_step(&pre, &proof),
        Err(StepError::StepLimit {
            steps: 0,
            max_steps: 0
        })
    );
}

/// The VM at the step that executes the first store of `code` whose data proofs are given,
/// with its step proof.
fn at_first_access(code: &[u32]) -> (Vm, StepProofParts) {
    let mut vm = Vm::new(&handwritten(code), Vec::new()).expect("loads");
    loop {
        let parts = vm.step_proof(JOB, MAX);
        if !parts.data.is_empty() {
            return (vm, parts);
        }
        vm.run(&mut VecSink::default(), 1).expect("runs");
    }
}

/// The 65536-page limit, from the referee alone (a VM with 65536 resident pages is too big
/// for this test): the pre-state's resident count is set near the limit, and a store into one
/// or two fresh pages must trap or retire accordingly.
#[test]
fn one_step_memory_limit() {
    let one = [li(T1, 9), li(T0, FRESH + 8), vec![sw(T1, T0, 0)]].concat();
    // A store across 0x40000 from a resident page into the fresh one: one fresh page too.
    let across = [li(T1, 9), li(T0, FRESH - 2), vec![sw(T1, T0, 0)]].concat();
    for (code, addr) in [(one, FRESH + 8), (across, FRESH - 2)] {
        let (_, parts) = at_first_access(&code);
        let base = Header::decode(&parts.header).expect("decodes");
        for (resident, traps) in [(65536u32, true), (65535, false), (70000, true), (3, false)] {
            let mut pre = base.clone();
            pre.resident_pages = resident;
            let mut proof = convert(&parts);
            proof.header = pre.encode();
            let r = referee_step(&pre, &proof).expect("verifies");
            if traps {
                assert_eq!(r.post.status, Status::Trapped);
                assert_eq!(r.post.trap_kind, TrapKind::MemoryLimit);
                assert_eq!(r.post.status_value, addr);
                assert_eq!(r.post.memory_root, pre.memory_root, "writes nothing");
                assert_eq!(r.chunk, None);
            } else {
                assert_eq!(r.post.status, Status::Running);
                assert_eq!(r.post.resident_pages, resident + 1);
                assert_ne!(r.post.page_table_root, pre.page_table_root);
            }
        }
    }
}

/// Proof `which` of a step proof: fetch, fetch page, then the data leaves and data pages.
fn pick(p: &mut StepProof, which: usize) -> &mut LeafProof {
    let d = p.data.len();
    match which {
        0 => &mut p.fetch,
        1 => &mut p.fetch_page,
        w if w < 2 + d => &mut p.data[w - 2],
        w => &mut p.data_pages[w - 2 - d],
    }
}

/// A store across two fresh pages needs room for both.
#[test]
fn one_step_memory_limit_two_fresh_pages() {
    let code = [li(T1, 9), li(T0, FRESH2 + 0xfff), vec![sh(T1, T0, 0)]].concat();
    let (_, parts) = at_first_access(&code);
    let base = Header::decode(&parts.header).expect("decodes");
    for (resident, traps) in [(65535u32, true), (65534, false), (65536, true)] {
        let mut pre = base.clone();
        pre.resident_pages = resident;
        let mut proof = convert(&parts);
        proof.header = pre.encode();
        let r = referee_step(&pre, &proof).expect("verifies");
        if traps {
            assert_eq!(
                (r.post.trap_kind, r.post.status_value),
                (TrapKind::MemoryLimit, FRESH2 + 0xfff)
            );
        } else {
            assert_eq!(r.post.status, Status::Running);
            assert_eq!(r.post.resident_pages, resident + 2);
        }
    }
}

/// Tampered proofs are refused: a sibling, a leaf, a proof of another leaf or page, a missing,
/// extra or reordered leaf, a header that is not the pre-state.
#[test]
fn one_step_tampered_proofs_are_refused() {
    let code = [li(T1, 9), li(T0, FRESH - 2), vec![sw(T1, T0, 0)], exit()].concat();
    let (vm, parts) = at_first_access(&code);
    let pre = Header::decode(&parts.header).expect("decodes");
    let good = convert(&parts);
    assert_eq!((good.data.len(), good.data_pages.len()), (2, 2));
    let ok = referee_step(&pre, &good).expect("the honest proof verifies");
    assert_eq!(good.verify(&pre.commitment()), Ok(ok));
    assert_eq!(good.verify(&[0; 32]), Err(StepError::HeaderMismatch));
    let refused = |p: &StepProof| referee_step(&pre, p).expect_err("refused");
    let is_bad = |e: StepError| matches!(e, StepError::BadProof { .. });
    let is_wrong = |e: StepError| matches!(e, StepError::WrongLeaf { .. });
    let is_count = |e: StepError| matches!(e, StepError::ProofCount { .. });
    let n = 2 + good.data.len() + good.data_pages.len();
    for which in 0..n {
        let depth = good.fetch.siblings.len().max(15);
        for k in 0..depth {
            let mut p = good.clone();
            let target = pick(&mut p, which);
            if k >= target.siblings.len() {
                continue;
            }
            target.siblings[k][k % 32] ^= 1;
            assert!(is_bad(refused(&p)), "sibling {k} of proof {which}");
        }
        let mut p = good.clone();
        pick(&mut p, which).leaf[31] ^= 0x80;
        assert!(is_bad(refused(&p)), "leaf of proof {which}");
        let mut p = good.clone();
        pick(&mut p, which).siblings.pop();
        assert!(is_bad(refused(&p)), "short path of proof {which}");
    }
    // A different instruction word in the fetch leaf.
    let mut p = good.clone();
    let at = (pre.pc % 32) as usize;
    p.fetch.leaf[at..at + 4].copy_from_slice(&addi(T1, T1, 1).to_le_bytes());
    assert!(is_bad(refused(&p)));
    // Proofs of other leaves: valid proofs, of the wrong place.
    let mut p = good.clone();
    p.fetch = leaf(&vm.memory_proof(pre.pc + 32));
    assert!(is_wrong(refused(&p)));
    let mut p = good.clone();
    p.fetch_page = leaf(&vm.page_table_proof(FRESH >> 12).expect("a page"));
    assert!(is_wrong(refused(&p)));
    let mut p = good.clone();
    p.data_pages[1] = leaf(&vm.page_table_proof(TEXT >> 12).expect("a page"));
    assert!(is_wrong(refused(&p)));
    let mut p = good.clone();
    p.data.swap(0, 1);
    assert!(is_wrong(refused(&p)));
    // The right index claimed for another leaf's bytes and path.
    let mut p = good.clone();
    let other = vm.memory_proof(pre.pc + 32);
    p.fetch.leaf = other.leaf;
    p.fetch.siblings = other.siblings.clone();
    assert!(is_bad(refused(&p)));
    // Missing and extra leaves.
    let mut p = good.clone();
    p.data.pop();
    assert!(is_count(refused(&p)));
    let mut p = good.clone();
    p.data_pages.clear();
    assert!(is_count(refused(&p)));
    let mut p = good.clone();
    p.data.push(good.data[1].clone());
    assert!(is_count(refused(&p)));
    // A header that is not the pre-state.
    let mut other_pre = pre.clone();
    other_pre.regs[T1 as usize] ^= 1;
    assert_eq!(
        referee_step(&other_pre, &good),
        Err(StepError::HeaderMismatch)
    );
    let mut p = good.clone();
    p.header = other_pre.encode();
    assert_eq!(referee_step(&pre, &p), Err(StepError::HeaderMismatch));
    // An ALU step given data leaves is refused.
    let vm = Vm::new(&handwritten(&code), Vec::new()).expect("loads");
    let parts = vm.step_proof(JOB, MAX);
    let alu_pre = Header::decode(&parts.header).expect("decodes");
    let mut p = convert(&parts);
    assert!(referee_step(&alu_pre, &p).is_ok());
    p.data.push(good.data[0].clone());
    assert!(is_count(referee_step(&alu_pre, &p).expect_err("refused")));
}
