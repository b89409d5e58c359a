//! Hostile guests and Linux fidelity (issue 10).
//!
//! - Memory is paid for only when written, and at most `MAX_RESIDENT_PAGES` pages may be
//!   resident: huge segments, a huge `brk` and refused ELFs keep `poie run` small, measured as
//!   the peak RSS of a child process; touching past the limit traps at a defined instruction.
//! - W^X as on Linux: code runs only from executable pages, and neither a store nor `brk` adds a
//!   permission to a page.
//! - The initial stack, break, `fence.i` and `close` as a static executable sees them on Linux,
//!   read by a C guest.
//!
//! Where `qemu-riscv32` is installed, the programs whose behaviour Linux defines also run under
//! it and must agree.

mod common;

use common::rv32::*;
use common::{cli, tools};
use poie::trace::{NoTrace, VecSink};
use poie::vm::{LoadError, Outcome, Trap, TrapKind, Vm, MAX_RESIDENT_PAGES};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const S1: u32 = 9;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;

/// Host memory a hostile guest may cost `poie run` beyond what it touches: the binary, the
/// 9 MiB of page tables and the guest's few resident pages. The unfixed VM reached gigabytes.
const SMALL_KIB: u64 = 64 << 10;

/// Address space `poie run` gets in these tests (KiB): a VM that allocated a hostile guest's
/// segments or break eagerly dies here even where peak RSS cannot be read.
const ADDRESS_SPACE_KIB: u64 = 1 << 20;

/// What a `poie run` child did, and its peak resident memory.
struct Measured {
    code: Option<i32>,
    stderr: String,
    /// Peak RSS in KiB: GNU time's `%M` (from wait4) when /usr/bin/time exists, else the
    /// highest `VmHWM` seen while polling /proc (which can miss a child that exits at once).
    peak_kib: Option<u64>,
}

