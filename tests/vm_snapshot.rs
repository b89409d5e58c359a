//! VM snapshots (`vm::snapshot`): a VM resumed from a snapshot emits the same chunks and
//! reaches the same state commitments and outcome as the VM it was taken from, for the
//! built-in guests and for programs that map and unmap heap pages, read and write, modify
//! their own code and trap; and snapshots share the pages that did not change between them
//! without a later write reaching an earlier snapshot.

mod common;

use common::rv32::*;
use poie::guests::{self, ledger};
use poie::trace::{NoTrace, VecSink};
use poie::vm::{Outcome, Snapshot, Vm, PAGE_SIZE};

const MAX: u64 = u64::MAX;
type Hash = [u8; 32];

/// The commitment the tests compare: job 0, no step limit.
fn commitment(vm: &Vm) -> Hash {
    vm.state_commitment(0, MAX)
}

/// Steps `elf` with `input` takes to its end (it must end within 10^9 steps).
fn length(elf: &[u8], input: &[u8]) -> u64 {
    let mut vm = Vm::new(elf, input.to_vec()).expect("loads");
    let r = vm.run(&mut NoTrace, 1_000_000_000).expect("runs");
    assert_ne!(r.outcome, Outcome::StepLimit, "the program ends");
    vm.retired()
}

/// What the original run saw at one snapshot step: the step, the commitment there and the
/// snapshot (each taken against the one before).
struct Taken {
    step: u64,
    commitment: Hash,
    snap: Snapshot,
}

/// Runs `elf` to its end, snapshotting at each of `steps` (ascending, at most its length);
/// then resumes every snapshot and runs it to the end through the same stops, and checks that
/// the resumed VM starts in the snapshot's state, reaches the original's commitment at every
/// later stop, emits the original's chunks from its step on, and ends the same way.
fn assert_resumes_identically(elf: &[u8], input: &[u8], steps: &[u64]) {
    let mut vm = Vm::new(elf, input.to_vec()).expect("loads");
    let mut chunks = VecSink::default();
    let mut taken: Vec<Taken> = Vec::new();
    for &step in steps {
        let r = vm.run(&mut chunks, step - vm.retired()).expect("runs");
        assert_eq!(
            vm.retired(),
            step,
            "the program reaches step {step} ({r:?})"
        );
        let snap = vm.snapshot(taken.last().map(|t| &t.snap));
        assert_eq!(snap.retired(), step);
        taken.push(Taken {
            step,
            commitment: commitment(&vm),
            snap,
        });
    }
    let end = vm.run(&mut chunks, MAX).expect("runs").outcome;
    let end_commitment = commitment(&vm);
    assert!(matches!(end, Outcome::Exited(_) | Outcome::Trapped(_)));

    for (i, t) in taken.iter().enumerate() {
        let mut resumed = t.snap.resume();
        assert_eq!(resumed.retired(), t.step);
        assert_eq!(
            commitment(&resumed),
            t.commitment,
            "resumed at step {}",
            t.step
        );
        let mut mine = VecSink::default();
        for later in taken.get(i + 1..).unwrap_or_default() {
            resumed
                .run(&mut mine, later.step - resumed.retired())
                .expect("runs");
            assert_eq!(
                commitment(&resumed),
                later.commitment,
                "resumed at step {}, at step {}",
                t.step,
                later.step
            );
        }
        let outcome = resumed.run(&mut mine, MAX).expect("runs").outcome;
        assert_eq!(outcome, end, "resumed at step {}: the outcome", t.step);
        assert_eq!(
            commitment(&resumed),
            end_commitment,
            "resumed at {}",
            t.step
        );
        assert_eq!(resumed.retired(), vm.retired());
        let from = usize::try_from(t.step).expect("small");
        assert!(
            mine.0 == chunks.0[from..],
            "resumed at step {}: the same chunks ({} of {})",
            t.step,
            mine.0.len(),
            chunks.0.len() - from
        );
    }
}

/// Snapshot steps spread over a program of `len` steps: its start, its first steps, points
/// through it, its last step and its end (where it has exited or trapped).
fn spread(len: u64) -> Vec<u64> {
    let mut s = vec![
        0,
        1,
        2,
        len / 7,
        len / 3,
        len / 2,
        len - len / 5,
        len - 1,
        len,
    ];
    s.sort_unstable();
    s.dedup();
    s.retain(|&k| k <= len);
    s
}

