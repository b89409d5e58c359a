//! The referee's own loader (`poie_referee::initial`, written from SPEC 1.2, 1.3 and 1.6 alone)
//! against the VM's (`Vm::new` then `Vm::state_commitment`): on every ELF here both must make
//! the same accept/refuse decision, and where both accept, give the same initial state
//! commitment for every job index and step limit tried. The headers are compared field by
//! field, so a failure names the field the two loaders disagree on.
//!
//! ELFs: the built-in guests and every committed guest binary, the conformance programs
//! (built with riscv64-unknown-elf-gcc where it is installed, as tests/conformance.rs does),
//! hand-made layouts (bss, shared pages, overlapping file bytes, the top page, W+X, program
//! headers in memory, the load-time limits exactly met), malformed files, and seeded random
//! layouts with random header corruption.

mod common;

use common::rng::Rng;
use common::rv32::*;
use common::tools;
use poie::guests::GUESTS;
use poie::referee::{initial_header, initial_state, Hash, Header, InitialError};
use poie::vm::Vm;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Job indices and step limits tried on each ELF: the first job, the last a windback may hold,
/// a step limit of 0 (the job starts at its limit), 1, a usual one and the largest.
const JOBS_AND_LIMITS: [(u32, u64); 4] = [(0, 0), (1, 1), (37, 10_000_000), (4095, u64::MAX)];

/// The VM's initial header, decoded by the referee's strict decoder, and its commitment
/// (`Vm::state_commitment`, which is `Vm::state(..).root()`).
fn vm_state(elf: &[u8], input: &[u8], job: u32, max_steps: u64) -> Result<(Header, Hash), String> {
    let vm = Vm::new(elf, input.to_vec()).map_err(|e| e.to_string())?;
    let state = vm.state(job, max_steps);
    let header = Header::decode(&state.encode()).expect("the VM's header decodes");
    Ok((header, state.root()))
}

/// Both loaders on one ELF and input at one job and step limit: the same decision, and where
/// both accept, the same header and commitment. Returns whether they accepted.
fn agree_at(what: &str, elf: &[u8], input: &[u8], job: u32, max_steps: u64) -> bool {
    let vm = vm_state(elf, input, job, max_steps);
    let referee = initial_header(elf, input, job, max_steps);
    match (vm, referee) {
        (Ok((vm, commitment)), Ok(referee)) => {
            assert_eq!(referee, vm, "{what}: job {job}, max_steps {max_steps}");
            assert_eq!(referee.commitment(), commitment, "{what}");
            true
        }
        (Err(_), Err(_)) => false,
        (Ok(_), Err(e)) => panic!("{what}: the VM loads it, the referee refuses: {e}"),
        (Err(e), Ok(_)) => panic!("{what}: the referee loads it, the VM refuses: {e}"),
    }
}

/// [`agree_at`] at every job and limit of [`JOBS_AND_LIMITS`].
fn agree(what: &str, elf: &[u8], input: &[u8]) -> bool {
    let decisions: Vec<bool> = JOBS_AND_LIMITS
        .iter()
        .map(|&(job, max)| agree_at(what, elf, input, job, max))
        .collect();
    decisions.iter().all(|&d| d == decisions[0]) && decisions[0]
}

/// Both load `elf`, alike.
fn both_load(what: &str, elf: &[u8]) {
    assert!(agree(what, elf, b"input"), "{what}: refused by both");
}

/// Both refuse `elf`; returns the referee's reason.
fn both_refuse(what: &str, elf: &[u8]) -> InitialError {
    assert!(!agree_at(what, elf, b"", 0, 1), "{what}: loaded by both");
    initial_state(elf, b"", 0, 1).expect_err("refused")
}

fn bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.next() as u8).collect()
}

#[test]
fn built_in_guests_load_alike_with_every_input() {
    let mut rng = Rng(1);
    // A few MiB of input, with a run of zeros inside and at its end: what trails in the last
    // leaf is told apart by the input length alone.
    let mut large = bytes(&mut rng, 3 << 20);
    large[1 << 20..(1 << 20) + 100_000].fill(0);
    large.extend([0; 33]);
    for g in GUESTS {
        let inputs: [&[u8]; 6] = [b"", g.sample_input, b"\0", &[7; 31], &[7; 33], &large];
        for input in inputs {
            let what = format!("{} with {} input bytes", g.name, input.len());
            assert!(agree(&what, g.elf, input), "{what}: refused");
        }
    }
}

