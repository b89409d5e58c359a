//! The VM state commitment (`Vm::state_commitment`), the first piece of a one-step referee:
//!
//! - every piece of state it must cover changes it, and each VM-level change moves exactly the
//!   fields it should (a guest is stepped one instruction at a time and the fields compared);
//! - it is deterministic, and cheap when most of the address space is untouched;
//! - the sparse memory and page-table roots equal naive trees built from every mapped page,
//!   and the header is the documented byte layout.

mod common;

use common::rv32::*;
use poie::trace::NoTrace;
use poie::vm::{StateCommitment, Vm, STATUS_EXITED, STATUS_RUNNING, STATUS_STEP_LIMIT};
use sha3::{Digest, Keccak256};
use std::collections::BTreeSet;
use std::time::Instant;

const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const S1: u32 = 9;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A7: u32 = 17;

/// The bss segment of the walk guest: two pages, mapped, not resident at load.
const BSS: u32 = 0x3_0000;
/// The walk guest's initial break: the end of its bss.
const BRK_START: u32 = BSS + 0x2000;

fn keccak(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn sb(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 0)
}

fn add(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0, rs2, rs1, 0, rd, 0x33)
}

fn bne(rs1: u32, rs2: u32, imm: i32) -> u32 {
    b(imm, rs2, rs1, 1)
}

/// The names of the fields that differ between two states (registers as `x<n>`).
fn changed(a: &StateCommitment, b: &StateCommitment) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut check = |name: &str, differs: bool| {
        if differs {
            out.insert(name.to_string());
        }
    };
    check("job", a.job != b.job);
    check("pc", a.pc != b.pc);
    check("memory_root", a.memory_root != b.memory_root);
    check("page_table_root", a.page_table_root != b.page_table_root);
    check("resident_pages", a.resident_pages != b.resident_pages);
    check("brk_start", a.brk_start != b.brk_start);
    check("brk", a.brk != b.brk);
    check("steps", a.steps != b.steps);
    check("max_steps", a.max_steps != b.max_steps);
    check("status", a.status != b.status);
    check("trap_kind", a.trap_kind != b.trap_kind);
    check("status_value", a.status_value != b.status_value);
    check("trap_pc", a.trap_pc != b.trap_pc);
    check("trap_word", a.trap_word != b.trap_word);
    check("input_root", a.input_root != b.input_root);
    check("input_len", a.input_len != b.input_len);
    check("input_pos", a.input_pos != b.input_pos);
    check("open_fds", a.open_fds != b.open_fds);
    check("stdout_len", a.stdout_len != b.stdout_len);
    check("stdout_acc", a.stdout_acc != b.stdout_acc);
    check("stderr_len", a.stderr_len != b.stderr_len);
    check("stderr_acc", a.stderr_acc != b.stderr_acc);
    for (i, (x, y)) in a.regs.iter().zip(&b.regs).enumerate() {
        if x != y {
            out.insert(format!("x{i}"));
        }
    }
    out
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// One step of the walk: the instructions, and the fields the last one must change (besides
/// `pc` and `steps`); the ones before it only set up registers.
struct Group {
    what: &'static str,
    code: Vec<u32>,
    changes: &'static [&'static str],
}