fn gnu_time() -> bool {
    Command::new("/usr/bin/time")
        .args(["-f", "%M", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `poie run ELF` with an address-space cap and measures its peak RSS.
fn poie_run_measured(dir: &Path, name: &str, elf: &[u8]) -> Measured {
    let path = dir.join(name);
    std::fs::write(&path, elf).expect("write elf");
    let rss_file = dir.join(format!("{name}.rss"));
    let timed = gnu_time();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {ADDRESS_SPACE_KIB} && exec \"$@\""))
        .arg("sh");
    if timed {
        cmd.arg("/usr/bin/time")
            .arg("-o")
            .arg(&rss_file)
            .args(["-f", "%M"]);
    }
    cmd.arg(cli::bin_path())
        .arg("run")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("poie starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut polled = None;
    while child.try_wait().expect("waits").is_none() {
        if let Some(kib) = vm_hwm_kib(child.id()) {
            polled = Some(polled.unwrap_or(0).max(kib));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("poie run {name} still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().expect("output");
    let peak_kib = if timed {
        let text = std::fs::read_to_string(&rss_file).expect("time wrote the peak");
        // GNU time puts "Command exited with non-zero status N" before the value.
        text.lines().last().and_then(|l| l.trim().parse().ok())
    } else {
        polled
    };
    let m = Measured {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        peak_kib,
    };
    eprintln!(
        "poie run {name}: exit {:?}, peak RSS {:?} KiB ({})",
        m.code,
        m.peak_kib,
        if timed { "GNU time" } else { "VmHWM polled" }
    );
    m
}

fn assert_small(m: &Measured, limit_kib: u64) {
    if let Some(kib) = m.peak_kib {
        assert!(
            kib < limit_kib,
            "peak RSS {kib} KiB, expected under {limit_kib} KiB"
        );
    }
}

fn load(elf: &[u8]) -> Vm {
    Vm::new(elf, Vec::new()).expect("loads")
}

fn trapped(r: Outcome) -> Trap {
    match r {
        Outcome::Trapped(t) => t,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// RX code at TEXT; two read-write segments of 1.5 GiB each, no file bytes.
fn two_huge_segments(code: &[u32]) -> Vec<u8> {
    elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, code),
            Seg::zero(0x0100_0000, 0x6000_0000, PF_R | PF_W),
            Seg::zero(0x8000_0000, 0x6000_0000, PF_R | PF_W),
        ],
    )
}

#[test]
fn huge_segments_cost_only_the_pages_written() {
    // Store to the last word of each segment, load from the middle of one, exit(loaded value).
    let code = prog(&[
        vec![addi(T1, 0, 1)],
        li(T0, 0x6100_0000 - 4),
        vec![sw(T1, T0, 0)],
        li(T0, 0xe000_0000 - 4),
        vec![sw(T1, T0, 0)],
        li(T0, 0x3000_0000),
        vec![lw(A0, T0, 0)],
        exit(),
    ]);
    let image = two_huge_segments(&code);
    let mut vm = load(&image);
    assert_eq!(
        vm.memory().resident_pages(),
        2,
        "the code page and the stack's top page"
    );
    let r = vm.run(&mut NoTrace, 100).expect("runs");
    assert_eq!(r.outcome, Outcome::Exited(0), "untouched memory reads zero");
    assert_eq!(vm.memory().resident_pages(), 4);

    let dir = tempfile::tempdir().expect("tempdir");
    let m = poie_run_measured(dir.path(), "two_huge", &image);
    assert_eq!(m.code, Some(0), "{}", m.stderr);
    assert_small(&m, SMALL_KIB);
}

/// `brk(a0 = target)` until it returns `target`, the target in `reg`: poie moves the break at
/// most one page per call (SPEC 1.4), so a guest that wants more loops, as a libc does.
fn brk_until(reg: u32) -> Vec<u32> {
    vec![
        addi(A0, reg, 0),
        addi(17, 0, 214),
        ECALL,
        b(-12, reg, A0, 1), // bne a0, reg, back to the first instruction
    ]
}

#[test]
fn a_gibibyte_of_brk_costs_only_the_pages_written() {
    // brk(brk(0) + 1 GiB), looped until there, one page per call; store to the last word
    // below the new break; exit(0).
    let code = prog(&[
        vec![addi(A0, 0, 0)],
        syscall(214),
        vec![
            addi(S1, A0, 0),
            lui(T0, 0x4000_0000),
            r(0, T0, A0, 0, T0, 0x33), // t0 = the break + 1 GiB
        ],
        brk_until(T0),
        vec![sw(A0, A0, -4), addi(A0, 0, 0)],
        exit(),
    ]);
    let image = elf_segments(TEXT, &[Seg::code(TEXT, PF_R | PF_X, &code)]);
    let mut vm = load(&image);
    let r = vm.run(&mut NoTrace, 2_000_000).expect("runs");
    assert_eq!(r.outcome, Outcome::Exited(0));
    assert_eq!(vm.reg(S1 as usize), 0x1_1000, "initial break");
    assert_eq!(vm.reg(T0 as usize), 0x4001_1000);
    // 6 steps to the loop, 4 per call (one call per page: 2^18 of them), 4 after.
    assert_eq!(r.steps, 6 + 4 * (1 << 18) + 4, "one page per brk call");
    assert_eq!(vm.memory().resident_pages(), 3);

    let dir = tempfile::tempdir().expect("tempdir");
    let m = poie_run_measured(dir.path(), "brk_1g", &image);
    assert_eq!(m.code, Some(0), "{}", m.stderr);
    assert_small(&m, SMALL_KIB);
}

#[test]
fn refused_elfs_allocate_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Huge segments, but none executable: refused after the whole table is read.
    let no_code = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_W, &exit()),
            Seg::zero(0x0100_0000, 0x6000_0000, PF_R | PF_W),
            Seg::zero(0x8000_0000, 0x6000_0000, PF_R | PF_W),
        ],
    );
    let m = poie_run_measured(dir.path(), "no_code", &no_code);
    assert_eq!(m.code, Some(125), "{}", m.stderr);
    assert!(m.stderr.contains("no executable segment"), "{}", m.stderr);
    assert_small(&m, SMALL_KIB);

    // 65 segments all backed by the same 4 MiB of the file: 66560 pages to fill, more than
    // the limit. Refused before a page is allocated.
    let mut image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &exit()),
            Seg {
                vaddr: 0x1000_0000,
                memsz: 4 << 20,
                flags: PF_R | PF_W,
                bytes: vec![0x5a; 4 << 20],
            },
        ],
    );
    let shared = image[52 + 32 + 4..52 + 32 + 8].to_vec();
    let copies = 65u32;
    image[44..46].copy_from_slice(&(1 + copies as u16).to_le_bytes());
    for k in 1..copies {
        let h = 52 + 32 * (1 + k as usize);
        let vaddr = 0x1000_0000 + k * (4 << 20);
        let fields = [1, 0, vaddr, vaddr, 4 << 20, 4 << 20, PF_R | PF_W, 0x1000];
        for (n, v) in fields.into_iter().enumerate() {
            image[h + 4 * n..h + 4 * n + 4].copy_from_slice(&v.to_le_bytes());
        }
        image[h + 4..h + 8].copy_from_slice(&shared);
    }
    match Vm::new(&image, Vec::new()) {
        Err(LoadError::TooManyPages(pages)) => assert_eq!(pages, 1 + 65 * 1024 + 1),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("loaded"),
    }
    let m = poie_run_measured(dir.path(), "too_many_pages", &image);
    assert_eq!(m.code, Some(125), "{}", m.stderr);
    assert!(
        m.stderr.contains("66562 pages, more than the 65536"),
        "{}",
        m.stderr
    );
    assert_small(&m, SMALL_KIB);
}