#[test]
fn the_input_decides_the_commitment_down_to_its_length() {
    let g = GUESTS.first().expect("a built-in guest");
    let vm = Vm::new(g.elf, b"in".to_vec()).expect("loads");
    assert_eq!(
        initial_state(g.elf, b"in", 5, 6),
        Ok(vm.state_commitment(5, 6)),
        "initial_state is the VM's state_commitment"
    );
    let states: Vec<_> = [&b""[..], b"\0", b"\0\0", b"a", b"b"]
        .iter()
        .map(|input| initial_state(g.elf, input, 0, 1).expect("loads"))
        .collect();
    for (k, a) in states.iter().enumerate() {
        for b in states.iter().skip(k + 1) {
            assert_ne!(a, b, "two different inputs, one commitment");
        }
    }
}

#[test]
fn every_committed_guest_binary_loads_alike() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("guests/bin");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("guests/bin") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|x| x == "elf") {
            let elf = std::fs::read(&path).expect("read");
            both_load(&path.display().to_string(), &elf);
            seen += 1;
        }
    }
    assert!(seen >= GUESTS.len(), "only {seen} ELFs in guests/bin");
}

#[test]
fn conformance_programs_load_alike() {
    if !tools::installed("riscv64-unknown-elf-gcc", "the conformance programs") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/build-conformance.sh"
        ))
        .arg(dir.path())
        .status()
        .expect("build script runs")
        .success();
    assert!(ok, "scripts/build-conformance.sh failed");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir.path()).expect("built") {
        let path = entry.expect("entry").path();
        let elf = std::fs::read(&path).expect("read");
        let what = path.display().to_string();
        assert!(agree_at(&what, &elf, b"", 0, 10_000_000), "{what} refused");
        seen += 1;
    }
    assert!(seen >= 48, "only {seen} conformance programs built");
}