fn group(what: &'static str, code: Vec<u32>, changes: &'static [&'static str]) -> Group {
    Group {
        what,
        code,
        changes,
    }
}

/// The walk guest: each group changes one more piece of the state.
fn walk() -> Vec<Group> {
    vec![
        group("a register", vec![addi(T0, 0, 1)], &["x5"]),
        group("another register", vec![addi(T1, 0, 2)], &["x6"]),
        group("a third register", vec![lui(T2, DATA)], &["x7"]),
        group(
            "a word of a resident page",
            vec![sw(T0, T2, 8)],
            &["memory_root"],
        ),
        group(
            "a zero byte into a mapped page that is not resident: residency alone",
            vec![lui(S1, BSS), sb(0, S1, 0)],
            &["page_table_root", "resident_pages"],
        ),
        group(
            "one byte of the page just made resident",
            vec![sb(T0, S1, 1)],
            &["memory_root"],
        ),
        group(
            "one byte of another mapped page that is not resident",
            vec![lui(S1, BSS + 0x1000), sb(T0, S1, 0)],
            &["memory_root", "page_table_root", "resident_pages"],
        ),
        group(
            "brk maps a heap page",
            [li(A0, BRK_START + 16), vec![addi(A7, 0, 214), ECALL]].concat(),
            &["brk", "page_table_root"],
        ),
        group(
            "brk moves within the page",
            [li(A0, BRK_START + 32), vec![ECALL]].concat(),
            &["brk"],
        ),
        group(
            "read 4 input bytes",
            [
                vec![addi(A0, 0, 0)],
                li(A1, DATA + 64),
                vec![addi(A2, 0, 4), addi(A7, 0, 63), ECALL],
            ]
            .concat(),
            &["input_pos", "memory_root", "x10"],
        ),
        group(
            "write 3 bytes to stdout",
            [
                vec![addi(A0, 0, 1)],
                li(A1, DATA),
                vec![addi(A2, 0, 3), addi(A7, 0, 64), ECALL],
            ]
            .concat(),
            &["stdout_len", "stdout_acc", "x10"],
        ),
        group(
            "write 3 bytes to stderr",
            vec![addi(A0, 0, 2), ECALL],
            &["stderr_len", "stderr_acc", "x10"],
        ),
        group(
            "an empty write to stdout changes nothing but a0",
            vec![addi(A0, 0, 1), addi(A2, 0, 0), ECALL],
            &["x10"],
        ),
        group(
            "close stdin",
            vec![addi(A0, 0, 0), addi(A7, 0, 57), ECALL],
            &["open_fds"],
        ),
        group(
            "exit with a full 32-bit status",
            [li(A0, 0xdead_beef), vec![addi(A7, 0, 93), ECALL]].concat(),
            &["status", "status_value"],
        ),
    ]
}

/// The walk guest's ELF: text with the given flags, a resident data page holding 1..=16, and
/// two bss pages.
fn walk_elf(text_flags: u32) -> Vec<u8> {
    let code: Vec<u32> = walk().into_iter().flat_map(|g| g.code).collect();
    let data = Seg {
        vaddr: DATA,
        memsz: 0x1000,
        flags: PF_R | PF_W,
        bytes: (1..=16).collect(),
    };
    elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, text_flags, &code),
            data,
            Seg::zero(BSS, 0x2000, PF_R | PF_W),
        ],
    )
}

const INPUT: &[u8] = b"abcdefgh";
const MAX: u64 = 1000;

fn load(elf_image: &[u8], input: &[u8]) -> Vm {
    Vm::new(elf_image, input.to_vec()).expect("guest loads")
}

/// Runs `vm` to its end (at most `MAX` steps).
fn finish(vm: &mut Vm) {
    vm.run(&mut NoTrace, MAX).expect("no sink error");
}

/// (1) Stepping the walk guest one instruction at a time, each step changes exactly the
/// fields it should (plus `pc` and `steps`), and every state's commitment is new.
#[test]
fn state_each_vm_change_moves_exactly_its_fields() {
    let mut vm = load(&walk_elf(PF_R | PF_X), INPUT);
    let mut before = vm.state(0, MAX);
    assert_eq!(before.status, STATUS_RUNNING);
    assert_eq!(before.brk_start, u64::from(BRK_START));
    let mut seen = BTreeSet::from([before.root()]);
    for g in walk() {
        let n = g.code.len();
        for k in 0..n {
            vm.run(&mut NoTrace, 1).expect("no sink error");
            let after = vm.state(0, MAX);
            assert_eq!(after.steps, before.steps + 1, "{}: one step", g.what);
            let mut diff = changed(&before, &after);
            diff.remove("steps");
            let moved_pc = diff.remove("pc");
            if k + 1 < n {
                assert!(
                    diff.iter().all(|f| f.starts_with('x')),
                    "{}: setup step {k} changed {diff:?}",
                    g.what
                );
            } else {
                assert_eq!(diff, set(g.changes), "{}", g.what);
            }
            assert!(moved_pc || after.status == STATUS_EXITED, "{}", g.what);
            assert!(seen.insert(after.root()), "{}: a new commitment", g.what);
            before = after;
        }
    }
    assert_eq!(before.status, STATUS_EXITED);
    assert_eq!(before.status_value, 0xdead_beef);
    assert_eq!(before.open_fds, 0b110);
    assert_eq!((before.stdout_len, before.stderr_len), (3, 3));
    assert_eq!(before.input_pos, 4);
}