/// A 512 MiB bss at BSS and a loop that writes one word per page, upwards, forever.
const BSS: u32 = 0x1000_0000;

fn page_toucher() -> Vec<u8> {
    let code = prog(&[
        li(T0, BSS),
        vec![
            lui(T2, 0x1000),
            sw(0, T0, 0),
            r(0, T2, T0, 0, T0, 0x33), // add t0, t0, t2
            j(-8, 0),
        ],
    ]);
    elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &code),
            Seg::zero(BSS, 0x2000_0000, PF_R | PF_W),
        ],
    )
}

#[test]
fn writing_past_the_page_limit_traps_at_a_defined_store() {
    let image = page_toucher();
    // Two pages are resident at load (code, stack top), so the store to page 65534 of the
    // bss is the first that does not fit.
    let first_over = BSS + ((MAX_RESIDENT_PAGES as u32 - 2) << 12);
    let steps = 3 + 3 * (MAX_RESIDENT_PAGES as u64 - 2);
    let run = || {
        let mut vm = load(&image);
        let mut sink = VecSink::default();
        let r = vm.run(&mut sink, u64::MAX).expect("runs");
        assert_eq!(vm.memory().resident_pages(), MAX_RESIDENT_PAGES);
        (r, blake3::hash(sink.0.as_flattened()))
    };
    let (r, trace) = run();
    let t = trapped(r.outcome);
    assert_eq!(t.kind, TrapKind::MemoryLimit { addr: first_over });
    assert_eq!((t.pc, t.word), (TEXT + 12, sw(0, T0, 0)));
    assert_eq!(
        r.steps, steps,
        "the store that does not fit does not retire"
    );
    assert_eq!(r.outcome.exit_code(), 137);
    assert_eq!(run(), (r, trace), "the same trap and trace every time");

    let dir = tempfile::tempdir().expect("tempdir");
    let m = poie_run_measured(dir.path(), "page_toucher", &page_toucher());
    assert_eq!(m.code, Some(137), "{}", m.stderr);
    assert!(
        m.stderr
            .contains("memory limit: a write to 0x1fffe000 would make more than 65536 pages"),
        "{}",
        m.stderr
    );
    // The guest's 256 MiB, and no more than the usual overhead besides.
    assert_small(&m, (256 << 10) + SMALL_KIB);
}