/// Sets field `field` (a word index: 0 `p_type`, 1 `p_offset`, 2 `p_vaddr`, 4 `p_filesz`,
/// 5 `p_memsz`, 6 `p_flags`) of program header `k` of an [`elf_segments`] file.
fn set_phdr(elf: &mut [u8], k: usize, field: usize, value: u32) {
    let at = 52 + 32 * k + 4 * field;
    elf[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn code_seg() -> Seg {
    Seg::code(TEXT, PF_R | PF_X, &prog(&[li(10, 3), exit()]))
}

fn data(vaddr: u32, memsz: u32, flags: u32, fill: u8, len: usize) -> Seg {
    Seg {
        vaddr,
        memsz,
        flags,
        bytes: vec![fill; len],
    }
}

#[test]
fn odd_segment_layouts_load_alike() {
    let code = prog(&[li(10, 3), exit()]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("code and data", elf(&code, b"some data")),
        ("writable code", elf_rwx(&code, &[1, 2, 3])),
        (
            "bss after the code, sharing its last page",
            elf_segments(
                TEXT,
                &[code_seg(), Seg::zero(TEXT + 0x20, 0x5000, PF_R | PF_W)],
            ),
        ),
        (
            "read-only and writable segments sharing a page",
            elf_segments(
                TEXT,
                &[
                    code_seg(),
                    data(0x2_0000, 0x800, PF_R, 0x11, 0x800),
                    data(0x2_0900, 0x100, PF_R | PF_W, 0x22, 0x80),
                ],
            ),
        ),
        (
            "overlapping file bytes, the later segment winning",
            elf_segments(
                TEXT,
                &[
                    code_seg(),
                    data(0x2_0000, 0x3000, PF_R | PF_W, 0x11, 0x3000),
                    data(0x2_0800, 0x1000, PF_R, 0x22, 0x1000),
                    data(0x2_0400, 0x100, PF_R, 0x33, 0x80),
                    data(0x1_fff0, 0x4020, PF_R, 0x44, 0x20),
                ],
            ),
        ),
        (
            "file bytes overlapping the code, later",
            elf_segments(TEXT, &[code_seg(), data(TEXT + 8, 4, PF_R, 0x55, 4)]),
        ),
        (
            "a segment ending in the top page, with file bytes",
            elf_segments(
                TEXT,
                &[
                    code_seg(),
                    data(0xffff_f000, 0x1000, PF_R | PF_W, 0x66, 0x1000),
                ],
            ),
        ),
        (
            "a bss ending exactly at 2^32",
            elf_segments(
                TEXT,
                &[code_seg(), data(0xffff_0010, 0xfff0, PF_R | PF_W, 9, 0x10)],
            ),
        ),
        (
            "writable and executable, code in a second segment",
            elf_segments(
                0x5_0000,
                &[
                    data(0x2_0000, 0x40, PF_R | PF_W | PF_X, 0x13, 0x40),
                    Seg::code(0x5_0000, PF_R | PF_W | PF_X, &code),
                ],
            ),
        ),
        (
            "an executable bss holding the entry",
            elf_segments(
                0x6_0000,
                &[code_seg(), Seg::zero(0x6_0000, 0x2000, PF_R | PF_W | PF_X)],
            ),
        ),
        (
            "empty segments: in the stack, past the others (the break), at 2^32 - 1",
            elf_segments(
                TEXT,
                &[
                    code_seg(),
                    Seg::zero(0x7fff_0000, 0, PF_R),
                    Seg::zero(0x4000_1234, 0, PF_R),
                    Seg::zero(0xffff_ffff, 0, PF_R | PF_W),
                ],
            ),
        ),
        (
            "segments just below and just above the stack",
            elf_segments(
                TEXT,
                &[
                    code_seg(),
                    data(0x7f7f_f000, 0x1000, PF_R | PF_W, 1, 0x1000),
                    data(0x8000_0000, 0x1000, PF_R | PF_W, 2, 0x10),
                ],
            ),
        ),
        (
            "huge bss segments",
            elf_segments(
                TEXT,
                &[
                    code_seg(),
                    Seg::zero(0x0100_0000, 0x6000_0000, PF_R | PF_W),
                    Seg::zero(0x8000_0000, 0x7fff_f000, PF_R | PF_X),
                ],
            ),
        ),
        (
            "no segment besides the code",
            elf_segments(TEXT, &[code_seg()]),
        ),
        (
            "PF_R ignored, a page with no permission bit at all",
            elf_segments(TEXT, &[code_seg(), data(0x3_0000, 0x10, 0, 5, 0x10)]),
        ),
    ];
    for (what, image) in &cases {
        both_load(what, image);
    }
}

#[test]
fn program_headers_in_memory_give_at_phdr_and_headers_other_than_load_are_skipped() {
    // Segment 1 maps the file from offset 0, ELF and program headers included (AT_PHDR
    // 0x5000 + 52), then segment 2 does too, later, at 0x9000: the last one wins.
    let mut image = elf_segments(
        TEXT,
        &[
            code_seg(),
            data(0x5000, 0x1000, PF_R, 0, 0),
            data(0x9000, 0x1000, PF_R, 0, 0),
        ],
    );
    both_load("no segment holds e_phoff", &image);
    set_phdr(&mut image, 1, 1, 0);
    set_phdr(&mut image, 1, 4, 0x100);
    both_load("one segment holds e_phoff", &image);
    set_phdr(&mut image, 2, 1, 0);
    set_phdr(&mut image, 2, 4, 53);
    both_load("two segments hold e_phoff", &image);
    set_phdr(&mut image, 2, 4, 52);
    both_load("the second ends at e_phoff", &image);
    // A PT_PHDR and a PT_GNU_STACK header in place of the data segments are not loaded.
    set_phdr(&mut image, 1, 0, 6);
    set_phdr(&mut image, 2, 0, 0x6474_e551);
    both_load("other program headers", &image);
    // Longer program header entries than 32 bytes: only the first one is read here.
    let mut one = elf_segments(TEXT, &[code_seg()]);
    one[42..44].copy_from_slice(&40u16.to_le_bytes());
    both_load("e_phentsize 40", &one);
    // An e_phnum of 0 leaves no code.
    one[44..46].copy_from_slice(&0u16.to_le_bytes());
    both_refuse("no program header", &one);
}

/// An ELF with `code_seg()` and `n` segments of `len` bytes each, all read from the same
/// file bytes, at 0x1000_0000 on: `n * pages(len)` pages of file bytes. The bytes are zero
/// but for one word a page, so that hashing them is quick.
fn shared_file_bytes(n: u32, len: u32) -> Vec<u8> {
    let mut bytes = vec![0; len as usize];
    for (k, page) in bytes.chunks_mut(0x1000).enumerate() {
        let at = (k * 36) % 0xffc;
        page[at..at + 4].copy_from_slice(&(k as u32 | 0x8000_0000).to_le_bytes());
    }
    let seg = Seg {
        vaddr: 0x1000_0000,
        memsz: len,
        flags: PF_R | PF_W,
        bytes,
    };
    let mut image = elf_segments(TEXT, &[code_seg(), seg]);
    let offset = u32::from_le_bytes(image[52 + 32 + 4..52 + 32 + 8].try_into().unwrap());
    let table = 52 + 32 * (1 + n as usize);
    assert!(table <= 0x1000, "program headers fit the first page");
    image[44..46].copy_from_slice(&(1 + n as u16).to_le_bytes());
    for k in 1..n {
        let vaddr = 0x1000_0000 + k * len.div_ceil(0x1000) * 0x1000;
        let fields = [1, offset, vaddr, vaddr, len, len, PF_R | PF_W, 0x1000];
        for (f, v) in fields.into_iter().enumerate() {
            set_phdr(&mut image, 1 + k as usize, f, v);
        }
    }
    image
}

#[test]
fn the_load_time_limits_are_met_exactly_or_refused_by_both() {
    // The code page and the stack's top page, and 65534 pages of file bytes: the limit.
    let full = {
        let mut image = shared_file_bytes(64, 4 << 20);
        // 64 segments of 1024 pages are 65536: shorten the last by two pages.
        set_phdr(&mut image, 64, 4, (4 << 20) - 0x2000);
        set_phdr(&mut image, 64, 5, (4 << 20) - 0x2000);
        image
    };
    assert!(
        agree_at("65536 resident pages", &full, b"", 3, 99),
        "refused"
    );
    let started = Instant::now();
    let header = initial_header(&full, b"", 3, 99).expect("loads");
    eprintln!(
        "the referee's initial state of 65536 resident pages: {:?}",
        started.elapsed()
    );
    assert_eq!(header.resident_pages, 65536);
    let mut over = full.clone();
    set_phdr(&mut over, 64, 4, (4 << 20) - 0x1fff);
    set_phdr(&mut over, 64, 5, 4 << 20);
    assert_eq!(
        both_refuse("65537 resident pages", &over),
        InitialError::ResidentPages(65537)
    );
    assert_eq!(
        both_refuse("65 segments of 4 MiB", &shared_file_bytes(65, 4 << 20)),
        InitialError::ResidentPages(1 + 65 * 1024 + 1)
    );
    // Overlapping segments count their shared pages once.
    let mut overlapping = shared_file_bytes(40, 4 << 20);
    for k in 1..40u32 {
        set_phdr(
            &mut overlapping,
            1 + k as usize,
            2,
            0x1000_0000 + k * 0x1000,
        );
    }
    assert!(
        agree_at("pages counted once", &overlapping, b"", 0, 1),
        "refused"
    );

    // Code span: executable file bytes from TEXT to TEXT + 64 MiB, the last page's bytes
    // included, and one byte further.
    let span = |last_byte: u32| {
        let mut image = elf_segments(
            TEXT,
            &[code_seg(), data(TEXT + 0x1000, 4, PF_R | PF_X, 0x13, 4)],
        );
        set_phdr(&mut image, 1, 2, last_byte - 3);
        image
    };
    both_load("a 64 MiB code span", &span(TEXT + (64 << 20) - 1));
    assert_eq!(
        both_refuse("a code span past 64 MiB", &span(TEXT + (64 << 20))),
        InitialError::CodeSpan((64 << 20) + 0x1000)
    );
    // The span runs from the lowest code byte's page: code from mid-page to 64 MiB further
    // spans one page more.
    let mid_page = elf_segments(
        TEXT + 0x800,
        &[
            Seg::code(TEXT + 0x800, PF_R | PF_X, &prog(&[li(10, 3), exit()])),
            data(TEXT + (64 << 20) + 0x3fc, 4, PF_R | PF_X, 0x13, 4),
        ],
    );
    assert_eq!(
        both_refuse("a code span from mid-page", &mid_page),
        InitialError::CodeSpan((64 << 20) + 0x1000)
    );
    // Executable bss, or read-only file bytes, count for no code span.
    let image = elf_segments(
        TEXT,
        &[
            code_seg(),
            Seg::zero(0x4000_0000, 0x1000, PF_R | PF_X),
            data(0x5000_0000, 0x10, PF_R, 1, 0x10),
        ],
    );
    both_load("code span of file bytes alone", &image);
}

/// Whether the referee's reason is the one a malformed case expects.
type Expect = fn(&InitialError) -> bool;

#[test]
fn malformed_elfs_are_refused_by_both() {
    let good = elf_segments(
        TEXT,
        &[code_seg(), data(0x2_0000, 0x2000, PF_R | PF_W, 7, 0x100)],
    );
    both_load("the unbroken file", &good);
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut image = good.clone();
        f(&mut image);
        image
    };
    let put16 =
        |at: usize, v: u16| move |e: &mut Vec<u8>| e[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 =
        |at: usize, v: u32| move |e: &mut Vec<u8>| e[at..at + 4].copy_from_slice(&v.to_le_bytes());
    let phdr = |k: usize, field: usize, v: u32| move |e: &mut Vec<u8>| set_phdr(e, k, field, v);
    let last = good.len();
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("empty", Vec::new(), |e| {
            matches!(e, InitialError::TooShort(0))
        }),
        ("51 bytes", good[..51].to_vec(), |e| {
            matches!(e, InitialError::TooShort(51))
        }),
        ("the header alone", good[..52].to_vec(), |e| {
            matches!(e, InitialError::ProgramHeaders { .. })
        }),
        (
            "cut inside the program headers",
            good[..100].to_vec(),
            |e| matches!(e, InitialError::ProgramHeaders { .. }),
        ),
        (
            "cut inside the data's bytes",
            good[..last - 1].to_vec(),
            |e| matches!(e, InitialError::OutsideFile { index: 1, .. }),
        ),
        ("bad magic", with(&|e| e[1] = b'e'), |e| {
            *e == InitialError::Magic
        }),
        ("ELF64", with(&|e| e[4] = 2), |e| {
            *e == InitialError::Class(2)
        }),
        ("big-endian", with(&|e| e[5] = 2), |e| {
            *e == InitialError::Encoding(2)
        }),
        ("ET_DYN", with(&put16(16, 3)), |e| {
            *e == InitialError::Type(3)
        }),
        ("x86", with(&put16(18, 3)), |e| {
            *e == InitialError::Machine(3)
        }),
        ("RVC", with(&put32(36, 1)), |e| *e == InitialError::Rvc(1)),
        ("single-float ABI", with(&put32(36, 2)), |e| {
            *e == InitialError::FloatAbi(2)
        }),
        ("double-float ABI", with(&put32(36, 4)), |e| {
            *e == InitialError::FloatAbi(4)
        }),
        ("quad-float ABI", with(&put32(36, 6)), |e| {
            *e == InitialError::FloatAbi(6)
        }),
        (
            "program headers past the file",
            with(&put32(28, 0xffff_fff0)),
            |e| matches!(e, InitialError::ProgramHeaders { .. }),
        ),
        ("65535 program headers", with(&put16(44, 0xffff)), |e| {
            matches!(e, InitialError::ProgramHeaders { .. })
        }),
        ("16-byte program headers", with(&put16(42, 16)), |e| {
            matches!(e, InitialError::ProgramHeaders { .. })
        }),
        (
            "file bytes past the file",
            with(&phdr(1, 1, 0xffff_ff00)),
            |e| matches!(e, InitialError::OutsideFile { index: 1, .. }),
        ),
        ("filesz over memsz", with(&phdr(1, 5, 0xff)), |e| {
            matches!(e, InitialError::FileLargerThanMemory { index: 1, .. })
        }),
        ("memory past 2^32", with(&phdr(1, 2, 0xffff_f000)), |e| {
            matches!(e, InitialError::PastAddressSpace { index: 1, .. })
        }),
        (
            "memory far past 2^32",
            with(&phdr(1, 5, 0xffff_ffff)),
            |e| matches!(e, InitialError::PastAddressSpace { index: 1, .. }),
        ),
        (
            "into the stack's bottom",
            with(&phdr(1, 2, 0x7f7f_ff00)),
            |e| matches!(e, InitialError::OverlapsStack { index: 1, .. }),
        ),
        ("inside the stack", with(&phdr(1, 2, 0x7fff_0000)), |e| {
            matches!(e, InitialError::OverlapsStack { .. })
        }),
        (
            "from the stack's last byte",
            with(&phdr(1, 2, 0x7fff_ffff)),
            |e| matches!(e, InitialError::OverlapsStack { .. }),
        ),
        (
            "over the whole stack",
            with(&|e| {
                set_phdr(e, 1, 2, 0x7000_0000);
                set_phdr(e, 1, 5, 0x2000_0000)
            }),
            |e| matches!(e, InitialError::OverlapsStack { .. }),
        ),
        (
            "no executable segment",
            with(&phdr(0, 6, PF_R | PF_W)),
            |e| *e == InitialError::NoCode,
        ),
        ("an empty executable segment", with(&phdr(0, 5, 0)), |e| {
            matches!(e, InitialError::FileLargerThanMemory { .. })
        }),
        ("the code no PT_LOAD", with(&phdr(0, 0, 6)), |e| {
            *e == InitialError::NoCode
        }),
        (
            "no PT_LOAD at all",
            with(&|e| {
                set_phdr(e, 0, 0, 0);
                set_phdr(e, 1, 0, 0)
            }),
            |e| *e == InitialError::NoCode,
        ),
        ("entry misaligned", with(&put32(24, TEXT + 2)), |e| {
            *e == InitialError::Entry(TEXT + 2)
        }),
        (
            "entry past the code",
            with(&put32(24, TEXT + 0x1000)),
            |e| *e == InitialError::Entry(TEXT + 0x1000),
        ),
        ("entry in data", with(&put32(24, 0x2_0000)), |e| {
            *e == InitialError::Entry(0x2_0000)
        }),
        ("entry 0", with(&put32(24, 0)), |e| {
            *e == InitialError::Entry(0)
        }),
    ];
    for (what, image, expected) in &cases {
        let why = both_refuse(what, image);
        assert!(expected(&why), "{what}: refused for another reason: {why}");
        assert!(!why.to_string().is_empty());
    }
    // Every truncation of the file is refused by both, for whatever reason.
    for len in (0..good.len()).step_by(97) {
        both_refuse(&format!("cut to {len} bytes"), &good[..len]);
    }
}

impl Rng {
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }

    /// A segment at an address and of a size near the edges that matter: page boundaries,
    /// the stack, the top of the address space.
    fn segment(&mut self) -> Seg {
        let anywhere = (self.next() as u32) & !3;
        // The stack's pages and the top ones are refused for most sizes: drawn less often.
        let base = self.pick(&[
            0,
            0x1000,
            TEXT,
            0x2_0000,
            0x2_0000,
            0x3_0000,
            0x7f7f_f000,
            0x7f80_0000,
            0x7fff_f000,
            0x8000_0000,
            0xffff_e000,
            0xffff_f000,
            anywhere,
        ]);
        let vaddr = base.wrapping_add(self.pick(&[0, 0, 4, 0x7fc, 0xff0, 0x1000]));
        let memsz = self.pick(&[
            0,
            1,
            0x10,
            0xffc,
            0x1000,
            0x1001,
            0x3000,
            0x10_0000,
            0x4000_0000,
        ]);
        // Now and then one file byte more than memsz, which is refused.
        let over = u64::from(self.below(8) == 0);
        let len = self.below(u64::from(memsz.min(0x2100)) + 1 + over) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| self.next() as u8).collect();
        if self.below(3) == 0 {
            bytes.iter_mut().for_each(|b| *b = 0);
        }
        let flags = self.below(8) as u32;
        Seg {
            vaddr,
            memsz,
            flags,
            bytes,
        }
    }
}