/// (1) The pieces of state that no guest step changes in the walk: the input bytes and
/// length, the job index, the step limit, the text's permissions.
#[test]
fn state_inputs_job_limit_and_permissions_move_exactly_their_fields() {
    let image = walk_elf(PF_R | PF_X);
    let base = load(&image, INPUT).state(0, MAX);
    let cases: Vec<(&str, StateCommitment, &[&str])> = vec![
        (
            "one input byte",
            load(&image, b"abcdefgX").state(0, MAX),
            &["input_root"],
        ),
        (
            "one more input byte",
            load(&image, b"abcdefghi").state(0, MAX),
            &["input_root", "input_len"],
        ),
        (
            // The tree pads with zeros, so only the length tells a trailing zero byte apart.
            "one more input byte, zero",
            load(&image, b"abcdefgh\0").state(0, MAX),
            &["input_len"],
        ),
        ("the job index", load(&image, INPUT).state(1, MAX), &["job"]),
        (
            "the step limit",
            load(&image, INPUT).state(0, MAX + 1),
            &["max_steps"],
        ),
        (
            "a step limit already reached",
            load(&image, INPUT).state(0, 0),
            &["max_steps", "status"],
        ),
        (
            "a writable text page (the same bytes)",
            load(&walk_elf(PF_R | PF_W | PF_X), INPUT).state(0, MAX),
            &["page_table_root"],
        ),
    ];
    let mut seen = BTreeSet::from([base.root()]);
    for (what, s, fields) in cases {
        assert_eq!(changed(&base, &s), set(fields), "{what}");
        assert!(seen.insert(s.root()), "{what}: a new commitment");
    }
    assert_eq!(load(&image, INPUT).state(0, 0).status, STATUS_STEP_LIMIT);
}

/// (1) Every field enters the commitment: changing any one of them alone, registers each,
/// changes the root.
#[test]
fn state_every_field_changes_the_root() {
    let mut vm = load(&walk_elf(PF_R | PF_X), INPUT);
    finish(&mut vm);
    let base = vm.state(3, MAX);
    let root = base.root();
    let flip = |h: &mut [u8; 32]| h[31] ^= 1;
    type Edit = Box<dyn Fn(&mut StateCommitment)>;
    fn e(name: &str, f: impl Fn(&mut StateCommitment) + 'static) -> (String, Edit) {
        (name.to_string(), Box::new(f))
    }
    let mut edits: Vec<(String, Edit)> = vec![
        e("job", |s| s.job ^= 1),
        e("pc", |s| s.pc ^= 4),
        e("memory_root", move |s| flip(&mut s.memory_root)),
        e("page_table_root", move |s| flip(&mut s.page_table_root)),
        e("resident_pages", |s| s.resident_pages ^= 1),
        e("brk_start", |s| s.brk_start ^= 1 << 32),
        e("brk", |s| s.brk ^= 1),
        e("steps", |s| s.steps ^= 1),
        e("max_steps", |s| s.max_steps ^= 1 << 40),
        e("status", |s| s.status ^= 3),
        e("trap_kind", |s| s.trap_kind ^= 1),
        e("status_value", |s| s.status_value ^= 1 << 31),
        e("trap_pc", |s| s.trap_pc ^= 1),
        e("trap_word", |s| s.trap_word ^= 1),
        e("input_root", move |s| flip(&mut s.input_root)),
        e("input_len", |s| s.input_len ^= 1),
        e("input_pos", |s| s.input_pos ^= 1),
        e("open_fds", |s| s.open_fds ^= 1),
        e("stdout_len", |s| s.stdout_len ^= 1),
        e("stdout_acc", move |s| flip(&mut s.stdout_acc)),
        e("stderr_len", |s| s.stderr_len ^= 1),
        e("stderr_acc", move |s| flip(&mut s.stderr_acc)),
    ];
    for i in 0..32 {
        edits.push(e(&format!("x{i}"), move |s| s.regs[i] ^= 1));
    }
    let mut seen = BTreeSet::from([root]);
    for (name, edit) in &edits {
        let mut s = base.clone();
        edit(&mut s);
        assert_eq!(changed(&base, &s).len(), 1, "{name}");
        assert!(seen.insert(s.root()), "{name}: a new commitment");
    }
}