#[test]
fn resumed_guests_emit_the_same_chunks_states_and_outcomes() {
    let block = ledger::generate_block(7, 40);
    let cases: [(&str, &[u8]); 5] = [
        ("hello", b""),
        ("sha256", b"abc"),
        ("sort", b"300 9"),
        ("sieve", b"3000"),
        ("ledger", block.as_bytes()),
    ];
    for (name, input) in cases {
        let elf = guests::find(name).expect("built-in guest").elf;
        let len = length(elf, input);
        assert!(len > 100, "{name} runs {len} steps");
        assert_resumes_identically(elf, input, &spread(len));
    }
}

/// The initial break of [`elf_rwx`]'s programs: the end of the 4 KiB data segment.
const B0: u32 = DATA + 0x1000;

/// Grows the heap by three pages and writes to each, unmaps the top one, reads input and
/// writes it out, patches an instruction of its own (writable) code before running it, maps
/// the top page again (it reads zero), then runs `tail`.
fn heap_and_code_program(tail: Vec<u32>) -> Vec<u8> {
    let patched = addi(6, 0, 42);
    let code = prog(&[
        sys(BRK, &[B0 + 0x3000], 20),
        sys(BRK, &[B0 + 0x3000], 20),
        sys(BRK, &[B0 + 0x3000], 20),
        li(6, 0xdead_beef),
        li(5, B0),
        vec![sw(6, 5, 0)],
        li(5, B0 + 0x1000),
        vec![sw(6, 5, 8)],
        li(5, B0 + 0x2000),
        vec![sw(6, 5, 16)],
        sys(BRK, &[B0 + 0x2000], 21),
        sys(READ, &[0, DATA, 16], 22),
        sys(WRITE, &[1, DATA, 16], 23),
        li(8, patched),
        // auipc x7, 0; sw x8, 12(x7); nop; addi x6, x0, 1 (replaced by addi x6, x0, 42)
        vec![auipc(7, 0), sw(8, 7, 12), addi(0, 0, 0), addi(6, 0, 1)],
        sys(BRK, &[B0 + 0x3000], 24),
        li(5, B0 + 0x2000),
        vec![lw(25, 5, 16), addi(10, 6, 0)],
        tail,
    ]);
    elf_rwx(&code, &[0x5a; 64])
}

#[test]
fn resumed_programs_that_map_unmap_and_patch_their_code_behave_the_same() {
    let input = b"sixteen bytes in and more";
    for (tail, ends) in [
        (exit(), "exits"),
        (vec![addi(6, 0, 3), EBREAK], "traps"),
        (prog(&[li(5, 0x4000_0000), vec![lw(6, 5, 0)]]), "faults"),
    ] {
        let elf = heap_and_code_program(tail);
        let len = length(&elf, input);
        // A snapshot at every step: every instruction of the program is a resume point.
        let steps: Vec<u64> = (0..=len).collect();
        assert_resumes_identically(&elf, input, &steps);

        let mut vm = Vm::new(&elf, input.to_vec()).expect("loads");
        let outcome = vm.run(&mut NoTrace, MAX).expect("runs").outcome;
        match ends {
            "exits" => assert_eq!(outcome, Outcome::Exited(42), "the patch ran"),
            _ => assert!(matches!(outcome, Outcome::Trapped(_)), "{ends}: {outcome}"),
        }
        assert_eq!(vm.stdout(), &input[..16]);
    }
}

#[test]
fn snapshots_with_no_writes_between_share_every_page() {
    let g = guests::find("sort").expect("built-in guest");
    let mut vm = Vm::new(g.elf, b"20000 5".to_vec()).expect("loads");
    vm.run(&mut NoTrace, 1_000_000).expect("runs");
    let first = vm.snapshot(None);
    let second = vm.snapshot(Some(&first));
    let resident = vm.memory().resident_pages();
    assert!(resident > 10, "{resident} pages");
    assert!(
        first.held_bytes() >= resident * PAGE_SIZE + (1 << 20),
        "the first holds its pages and the permission table: {}",
        first.held_bytes()
    );
    assert!(
        second.held_bytes() < PAGE_SIZE,
        "the second copies no page and no table: {} bytes",
        second.held_bytes()
    );
    assert_eq!(second.held_bytes_against(Some(&first)), second.held_bytes());
    assert_eq!(second.held_bytes_against(None), first.held_bytes());
    assert_eq!(second.resident_pages(), resident);
}