#[test]
fn random_layouts_and_corrupted_headers_load_alike() {
    let mut rng = Rng(0x5eed);
    let (mut loaded, mut refused) = (0, 0);
    for case in 0..1000 {
        let n = 1 + rng.below(3) as usize;
        let mut segs: Vec<Seg> = (0..n).map(|_| rng.segment()).collect();
        // Usually a plain code segment somewhere, so that many layouts load.
        if rng.below(4) != 0 {
            let at = rng.below(n as u64 + 1) as usize;
            segs.insert(at, code_seg());
        }
        let entry = match rng.below(3) {
            0 => TEXT,
            1 => segs[rng.below(segs.len() as u64) as usize].vaddr & !3,
            _ => rng.next() as u32,
        };
        let mut image = elf_segments(entry, &segs);
        // Now and then a few bytes of the headers corrupted.
        if rng.below(4) == 0 {
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(52 + 32 * segs.len() as u64) as usize;
                image[at] ^= 1 << rng.below(8);
            }
        }
        let len = rng.below(100) as usize;
        let input = bytes(&mut rng, len);
        let any = rng.next();
        let (job, max) = (rng.next() as u32, rng.pick(&[0, 1, any]));
        if agree_at(&format!("random case {case}"), &image, &input, job, max) {
            loaded += 1;
        } else {
            refused += 1;
        }
    }
    eprintln!("{loaded} random layouts loaded, {refused} refused");
    // Both outcomes are exercised often.
    assert!(
        loaded > 150 && refused > 150,
        "{loaded} loaded, {refused} refused"
    );
}

