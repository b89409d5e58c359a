//! The on-chain one-step verifier's gas, by instruction class: every step of a corpus (the
//! built-in guests, random instruction and system-call programs, and the largest proofs SPEC
//! 1.7 names: a store across two pages in two page-table leaves, a `read` from two input
//! leaves, a `brk` that unmaps a resident page) goes through `PoieStep.step` in revm and is
//! held to the Rust referee, and the table of its execution gas, calldata and witness sizes
//! is printed (and written to `POIE_GAS_TABLE` when set: docs/PROTOCOL.md's table is its
//! output). The goals are asserted: at most 100,000 execution gas for any step, and
//! a typical step's witness (the proof: header and leaf proofs) at most 2.5 KiB.
//!
//! Run: `cargo test --release --test evm_gas -- --nocapture`.
#![cfg(feature = "evm")]

mod common;

use common::evm::{COLLECT, GAS};
use common::one_step::{check_run, Tally, MAX};
use common::random_programs::{instructions, syscalls};
use common::rv32::*;
use poie::guests;
use poie::vm::Vm;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

const T0: u32 = 5;
const T1: u32 = 6;
const S0: u32 = 8;
/// Pages 0x3e and 0x3f hold file bytes (page-table leaf 1); 0x40 is bss (leaf 2).
const D: u32 = 0x3_e000;
const FRESH: u32 = 0x4_0000;

/// The largest step proofs of SPEC 1.7, in one program: a store across pages 0x3f and 0x40
/// (two memory leaves, two page-table leaves, one page made resident), a `read` of 32 bytes
/// from input offset 20 (two input leaves), then the heap grown by a page, written, and
/// shrunk (a `brk` that unmaps a resident page: its subtree proof).
fn worst_cases() -> (Vec<u8>, Vec<u8>) {
    let code = [
        li(T0, FRESH - 2),
        li(T1, 0x1122_3344),
        vec![sw(T1, T0, 0)],
        sys(READ, &[0, D + 0x100, 20], S0),
        sys(READ, &[0, D + 0x200, 32], S0),
        sys(WRITE, &[1, D + 0x200, 32], S0),
        // The break starts at 0x41000: grow by one page, store into it, shrink it away.
        sys(BRK, &[0x4_2000], S0),
        li(T0, 0x4_1000),
        vec![sw(T1, T0, 8)],
        sys(BRK, &[0x4_1000], S0),
        exit(),
    ]
    .concat();
    let image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &code),
            Seg {
                vaddr: D,
                memsz: 0x2000,
                flags: PF_R | PF_W,
                bytes: (0..0x2000u32).map(|k| (k * 7 + 3) as u8).collect(),
            },
            Seg::zero(FRESH, 0x1000, PF_R | PF_W),
        ],
    );
    let input = (0..64u8).map(|k| k.wrapping_mul(31) ^ 0x5a).collect();
    (image, input)
}

fn percentile(sorted: &[u64], p: usize) -> u64 {
    sorted[(sorted.len() - 1) * p / 100]
}

#[test]
fn step_gas_by_instruction_class() {
    COLLECT.store(true, Ordering::Relaxed);
    let mut tally = Tally::default();
    for (name, input) in [
        ("hello", &b""[..]),
        ("sort", b"60 7"),
        ("sieve", b"500"),
        ("sha256", b"abc"),
        ("ledger", b"1 2 30\n2 3 5\n7 1 9\n"),
    ] {
        let g = guests::find(name).expect("a built-in guest");
        let mut vm = Vm::new(g.elf, input.to_vec()).expect("loads");
        check_run(&mut vm, MAX, 3_000, &mut tally);
    }
    for n in 0..30u64 {
        let image = instructions::random_program(0x6a5 ^ n.wrapping_mul(0x9e37_79b9), 300, 3);
        let mut vm = Vm::new(&image, Vec::new()).expect("loads");
        check_run(&mut vm, MAX, 2_000, &mut tally);
        let image = syscalls::syscall_program(0x5c ^ n.wrapping_mul(0x9e37_79b9), 60);
        let input: Vec<u8> = (0..n * 7).map(|k| k as u8).collect();
        let mut vm = Vm::new(&image, input).expect("loads");
        check_run(&mut vm, MAX, 2_000, &mut tally);
    }
    let (image, input) = worst_cases();
    let mut vm = Vm::new(&image, input).expect("loads");
    let end = check_run(&mut vm, MAX, 1_000, &mut tally);
    assert_eq!(end.status, poie_referee::Status::Exited, "{end:?}");

    let gas = GAS.lock().expect("gas table");
    let mut table = String::from(
        "| class | steps | execution gas median | worst | calldata bytes median | worst | calldata gas (16/4) worst | EIP-7623 floor worst |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut worst_all = 0;
    let mut witness = Vec::new();
    for (class, steps) in gas.iter() {
        let mut exec: Vec<u64> = steps.iter().map(|(g, _)| g.execution).collect();
        let mut bytes: Vec<u64> = steps.iter().map(|(g, _)| g.calldata.bytes).collect();
        exec.sort_unstable();
        bytes.sort_unstable();
        let cd = steps
            .iter()
            .map(|(g, _)| g.calldata.gas())
            .max()
            .unwrap_or(0);
        let floor = steps
            .iter()
            .map(|(g, _)| g.calldata.floor_gas())
            .max()
            .unwrap_or(0);
        worst_all = worst_all.max(percentile(&exec, 100));
        witness.extend(steps.iter().map(|(_, w)| *w as u64));
        writeln!(
            table,
            "| {class} | {} | {} | {} | {} | {} | {cd} | {floor} |",
            steps.len(),
            percentile(&exec, 50),
            percentile(&exec, 100),
            percentile(&bytes, 50),
            percentile(&bytes, 100),
        )
        .expect("a string");
    }
    witness.sort_unstable();
    println!("{table}");
    println!(
        "{} steps: worst execution gas {worst_all}; witness median {} B, worst {} B",
        witness.len(),
        percentile(&witness, 50),
        percentile(&witness, 100)
    );
    if let Some(path) = std::env::var_os("POIE_GAS_TABLE") {
        std::fs::write(path, &table).expect("the gas table is written");
    }
    for class in [
        "ALU",
        "M op",
        "load",
        "store",
        "branch/jump",
        "ecall read",
        "ecall write",
        "ecall brk",
        "ecall brk (unmap)",
        "ecall exit",
        "trap",
    ] {
        assert!(
            gas.contains_key(class),
            "no {class} step in the corpus: {:?}",
            gas.keys()
        );
    }
    assert!(
        worst_all <= 100_000,
        "a step costs {worst_all} execution gas"
    );
    assert!(
        percentile(&witness, 50) <= 2560,
        "median witness {}",
        percentile(&witness, 50)
    );
}