#[test]
fn a_read_past_the_page_limit_traps_at_its_ecall() {
    // Fill the limit, then read into a resident page (fine) and into a fresh one (trap).
    let mut code = prog(&[
        li(T0, BSS),
        li(T1, MAX_RESIDENT_PAGES as u32 - 2),
        vec![lui(T2, 0x1000)],
    ]);
    code.extend([
        sw(0, T0, 0),
        r(0, T2, T0, 0, T0, 0x33),
        addi(T1, T1, -1),
        b(-12, 0, T1, 1), // bne t1, x0, -12
    ]);
    code.extend(prog(&[
        vec![addi(A0, 0, 0), lui(A1, BSS), addi(A2, 0, 1)],
        syscall(63),
        vec![addi(S1, A0, 0), addi(A0, 0, 0), addi(A1, T0, 0)],
        syscall(63),
        exit(),
    ]));
    let ecall_pc = TEXT + 4 * (code.len() as u32 - 3);
    let image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &code),
            Seg::zero(BSS, 0x2000_0000, PF_R | PF_W),
        ],
    );
    let mut vm = Vm::new(&image, b"ab".to_vec()).expect("loads");
    let r = vm.run(&mut NoTrace, u64::MAX).expect("runs");
    let t = trapped(r.outcome);
    let fresh = BSS + ((MAX_RESIDENT_PAGES as u32 - 2) << 12);
    assert_eq!(t.kind, TrapKind::MemoryLimit { addr: fresh });
    assert_eq!((t.pc, t.word), (ecall_pc, ECALL));
    assert_eq!(
        vm.reg(S1 as usize),
        1,
        "the read into a resident page worked"
    );
    assert_eq!(
        vm.reg(A0 as usize),
        0,
        "a0 is unchanged by the trapping call"
    );
    assert_eq!(vm.memory().load_u8(BSS), Some(b'a' as u32));
}

/// Writes `li a0, 42; li a7, 93; ecall` at `t0` and jumps there.
fn store_exit_42_and_jump(at: u32) -> Vec<u32> {
    let mut code = li(T0, at);
    for (k, word) in [addi(A0, 0, 42), addi(17, 0, 93), ECALL]
        .into_iter()
        .enumerate()
    {
        code.extend(li(T1, word));
        code.push(sw(T1, T0, 4 * k as i32));
    }
    code.push(jalr(0, T0, 0));
    code
}

/// Runs `image` under poie and, when it is installed, qemu; returns poie's outcome after
/// checking the two exit codes agree with `expect`.
fn run_both(image: &[u8], expect: i32) -> Outcome {
    let mut vm = load(image);
    let r = vm.run(&mut NoTrace, 10_000).expect("runs");
    assert_eq!(i32::from(r.outcome.exit_code()), expect, "{}", r.outcome);
    match tools::qemu_run(image, b"") {
        Some((_, code)) => assert_eq!(code, expect, "qemu-riscv32"),
        None => eprintln!("qemu-riscv32 not installed: poie alone checked"),
    }
    r.outcome
}

#[test]
fn code_stored_into_a_data_page_between_code_pages_never_runs() {
    // RX, RW, RX: the data page lies inside the span of code pages.
    let data = TEXT + 0x1000;
    let image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &store_exit_42_and_jump(data)),
            Seg::zero(data, 0x1000, PF_R | PF_W),
            Seg::code(
                TEXT + 0x2000,
                PF_R | PF_X,
                &prog(&[vec![addi(A0, 0, 7)], exit()]),
            ),
        ],
    );
    let t = trapped(run_both(&image, 139));
    assert_eq!((t.kind, t.pc), (TrapKind::FetchFault, data));
    assert_eq!(
        t.word,
        addi(A0, 0, 42),
        "the trap reports the word now at pc"
    );
}

#[test]
fn code_stored_into_writable_executable_bss_runs() {
    // A zero-filled RWX segment holds no file bytes, so it lies outside the predecoded table;
    // it is still executable, and what is stored there runs.
    let rwx = 0x2_0000;
    let image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &store_exit_42_and_jump(rwx)),
            Seg::zero(rwx, 0x1000, PF_R | PF_W | PF_X),
        ],
    );
    assert_eq!(run_both(&image, 42), Outcome::Exited(42));
    // Its zero words are illegal instructions (SIGILL), not fetch faults.
    let code = prog(&[li(T0, rwx + 16), vec![jalr(0, T0, 0)]]);
    let image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &code),
            Seg::zero(rwx, 0x1000, PF_R | PF_W | PF_X),
        ],
    );
    let t = trapped(run_both(&image, 132));
    assert_eq!(
        (t.kind, t.pc, t.word),
        (TrapKind::IllegalInstruction, rwx + 16, 0)
    );
}

