//! The one-step verifier on system calls (SPEC 1.4 and 1.7): at every step of seeded random
//! programs that mix `read`, `write`, `close`, `brk`, unknown calls and heap accesses with
//! random arguments (buffers misaligned, across leaves, in read-only, fresh or unmapped pages;
//! descriptors open, closed or invalid; breaks growing, shrinking, within a page or invalid),
//! the VM builds the step proof and the referee's post-state and chunk must be the VM's. Then
//! the output limit, the memory limit on `read` (from the referee alone), a flat input, and
//! tampered `ecall` proofs. `POIE_ONE_STEP_PROGRAMS=N` runs N random programs instead of 120.

mod common;

use common::one_step::{
    check_run, convert, fetched_word, leaf, referee_step, Tally, ECALL, JOB, MAX,
};
use common::random_programs::syscalls::{syscall_program, A0, A1, A2, A7, SCRATCH};
use common::rng::Rng;
use common::rv32::*;
use poie::trace::VecSink;
use poie::vm::{StepProofParts, Vm};
use poie_referee::{Header, Status, StepError, StepProof, TrapKind};
use std::time::Instant;

#[test]
fn one_step_matches_the_vm_on_random_system_calls() {
    let t = Instant::now();
    let mut tally = Tally::default();
    let mut exited = 0;
    for n in 0..common::one_step::programs(120) {
        let mut rng = Rng(n ^ 0xca11);
        let input: Vec<u8> = (0..rng.below(400)).map(|_| rng.next() as u8).collect();
        let image = syscall_program(0x5c5c ^ n.wrapping_mul(0x9e37_79b9), 150);
        let mut vm = Vm::new(&image, input).expect("loads");
        let end = check_run(&mut vm, MAX, 5_000, &mut tally);
        exited += u64::from(end.status == Status::Exited);
    }
    eprintln!(
        "random system calls: {tally:?}, {exited} exited, in {:?}",
        t.elapsed()
    );
    assert!(tally.ecalls >= 5_000, "{tally:?}");
    assert!(
        tally.input_leaves >= 300 && tally.two_input_leaves >= 50,
        "{tally:?}"
    );
    assert!(
        tally.unmaps >= 100 && tally.brk_maps >= 100 && tally.outputs >= 300,
        "{tally:?}"
    );
    assert!(tally.closes >= 20 && exited >= 20, "{tally:?} {exited}");
}

/// The VM at the first `ecall` of `code` run on `input`, with its step proof.
fn at_first_ecall(code: &[u32], input: &[u8]) -> (Vm, StepProofParts) {
    let image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, code),
            Seg {
                vaddr: DATA,
                memsz: 0x2000,
                flags: PF_R | PF_W,
                bytes: (0..0x1000u32).map(|k| k as u8 | 1).collect(),
            },
        ],
    );
    let mut vm = Vm::new(&image, input.to_vec()).expect("loads");
    loop {
        let parts = vm.step_proof(JOB, MAX);
        let pre = Header::decode(&parts.header).expect("decodes");
        if fetched_word(&pre, &convert(&parts)) == ECALL {
            return (vm, parts);
        }
        vm.run(&mut VecSink::default(), 1).expect("runs");
    }
}

/// Writes of 32 aligned bytes until the 4 MiB output limit: the last writes are shortened
/// (none is here: 2^22 is a multiple of 32), then the next one traps with the output limit.
#[test]
fn one_step_output_limit() {
    for fd in [1u32, 2] {
        let code = [
            li(A1, DATA),
            vec![
                addi(A0, 0, fd as i32),
                addi(A2, 0, 32),
                addi(A7, 0, 64),
                ECALL,
                j(-16, 0),
            ],
        ]
        .concat();
        let image = elf(&code, &[0x42; 64]);
        let mut vm = Vm::new(&image, Vec::new()).expect("loads");
        // 3 setup steps, then 5 a write: stop 4 writes short of the limit.
        let writes = (1u64 << 22) / 32;
        vm.run(&mut VecSink::default(), 3 + 5 * (writes - 4))
            .expect("runs");
        let mut tally = Tally::default();
        let end = check_run(&mut vm, MAX, 100, &mut tally);
        assert_eq!(end.status, Status::Trapped, "fd {fd}");
        assert_eq!(end.trap_kind, TrapKind::OutputLimit);
        let len = if fd == 1 {
            end.stdout_len
        } else {
            end.stderr_len
        };
        assert_eq!(len, 1 << 22);
        assert_eq!(tally.outputs, 4, "{tally:?}");
    }
}

