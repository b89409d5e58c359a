//! The built-in guests: each prints what an independent Rust computation says it should, runs
//! identically under qemu-riscv32 (the oracle), and rebuilds bit-for-bit from source.

mod common;

use common::tools;
use poie::guests::{self, ledger, GUESTS};
use poie::trace::{NoTrace, Step, VecSink};
use poie::vm::{Outcome, Vm};
use sha2::{Digest, Sha256};

fn run(name: &str, input: &[u8]) -> (String, u8) {
    let g = guests::find(name).expect("built-in guest");
    let mut vm = Vm::new(g.elf, input.to_vec()).expect("guest loads");
    let r = vm.run(&mut NoTrace, 2_000_000_000).expect("runs");
    assert!(
        matches!(r.outcome, Outcome::Exited(_)),
        "{name}: {}",
        r.outcome
    );
    (
        String::from_utf8_lossy(vm.stdout()).into_owned(),
        r.outcome.exit_code(),
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn hello_greets() {
    assert_eq!(run("hello", b""), ("Hello from rv32im!\n".into(), 0));
}

#[test]
fn sha256_matches_sha2_crate() {
    for input in [&b""[..], b"abc", &[0x5a; 1000][..]] {
        let mut d = Sha256::digest(input).to_vec();
        let first = hex(&d);
        for _ in 0..1000 {
            d = Sha256::digest(&d).to_vec();
        }
        assert_eq!(run("sha256", input).0, format!("{first}\n{}\n", hex(&d)));
    }
}

fn xorshift_sorted(n: u32, seed: u32) -> (u32, u32) {
    let mut x = if seed == 0 { 1 } else { seed };
    let mut v: Vec<u32> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        })
        .collect();
    v.sort_unstable();
    (
        n,
        v.iter()
            .fold(0u32, |s, &a| s.wrapping_mul(31).wrapping_add(a)),
    )
}

#[test]
fn sort_matches_reference() {
    for (input, n, seed) in [
        (&b"100000 1"[..], 100000, 1),
        (b"1000 42", 1000, 42),
        (b"", 100000, 1),
    ] {
        let (n, sum) = xorshift_sorted(n, seed);
        assert_eq!(
            run("sort", input),
            (format!("n={n} sorted=1 checksum={sum}\n"), 0)
        );
    }
}

#[test]
fn sieve_matches_reference() {
    for limit in [2u32, 3, 100, 1_000_000] {
        let mut comp = vec![false; limit as usize];
        let (mut count, mut largest) = (0, 0);
        for i in 2..limit as usize {
            if !comp[i] {
                count += 1;
                largest = i;
                (i * i..limit as usize)
                    .step_by(i)
                    .for_each(|j| comp[j] = true);
            }
        }
        let out = run("sieve", limit.to_string().as_bytes()).0;
        assert_eq!(
            out,
            format!("primes below {limit}: {count}, largest {largest}\n")
        );
    }
}

#[test]
fn ledger_matches_reference_state_transition() {
    let generated = ledger::generate_block(7, 3000);
    let blocks: [&[u8]; 4] = [
        guests::find("ledger").expect("ledger").sample_input,
        generated.as_bytes(),
        b"1 2 30\n# comment\n\n5 5 1\n4096 1 1\n3 4 99999999999\n7 8 2000000\n1 2 3 4\nx y z\r\n9 8 7\r\n",
        b"",
    ];
    for block in blocks {
        let (applied, rejected, bal) = ledger::apply(block);
        let le: Vec<u8> = bal.iter().flat_map(|b| b.to_le_bytes()).collect();
        let expect = format!(
            "applied={applied} rejected={rejected}\nstate={}\n",
            hex(&Sha256::digest(&le))
        );
        assert_eq!(run("ledger", block), (expect, 0));
    }
}

#[test]
fn sample_ledger_block_is_the_generated_one() {
    let sample = guests::find("ledger").expect("ledger").sample_input;
    assert_eq!(sample, ledger::generate_block(1, 20_000).as_bytes());
}