#[test]
fn code_read_into_writable_executable_pages_runs_as_read() {
    // One RWX segment with file bytes, so it lies inside the predecoded table: `read` from
    // stdin overwrites `exit(7)` at TARGET with `exit(42)`, then the guest jumps there. Linux
    // runs the bytes read; so must poie, whose decoded copy of TARGET is stale until `read`
    // refreshes it.
    const TARGET: u32 = TEXT + 0x100;
    let mut code = prog(&[
        vec![addi(A0, 0, 0)],
        li(11, TARGET),
        vec![addi(12, 0, 12), addi(17, 0, 63), ECALL],
        li(T0, TARGET),
        vec![jalr(0, T0, 0)],
    ]);
    code.resize(((TARGET - TEXT) / 4) as usize, addi(0, 0, 0));
    code.extend([addi(A0, 0, 7), addi(17, 0, 93), ECALL]);
    let image = elf_segments(TEXT, &[Seg::code(TEXT, PF_R | PF_W | PF_X, &code)]);
    let input: Vec<u8> = [addi(A0, 0, 42), addi(17, 0, 93), ECALL]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    let mut vm = Vm::new(&image, input.clone()).expect("loads");
    let r = vm.run(&mut NoTrace, 10_000).expect("runs");
    assert_eq!(r.outcome, Outcome::Exited(42), "{}", r.outcome);
    match tools::qemu_run(&image, &input) {
        Some((_, code)) => assert_eq!(code, 42, "qemu-riscv32"),
        None => eprintln!("qemu-riscv32 not installed: poie alone checked"),
    }
    // A short read refreshes only what it wrote: the first word alone becomes `li a0, 42`,
    // and the old `li a7, 93; ecall` after it still exits.
    let mut vm = Vm::new(&image, input[..4].to_vec()).expect("loads");
    let r = vm.run(&mut NoTrace, 10_000).expect("runs");
    assert_eq!(r.outcome, Outcome::Exited(42), "{}", r.outcome);
}

/// `code` behind a failure stub: index 1 is `exit(1)`, reached by [`bne_fail`].
fn with_fail_stub(body: impl FnOnce(&mut Vec<u32>)) -> Vec<u32> {
    let mut code = vec![j(16, 0), addi(A0, 0, 1), addi(17, 0, 93), ECALL];
    body(&mut code);
    code
}

/// `bne rs1, rs2, fail` appended to `code`.
fn bne_fail(code: &mut Vec<u32>, rs1: u32, rs2: u32) {
    let here = code.len() as i32;
    code.push(b((1 - here) * 4, rs2, rs1, 1));
}

#[test]
fn growing_the_break_never_makes_a_read_only_page_writable() {
    // The highest segment is read-only and ends mid-page.
    let ro = 0x2_0000;
    let code = with_fail_stub(|c| {
        c.extend([addi(A0, 0, 0), addi(17, 0, 214), ECALL]);
        c.extend(li(T0, ro + 0x1000));
        bne_fail(c, A0, T0); // the initial break is page-aligned
        c.extend(li(T0, ro + 0x3000));
        c.extend(brk_until(T0)); // grown by 8 KiB (one page a call under poie)
        c.push(sw(T0, T0, -4)); // the new heap is writable
        c.extend(li(T1, ro + 0x10));
        c.push(sw(T1, T1, 0)); // past the segment's end, in its read-only page
        c.extend(exit());
    });
    let image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &code),
            Seg {
                vaddr: ro,
                memsz: 0x10,
                flags: PF_R,
                bytes: vec![7; 0x10],
            },
        ],
    );
    let t = trapped(run_both(&image, 139));
    assert_eq!(t.kind, TrapKind::StoreFault { addr: ro + 0x10 });
}