/// `read` into a page that is not resident at the 65536-page limit traps (from the referee
/// alone: a VM with 65536 resident pages is too big for a test); one page below, it reads.
#[test]
fn one_step_read_memory_limit() {
    let code = [
        li(A0, 0),
        li(A1, DATA + 0x1000 + 5),
        li(A2, 64),
        syscall(63),
    ]
    .concat();
    let (_, parts) = at_first_ecall(&code, b"0123456789abcdefghijklmnopqrstuvwxyz");
    let base = Header::decode(&parts.header).expect("decodes");
    for (resident, traps) in [(65536u32, true), (65535, false), (70000, true)] {
        let mut pre = base.clone();
        pre.resident_pages = resident;
        let mut proof = convert(&parts);
        proof.header = pre.encode();
        let r = referee_step(&pre, &proof).expect("verifies");
        if traps {
            assert_eq!(
                (r.post.status, r.post.trap_kind, r.post.status_value),
                (Status::Trapped, TrapKind::MemoryLimit, DATA + 0x1005)
            );
            assert_eq!((r.post.memory_root, r.post.input_pos), (pre.memory_root, 0));
            assert_eq!(r.chunk, None);
        } else {
            assert_eq!(r.post.regs[A0 as usize], 27, "to the end of the leaf");
            assert_eq!(
                (r.post.input_pos, r.post.resident_pages),
                (27, resident + 1)
            );
        }
    }
    // A read at end of input, or of 0 bytes, needs no input leaf and makes nothing resident.
    let mut pre = base.clone();
    pre.resident_pages = 65536;
    pre.input_pos = pre.input_len;
    let mut proof = convert(&parts);
    proof.header = pre.encode();
    proof.input.clear();
    let r = referee_step(&pre, &proof).expect("verifies");
    assert_eq!(
        (r.post.status, r.post.regs[A0 as usize]),
        (Status::Running, 0)
    );
}

/// An input longer than 2^32 bytes is committed flat: a `read` that copies from it has no
/// proof, and the referee says so.
#[test]
fn one_step_read_from_a_flat_input_is_refused() {
    let code = [li(A0, 0), li(A1, DATA), li(A2, 8), syscall(63)].concat();
    let (_, parts) = at_first_ecall(&code, b"abc");
    let mut pre = Header::decode(&parts.header).expect("decodes");
    pre.input_len = (1 << 32) + 1;
    let mut proof = convert(&parts);
    proof.header = pre.encode();
    assert_eq!(referee_step(&pre, &proof), Err(StepError::FlatInput));
}

/// Every proof of an `ecall` step, by position: data, data pages, input, page memory.
fn ecall_leaves(p: &mut StepProof) -> Vec<&mut poie_referee::LeafProof> {
    p.data
        .iter_mut()
        .chain(p.data_pages.iter_mut())
        .chain(p.input.iter_mut())
        .chain(p.page_memory.iter_mut())
        .collect()
}