/// (1) Every way a job ends commits differently: exit statuses (all 32 bits), trap kinds and
/// their addresses, the step limit.
#[test]
fn state_outcomes_commit_differently() {
    let ended = |code: Vec<u32>, steps: u64| {
        let mut vm = load(&elf(&code, &[]), b"");
        vm.run(&mut NoTrace, steps).expect("no sink error");
        vm.state(0, steps)
    };
    let exit_with = |v: u32| ended([li(A0, v), exit()].concat(), 10);
    let load_from = |a: u32| ended([li(T0, a), vec![lw(T1, T0, 0)]].concat(), 10);
    let outcomes = [
        ("exit 0", exit_with(0)),
        ("exit 1", exit_with(1)),
        ("exit 0x100 (same low byte as 0)", exit_with(0x100)),
        ("ebreak", ended(vec![EBREAK], 10)),
        ("illegal instruction", ended(vec![0xffff_ffff], 10)),
        ("load fault at 0", load_from(0)),
        ("load fault at 4", load_from(4)),
        ("step limit", ended(vec![j(0, 0)], 5)),
    ];
    let mut seen = BTreeSet::new();
    for (what, s) in &outcomes {
        assert!(seen.insert(s.root()), "{what}: a new commitment");
    }
    let (_, limit) = &outcomes[7];
    assert_eq!(limit.status, STATUS_STEP_LIMIT);
    let (_, fault4) = &outcomes[6];
    assert_eq!((fault4.trap_kind, fault4.status_value), (3, 4));
}

/// (2) Two identical runs give the same commitment; a huge untouched heap costs no memory
/// hashing (the memory root does not move) and little time.
#[test]
fn state_is_deterministic_and_cheap_when_untouched() {
    let run = || {
        let mut vm = load(&walk_elf(PF_R | PF_X), INPUT);
        finish(&mut vm);
        vm.state_commitment(2, MAX)
    };
    assert_eq!(run(), run());

    // brk to the top of the heap, a page per call: 1.75 GiB mapped, none of it resident.
    let code = [
        li(T0, 0x7000_0000),
        vec![addi(A0, T0, 0), addi(A7, 0, 214), ECALL, b(-12, T0, A0, 1)],
        exit(),
    ]
    .concat();
    let small = load(&elf(&code, &[]), b"");
    let mut big = load(&elf(&code, &[]), b"");
    let calls = (0x7000_0000 - 0x2_1000) / 4096;
    big.run(&mut NoTrace, 2 + 4 * calls).expect("no sink error");
    let (s0, s1) = (small.state(0, MAX), big.state(0, MAX));
    assert_eq!(s1.brk, 0x7000_0000);
    assert_eq!(s0.memory_root, s1.memory_root, "untouched pages are zero");
    assert_ne!(s0.page_table_root, s1.page_table_root);
    let t = Instant::now();
    let again = big.state_commitment(0, MAX);
    let took = t.elapsed();
    assert_eq!(again, s1.root());
    eprintln!("state_commitment with 1.75 GiB mapped, untouched: {took:?}");
    assert!(took.as_secs_f64() < 1.0, "took {took:?}");
}

/// The root of a complete tree over `leaves` (a power of two of them).
fn dense(mut level: Vec<[u8; 32]>) -> [u8; 32] {
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| keccak(&[&p[0], &p[1]]))
            .collect();
    }
    level[0]
}

/// The root of height `height` over the subtrees `at` (sorted by index, at height 0 of this
/// recursion), with zero subtrees of height `base + h` elsewhere.
fn sparse_naive(
    at: &[(u64, [u8; 32])],
    lo: u64,
    height: u32,
    z: &[[u8; 32]],
    base: usize,
) -> [u8; 32] {
    let hi = lo + (1u64 << height);
    let from = at.partition_point(|&(i, _)| i < lo);
    let to = at.partition_point(|&(i, _)| i < hi);
    if from == to {
        return z[base + height as usize];
    }
    if height == 0 {
        return at[from].1;
    }
    let half = 1u64 << (height - 1);
    let inside = &at[from..to];
    keccak(&[
        &sparse_naive(inside, lo, height - 1, z, base),
        &sparse_naive(inside, lo + half, height - 1, z, base),
    ])
}

fn zeros() -> Vec<[u8; 32]> {
    let mut z = vec![[0u8; 32]];
    for k in 0..27 {
        let next = keccak(&[&z[k], &z[k]]);
        z.push(next);
    }
    z
}