#[test]
fn a_page_written_after_a_snapshot_does_not_change_it() {
    let g = guests::find("sort").expect("built-in guest");
    let mut vm = Vm::new(g.elf, b"2000 5".to_vec()).expect("loads");
    vm.run(&mut NoTrace, 100_000).expect("runs");
    let first = vm.snapshot(None);
    let at_first = commitment(&vm);
    // Sorting rewrites the array: pages the two snapshots shared when taken are written now.
    vm.run(&mut NoTrace, 100_000).expect("runs");
    let second = vm.snapshot(Some(&first));
    let at_second = commitment(&vm);
    assert_ne!(at_first, at_second);
    assert!(
        second.held_bytes() >= PAGE_SIZE,
        "pages changed between them: {} bytes",
        second.held_bytes()
    );
    assert!(
        second.held_bytes() < first.held_bytes(),
        "unchanged pages and tables are shared: {} of {} bytes",
        second.held_bytes(),
        first.held_bytes()
    );
    // The VM writes on; neither snapshot sees it.
    vm.run(&mut NoTrace, MAX).expect("runs");
    assert_eq!(commitment(&first.resume()), at_first);
    assert_eq!(commitment(&second.resume()), at_second);
    // A VM resumed from the first writes the same pages again, into its own copies.
    let mut resumed = first.resume();
    resumed.run(&mut NoTrace, 100_000).expect("runs");
    assert_eq!(commitment(&resumed), at_second);
    assert_eq!(commitment(&first.resume()), at_first);
    assert_eq!(commitment(&second.resume()), at_second);
}

#[test]
fn the_input_is_shared_not_copied() {
    let g = guests::find("hello").expect("built-in guest");
    let input = vec![7u8; 8 << 20];
    let vm = Vm::new(g.elf, input).expect("loads");
    let snap = vm.snapshot(None);
    assert!(
        snap.held_bytes() < 4 << 20,
        "an 8 MiB input is not in the {} bytes held",
        snap.held_bytes()
    );
    assert_eq!(commitment(&snap.resume()), commitment(&vm));
}

#[test]
fn a_resumed_vm_keeps_the_output_counts_but_discards_the_output() {
    let g = guests::find("hello").expect("built-in guest");
    let mut vm = Vm::new(g.elf, Vec::new()).expect("loads");
    let len = length(g.elf, b"");
    vm.run(&mut NoTrace, len - 1).expect("runs");
    assert!(!vm.stdout().is_empty(), "hello has written before its exit");
    let resumed = vm.snapshot(None).resume();
    assert_eq!(resumed.stdout(), b"", "discarded");
    assert_eq!(
        resumed.state(0, MAX),
        vm.state(0, MAX),
        "counts and accumulators"
    );
}

/// The commitment, a memory proof and the step proof of `vm`: what the page roots feed.
fn roots_in_use(vm: &Vm) -> (Hash, poie::vm::LeafProof, poie::vm::StepProofParts) {
    (
        commitment(vm),
        vm.memory_proof(poie::vm::INITIAL_SP - 64),
        vm.step_proof(0, MAX),
    )
}

#[test]
fn page_roots_reused_from_any_snapshot_give_the_plain_commitment() {
    let sort = guests::find("sort").expect("built-in guest").elf;
    let sieve = guests::find("sieve").expect("built-in guest").elf;
    let plain_at = |step: u64| {
        let mut vm = Vm::new(sort, b"2000 5".to_vec()).expect("loads");
        vm.run(&mut NoTrace, step).expect("runs");
        vm
    };
    let mut other = Vm::new(sieve, b"5000".to_vec()).expect("loads");
    other.run(&mut NoTrace, 50_000).expect("runs");
    let foreign = other.snapshot(None);

    let mut vm = plain_at(30_000);
    let early = vm.snapshot(None);
    // Its own earlier snapshot's roots (cached by this first commitment), then a later step
    // at which many pages differ from it.
    vm.reuse_page_roots(&early);
    assert_eq!(roots_in_use(&vm), roots_in_use(&plain_at(30_000)));
    vm.run(&mut NoTrace, 70_000).expect("runs");
    assert_eq!(roots_in_use(&vm), roots_in_use(&plain_at(100_000)));
    // Another program's pages: same page numbers, other bytes.
    vm.reuse_page_roots(&foreign);
    assert_eq!(roots_in_use(&vm), roots_in_use(&plain_at(100_000)));
    // A resumed VM's own snapshot, before and after writes, and once the snapshot is gone.
    let mut resumed = early.resume();
    assert_eq!(roots_in_use(&resumed), roots_in_use(&plain_at(30_000)));
    resumed.run(&mut NoTrace, 70_000).expect("runs");
    assert_eq!(roots_in_use(&resumed), roots_in_use(&plain_at(100_000)));
    drop(early);
    assert_eq!(commitment(&resumed), commitment(&plain_at(100_000)));
}