/// Tampered `ecall` proofs are refused: every sibling and leaf of a `read`'s data, page and
/// two input leaves, and of a `brk`'s page table leaf and page subtree root; missing, extra
/// and swapped leaves; leaves a call does not read.
#[test]
fn one_step_tampered_ecall_proofs_are_refused() {
    let input: Vec<u8> = (1..=100).collect();
    // read(0, DATA + 0x100, 32) after 20 bytes are read: input leaves 0 and 1.
    let read = [
        li(A0, 0),
        li(A1, DATA + 0x200),
        li(A2, 20),
        syscall(63),
        li(A0, 0),
        li(A1, DATA + 0x100),
        li(A2, 32),
        syscall(63),
    ]
    .concat();
    // Grow the heap by a page, store into it, then shrink: the unmap proves the page root.
    let heap = 0x2_2000;
    let brk = [
        li(A0, heap + 0x10),
        syscall(214),
        li(A1, heap + 8),
        vec![sw(A1, A1, 0)],
        li(A0, heap),
        syscall(214),
    ]
    .concat();
    for (name, code, ecalls_before) in [("read", read, 1), ("brk", brk, 1)] {
        let (mut vm, _) = at_first_ecall(&code, &input);
        for _ in 0..ecalls_before {
            vm.run(&mut VecSink::default(), 1).expect("runs");
        }
        let (vm, parts) = loop {
            let parts = vm.step_proof(JOB, MAX);
            let pre = Header::decode(&parts.header).expect("decodes");
            if fetched_word(&pre, &convert(&parts)) == ECALL {
                break (vm, parts);
            }
            vm.run(&mut VecSink::default(), 1).expect("runs");
        };
        let pre = Header::decode(&parts.header).expect("decodes");
        let good = convert(&parts);
        let ok = referee_step(&pre, &good).expect("the honest proof verifies");
        if name == "read" {
            assert_eq!((good.input.len(), ok.post.regs[A0 as usize]), (2, 32));
        } else {
            assert_eq!((good.data_pages.len(), good.page_memory.len()), (1, 1));
            assert_eq!(ok.post.resident_pages + 1, pre.resident_pages);
        }
        let n = ecall_leaves(&mut good.clone()).len();
        for which in 0..n {
            let mut p = good.clone();
            let depth = ecall_leaves(&mut p)[which].siblings.len();
            for k in 0..depth {
                let mut p = good.clone();
                ecall_leaves(&mut p)[which].siblings[k][k % 32] ^= 4;
                let e = referee_step(&pre, &p).expect_err("a tampered sibling");
                assert!(
                    matches!(e, StepError::BadProof { .. }),
                    "{name} {which} {k}: {e}"
                );
            }
            ecall_leaves(&mut p)[which].leaf[7] ^= 1;
            let e = referee_step(&pre, &p).expect_err("a tampered leaf");
            assert!(
                matches!(e, StepError::BadProof { .. }),
                "{name} {which}: {e}"
            );
            let mut p = good.clone();
            ecall_leaves(&mut p)[which].index ^= 1;
            let e = referee_step(&pre, &p).expect_err("another index");
            assert!(
                matches!(e, StepError::WrongLeaf { .. }),
                "{name} {which}: {e}"
            );
        }
        let count =
            |p: &StepProof| matches!(referee_step(&pre, p), Err(StepError::ProofCount { .. }));
        let mut p = good.clone();
        p.data_pages.clear();
        assert!(count(&p), "{name}: no page leaf");
        let mut p = good.clone();
        p.input
            .push(leaf(&vm.input_proof(64).expect("an input leaf")));
        assert!(count(&p), "{name}: an extra input leaf");
        let mut p = good.clone();
        p.page_memory.push(
            good.page_memory
                .first()
                .cloned()
                .unwrap_or_else(|| leaf(&vm.memory_proof(DATA))),
        );
        assert!(count(&p), "{name}: an extra page root");
        if name == "read" {
            let mut p = good.clone();
            p.input.swap(0, 1);
            assert!(matches!(
                referee_step(&pre, &p),
                Err(StepError::WrongLeaf { .. })
            ));
        }
    }
}

/// A guest loop that asks `brk` for a break 5 pages up, and back, until it gets it: one page
/// per call, every step verified.
#[test]
fn one_step_brk_loop_reaches_its_target() {
    // The initial break: `elf` maps 4 KiB of data at DATA.
    let heap = DATA + 0x1000;
    let code = [
        li(SCRATCH, heap + 0x5010),
        // grow: a0 = brk(target) until a0 == target
        vec![
            addi(A0, SCRATCH, 0),
            addi(A7, 0, 214),
            ECALL,
            b(-12, SCRATCH, A0, 1),
        ],
        li(A1, heap + 0x4008),
        vec![sw(A1, A1, 0)],
        li(SCRATCH, heap),
        vec![
            addi(A0, SCRATCH, 0),
            addi(A7, 0, 214),
            ECALL,
            b(-12, SCRATCH, A0, 1),
        ],
        exit(),
    ]
    .concat();
    let mut vm = Vm::new(&elf(&code, &[1; 64]), Vec::new()).expect("loads");
    let mut tally = Tally::default();
    let end = check_run(&mut vm, MAX, 1_000, &mut tally);
    assert_eq!(end.status, Status::Exited, "{tally:?}");
    // Text, data and the stack: the heap page the store made resident is gone.
    assert_eq!((end.brk, end.resident_pages), (u64::from(heap), 3));
    assert_eq!((tally.brk_maps, tally.unmaps), (6 + 6, 6), "{tally:?}");
}