/// (3) The memory root from every leaf of every mapped page (127 hashes a page, no zero
/// shortcut inside pages), zero subtrees elsewhere; the page table root from the whole 1 MiB
/// table with the resident pages the test knows; and the header as SPEC lays it out.
fn check_against_naive(vm: &Vm, resident: &BTreeSet<u32>) {
    let z = zeros();
    let mem = vm.memory();
    let mut pages = Vec::new();
    let mut table = vec![0u8; 1 << 20];
    for page in 0..1u32 << 20 {
        let perms = mem.perms(page << 12);
        if perms == 0 {
            continue;
        }
        let bytes = mem.read_bytes(page << 12, 4096).expect("mapped");
        let leaves: Vec<[u8; 32]> = bytes
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32 bytes"))
            .collect();
        pages.push((u64::from(page), dense(leaves)));
        table[page as usize] = perms | if resident.contains(&page) { 8 } else { 0 };
    }
    let memory_root = sparse_naive(&pages, 0, 20, &z, 7);
    let table_root = dense(
        table
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32 bytes"))
            .collect(),
    );
    let s = vm.state(7, MAX);
    assert_eq!(s.memory_root, memory_root, "memory root");
    assert_eq!(s.page_table_root, table_root, "page table root");
    assert_eq!(s.resident_pages as usize, resident.len());

    // The header, field by field as the proposed SPEC section lists it, big-endian.
    let mut h: Vec<u8> = b"poie/v1/vmstate".to_vec();
    h.extend(s.job.to_be_bytes());
    h.extend(s.pc.to_be_bytes());
    for r in s.regs {
        h.extend(r.to_be_bytes());
    }
    h.extend(s.memory_root);
    h.extend(s.page_table_root);
    h.extend(s.resident_pages.to_be_bytes());
    for v in [s.brk_start, s.brk, s.steps, s.max_steps] {
        h.extend(v.to_be_bytes());
    }
    h.extend([s.status, s.trap_kind]);
    for v in [s.status_value, s.trap_pc, s.trap_word] {
        h.extend(v.to_be_bytes());
    }
    h.extend(s.input_root);
    h.extend(s.input_len.to_be_bytes());
    h.extend(s.input_pos.to_be_bytes());
    h.push(s.open_fds);
    h.extend(s.stdout_len.to_be_bytes());
    h.extend(s.stdout_acc);
    h.extend(s.stderr_len.to_be_bytes());
    h.extend(s.stderr_acc);
    assert_eq!(h.len(), 394);
    assert_eq!(vm.state_commitment(7, MAX), keccak(&[&h]));
}

/// (3) The walk guest, finished: the sparse roots equal the naive ones; the input root and the
/// output accumulators are the documented ones.
#[test]
fn state_roots_match_a_naive_reference() {
    let mut vm = load(&walk_elf(PF_R | PF_X), INPUT);
    check_against_naive(&vm, &BTreeSet::from([0x10, 0x20, 0x7ffff]));
    finish(&mut vm);
    check_against_naive(&vm, &BTreeSet::from([0x10, 0x20, 0x30, 0x31, 0x7ffff]));

    let s = vm.state(0, MAX);
    // The input, zero-padded to one 32-byte leaf, under 27 levels of zero siblings.
    let z = zeros();
    let mut leaf = [0u8; 32];
    leaf[..INPUT.len()].copy_from_slice(INPUT);
    let input_root = (0..27).fold(leaf, |acc, k| keccak(&[&acc, &z[k]]));
    assert_eq!(s.input_root, input_root);
    // stdout and stderr each got the data segment's first 3 bytes, in one write.
    let acc = keccak(&[&[0u8; 32], &[1, 2, 3]]);
    assert_eq!((s.stdout_acc, s.stderr_acc), (acc, acc));
}

/// (3) and timing: a guest that fills 100 pages with non-zero words (every leaf non-zero),
/// checked against the naive roots, and `state_commitment` timed.
#[test]
fn state_commitment_of_a_hundred_resident_pages() {
    const HEAP: u32 = 0x4000_0000;
    const WORDS: u32 = 100 * 1024;
    let code = [
        li(T0, HEAP),
        li(T1, WORDS),
        vec![
            sw(T1, T0, 0),
            addi(T0, T0, 4),
            addi(T1, T1, -1),
            bne(T1, 0, -12),
            add(A0, 0, 0),
        ],
        exit(),
    ]
    .concat();
    let image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &code),
            Seg::zero(HEAP, WORDS * 4, PF_R | PF_W),
        ],
    );
    let mut vm = load(&image, b"");
    vm.run(&mut NoTrace, 10_000_000).expect("no sink error");
    let s = vm.state(0, MAX);
    assert_eq!(s.status, STATUS_EXITED);
    let mut resident: BTreeSet<u32> = (0..100).map(|p| (HEAP >> 12) + p).collect();
    resident.extend([0x10, 0x7ffff]);
    assert_eq!(s.resident_pages, 102);
    check_against_naive(&vm, &resident);

    let runs = 20;
    let t = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(vm.state_commitment(0, MAX));
    }
    let each = t.elapsed() / runs;
    eprintln!("state_commitment with 102 resident pages (100 full): {each:?} each");
    assert!(each.as_secs_f64() < 1.0, "took {each:?}");
}