impl Rng {
    /// A segment in or near the few pages at 0x2_0000 (which its bytes mostly overlap with
    /// those of its neighbours), with random permissions; now and then a huge bss.
    fn overlapping_segment(&mut self) -> Seg {
        let vaddr = 0x1_f000 + self.below(0x6000) as u32;
        let len = self.below(0x2400) as usize;
        let any = self.next() as u8;
        let fill = self.pick(&[0, 0xff, any]);
        let bytes = if self.below(2) == 0 {
            vec![fill; len]
        } else {
            (0..len).map(|_| self.next() as u8).collect()
        };
        let extra = self.pick(&[0, 0, 0x10, 0x1800, 0x4000_0000]);
        Seg {
            vaddr,
            memsz: len as u32 + extra,
            flags: self.below(8) as u32,
            bytes,
        }
    }
}

/// The VM lays overlapping segments out without visiting every segment's pages and bytes
/// (`vm::layout`): on random piles of overlapping segments, in every order, its initial state
/// is still the one the referee's loader gives.
#[test]
fn piles_of_overlapping_segments_load_alike() {
    let mut rng = Rng(0x0_7e1a);
    for case in 0..200 {
        let n = 2 + rng.below(12) as usize;
        let mut segs: Vec<Seg> = (0..n).map(|_| rng.overlapping_segment()).collect();
        segs.insert(rng.below(n as u64 + 1) as usize, code_seg());
        let image = elf_segments(TEXT, &segs);
        let input = bytes(&mut rng, 5);
        let what = format!("pile {case}");
        assert!(
            agree_at(&what, &image, &input, 0, u64::MAX),
            "{what}: refused"
        );
    }
}