#[test]
fn differential_against_qemu() {
    // The README's test command installs qemu-riscv32.
    if !tools::installed("qemu-riscv32", "the differential test") {
        return;
    }
    let extra: &[(&str, &[u8])] = &[
        ("sort", b"5000 99"),
        ("sieve", b"30000"),
        ("sha256", b"poie"),
        ("ledger", b"1 2 30\nbad line\n3 4 5000000\n"),
    ];
    let cases = GUESTS
        .iter()
        .flat_map(|g| [(g.name, g.sample_input), (g.name, &b""[..])])
        .chain(extra.iter().copied());
    for (name, input) in cases {
        let g = guests::find(name).expect("guest");
        let mut vm = Vm::new(g.elf, input.to_vec()).expect("loads");
        let r = vm.run(&mut NoTrace, u64::MAX).expect("runs");
        let (q_out, q_code) = tools::qemu_run(g.elf, input).expect("qemu-riscv32 runs");
        assert_eq!(vm.stdout(), &q_out[..], "{name}: stdout differs from qemu");
        assert_eq!(
            i32::from(r.outcome.exit_code()),
            q_code,
            "{name}: exit code differs"
        );
    }
}

/// A `write` moves at most to the end of its buffer's 32-byte leaf (SPEC 1.4), so a guest's
/// output is complete only because rt.h's `write_all` loops on short writes. Each call the
/// guests make returns exactly that bound, some calls are short, and the returns add up to the
/// whole output (which the tests above check against independent references).
#[test]
fn guests_write_all_their_output_through_short_writes() {
    let cases: [(&str, &[u8]); 5] = [
        ("hello", b""),
        ("sha256", b"abc"),
        ("sort", b"1000 42"),
        ("sieve", b"1000"),
        ("ledger", b"1 2 30\n3 4 5\n"),
    ];
    let mut short = 0;
    for (name, input) in cases {
        let g = guests::find(name).expect("guest");
        let mut vm = Vm::new(g.elf, input.to_vec()).expect("loads");
        let mut sink = VecSink::default();
        let r = vm.run(&mut sink, u64::MAX).expect("runs");
        assert_eq!(r.outcome, Outcome::Exited(0), "{name}");
        let writes: Vec<Step> = sink
            .0
            .iter()
            .map(Step::from_chunk)
            // ecall with a7 = 64 (write) and a0 = 1 (stdout): a1, a2 are mem_addr, mem_val.
            .filter(|s| s.word == 0x73 && s.rs1_val == 64 && s.rs2_val == 1)
            .collect();
        let mut total = 0;
        for w in &writes {
            let bound = w.mem_val.min(32 - w.mem_addr % 32);
            assert_eq!(
                w.rd_val, bound,
                "{name}: write({:#x}, {})",
                w.mem_addr, w.mem_val
            );
            short += usize::from(w.rd_val < w.mem_val);
            total += w.rd_val as usize;
        }
        assert_eq!(total, vm.stdout().len(), "{name}");
    }
    assert!(
        short > 0,
        "no guest made a short write: the loop went untested"
    );
}

#[test]
fn traces_are_deterministic_across_runs_and_batch_sizes() {
    let g = guests::find("ledger").expect("ledger");
    let input = ledger::generate_block(3, 200);
    let trace = |batch| {
        let mut vm = Vm::new(g.elf, input.as_bytes().to_vec()).expect("loads");
        let mut sink = VecSink::default();
        vm.run_batched(&mut sink, u64::MAX, batch).expect("runs");
        sink.0
    };
    let a = trace(1024);
    assert!(a.len() > 10_000);
    assert_eq!(a, trace(1024));
    assert_eq!(a, trace(1));
    assert_eq!(a, trace(777));
}

#[test]
fn committed_elfs_rebuild_bit_for_bit() {
    let Some(dir) = tools::rebuilt_guests() else {
        return;
    };
    for g in GUESTS {
        let rebuilt = std::fs::read(dir.path().join(format!("{}.elf", g.name))).expect("built");
        assert!(
            rebuilt == g.elf,
            "{}: rebuilt ELF differs from guests/bin",
            g.name
        );
    }
}