#[test]
fn shrinking_the_break_unmaps_whole_pages() {
    let base = 0x1_1000; // the initial break: one code page at TEXT
    let code = prog(&[
        li(S1, base + 0x3000),
        brk_until(S1),
        li(T0, base + 0x2000),
        vec![addi(T1, 0, 9), sw(T1, T0, 0), sw(T1, T0, -4)],
        // Shrink to 16 bytes into the second heap page: the third goes, the second stays.
        li(S1, base + 0x1010),
        brk_until(S1),
        vec![lw(S1, T0, -4)],
        // Regrown: the page comes back zero. Then a load past the break faults.
        li(T2, base + 0x3000),
        brk_until(T2),
        vec![lw(T2, T0, 0)],
        li(T1, base + 0x3000),
        vec![lw(T1, T1, 0)],
    ]);
    let image = elf_segments(TEXT, &[Seg::code(TEXT, PF_R | PF_X, &code)]);
    let mut vm = load(&image);
    let r = vm.run(&mut NoTrace, 1000).expect("runs");
    let t = trapped(r.outcome);
    assert_eq!(
        t.kind,
        TrapKind::LoadFault {
            addr: base + 0x3000
        }
    );
    assert_eq!(
        vm.reg(S1 as usize),
        9,
        "the page below the new break kept its bytes"
    );
    assert_eq!(
        vm.reg(T2 as usize),
        0,
        "a page unmapped and mapped again is zero"
    );
    assert_eq!(vm.reg(A0 as usize), base + 0x3000);
}

const INITSTACK: &[u8] = include_bytes!("../guests/bin/initstack.elf");

/// What guests/src/initstack.c prints under poie (docs/SPEC.md 1.3).
const INITSTACK_OUT: &str = "argc=1
argv0=guest
argv_end=null
envc=0
sp_mod16=0
auxv=16,6,17,3,4,5,7,8,9,11,12,13,14,23,25,31
pagesz=4096
phent=32
phnum=2
pt_loads=1
entry_is_start=1
hwcap=4352
uid=0
gid=0
secure=0
random=3c4cbb5ed4c4e033560b5f4486aaed05
execfn=guest
brk_page_aligned=1
brk_is_end_rounded_up=1
fence_i=ok
close0=0
read_closed=-9
close0_again=-9
close7=-9
";

/// Lines whose value under qemu depends on the host (its path, its entropy, its CPU and user).
const HOST_LINES: [&str; 7] = ["argv0", "auxv", "hwcap", "uid", "gid", "random", "execfn"];

fn portable(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| !HOST_LINES.iter().any(|k| l.split('=').next() == Some(k)))
        .collect()
}

#[test]
fn a_c_guest_reads_its_initial_stack_like_on_linux() {
    let mut vm = Vm::new(INITSTACK, b"unread".to_vec()).expect("loads");
    let r = vm.run(&mut NoTrace, 1_000_000).expect("runs");
    assert_eq!(
        r.outcome,
        Outcome::Exited(0),
        "a write to closed stdout is EBADF"
    );
    let out = String::from_utf8_lossy(vm.stdout()).into_owned();
    assert_eq!(out, INITSTACK_OUT);
    match tools::qemu_run(INITSTACK, b"unread") {
        Some((q_out, code)) => {
            assert_eq!(code, 0, "qemu-riscv32 exit code");
            let q_out = String::from_utf8_lossy(&q_out).into_owned();
            assert_eq!(portable(&q_out), portable(&out), "qemu-riscv32:\n{q_out}");
        }
        None => eprintln!("qemu-riscv32 not installed: poie alone checked"),
    }
}

#[test]
fn initstack_guest_rebuilds_bit_for_bit() {
    let Some(dir) = tools::rebuilt_guests() else {
        return;
    };
    let rebuilt = std::fs::read(dir.path().join("initstack.elf")).expect("built");
    assert!(
        rebuilt == INITSTACK,
        "initstack: rebuilt ELF differs from guests/bin"
    );
}