/// `poie referee` end to end, on a transcript cut just after the executor's opening: the
/// judge then checks the opened job's initial state with the referee crate's loader (its one
/// use of it), and an honest initial state proves nothing (exit 1). A loader that disagreed
/// with the VM's would convict the executor here instead.
#[test]
fn cli_referee_checks_an_initial_state_with_its_own_loader() {
    use common::cli::{poie, stdout};
    use common::fixtures::{self, read_json, referee_args, reveal_args, vote_args};
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fixtures::windback_and_key(d, "300 3", "sort in.txt\nhello\n");
    let lie = ["--lie-at", "1234"];
    let o = poie(d, &vote_args("s", &["--lie-at", "1234", "--out", "v.json"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(poie(d, &reveal_args("v.json", "s", "r.json"))
        .status
        .success());
    let o = fixtures::serve_and_challenge(d, &lie);
    assert!(o.status.success(), "{}", stdout(&o));
    let referee = || poie(d, &referee_args());
    let o = referee();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    let mut t: serde_json::Value = read_json(d.join("t.json"));
    let entries = t["entries"].as_array_mut().expect("entries");
    let opening = entries
        .iter()
        .position(|e| e["msg"]["type"] == "leaf")
        .expect("the opening");
    entries.truncate(opening + 1);
    std::fs::write(d.join("t.json"), serde_json::to_vec(&t).expect("json")).expect("write");
    let o = referee();
    let out = stdout(&o);
    assert!(
        out.starts_with("unproven: the transcript stops at the opening"),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(1));
}