/// An ELF with a code segment at TEXT (exit(7)) and `copies` program headers that all load
/// `seg`, whose file bytes the file holds once; the copies' `p_flags` cycle through `flags`.
/// The headers are a second table appended to an [`elf_segments`] file, which `e_phoff` then
/// names, since 60,000 of them do not fit its first page.
fn copies_of(seg: Seg, copies: usize, flags: &[u32]) -> Vec<u8> {
    let code = Seg::code(TEXT, PF_R | PF_X, &prog(&[li(A0, 7), exit()]));
    let mut image = elf_segments(TEXT, &[code, seg]);
    let (code_header, seg_header) = (image[52..84].to_vec(), image[84..116].to_vec());
    let phoff = u32::try_from(image.len()).expect("a small file");
    image.extend_from_slice(&code_header);
    for k in 0..copies {
        let mut header = seg_header.clone();
        header[24..28].copy_from_slice(&flags[k % flags.len()].to_le_bytes());
        image.extend_from_slice(&header);
    }
    let phnum = u16::try_from(1 + copies).expect("at most 65535 headers");
    image[28..32].copy_from_slice(&phoff.to_le_bytes());
    image[44..46].copy_from_slice(&phnum.to_le_bytes());
    image
}

/// Loads `image` with the VM, whose initial state must be the one the referee's independent
/// loader commits to; runs it to its exit(7).
fn load_like_the_referee(what: &str, image: &[u8]) -> Vm {
    let vm = load(image);
    let referee = poie::referee::initial_state(image, b"", 0, u64::MAX).expect("referee loads");
    assert_eq!(vm.state_commitment(0, u64::MAX), referee, "{what}");
    let mut run = load(image);
    let r = run.run(&mut NoTrace, 100).expect("runs");
    assert_eq!(r.outcome, Outcome::Exited(7), "{what}");
    vm
}

/// 60,000 segments all loading the same 16 MiB of file bytes: the file passes the page limit,
/// which counts the 4096 pages once, and the VM copied every segment's bytes in turn (960 GB;
/// 100 segments of 64 MiB took a second). Each byte is now written once, by the last segment.
#[test]
fn many_segments_loading_the_same_file_bytes_are_laid_out_once() {
    let len = 16 << 20;
    let mut bytes = vec![0u8; len];
    // One word a page, so that a misplaced page shows in the commitment and in a load.
    for (k, page) in bytes.chunks_mut(0x1000).enumerate() {
        page[..4].copy_from_slice(&(k as u32 + 1).to_le_bytes());
    }
    let seg = Seg {
        vaddr: 0x1000_0000,
        memsz: len as u32 + 0x1000,
        flags: PF_R,
        bytes,
    };
    let image = copies_of(seg, 60_000, &[PF_R, PF_R | PF_W, PF_R]);
    assert!(image.len() < 20 << 20, "{} bytes", image.len());
    let vm = load_like_the_referee("60,000 segments of 16 MiB", &image);
    let m = vm.memory();
    assert_eq!(
        m.resident_pages(),
        4096 + 2,
        "the file bytes, code, stack top"
    );
    assert_eq!(m.load_u32(0x1000_0000 + 5 * 0x1000), Some(6));
    assert_eq!(m.load_u32(0x1000_0000 + (len as u32) - 0x1000), Some(4096));
    assert_eq!(
        m.load_u32(0x1000_0000 + len as u32),
        Some(0),
        "the bss page"
    );
    // A third of the copies are writable: so is every page, the bss page too.
    assert!(m.range_ok(0x1000_0000, len as u32 + 0x1000, true));
    assert!(!m.is_executable(0x1000_0000) && !m.is_mapped(0x1000_0000 + len as u32 + 0x1000));
}

/// 60,000 segments of the same 2 GiB bss, up to 2^32: the VM visited each segment's 2^19
/// pages to map them. Each permission is now set once per page.
#[test]
fn many_segments_of_the_same_huge_bss_are_mapped_once() {
    let seg = Seg::zero(0x8000_0000, 0x8000_0000, PF_R);
    let image = copies_of(seg, 60_000, &[PF_R, PF_R | PF_X, PF_R, PF_R | PF_W]);
    let vm = load_like_the_referee("60,000 segments of 2 GiB", &image);
    let m = vm.memory();
    assert_eq!(
        m.resident_pages(),
        2,
        "the code page and the stack's top page"
    );
    for addr in [0x8000_0000, 0xc000_1234, 0xffff_fffc] {
        assert_eq!(m.load_u32(addr), Some(0), "{addr:#x}");
        assert!(
            m.range_ok(addr, 4, true) && m.is_executable(addr),
            "{addr:#x}"
        );
    }
}
