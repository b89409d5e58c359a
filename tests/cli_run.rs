//! `poie run` end to end: exit codes, messages on bad input, trace files.

mod common;
use common::cli::{run as poie, stderr, stdout};
use common::fixtures::write;
use common::rv32::*;

#[test]
fn ledger_runs_with_sample_block_and_stats() {
    let o = poie(&["run", "ledger", "--stats"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("applied=18747 rejected=1253\nstate="),
        "{out}"
    );
    assert!(stderr(&o).contains("steps/s"), "{}", stderr(&o));
}

#[test]
fn bad_elfs_give_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = elf(&exit(), &[]);
    let mut wrong_machine = good.clone();
    wrong_machine[18] = 62; // EM_X86_64
    let mut elf64 = good.clone();
    elf64[4] = 2;
    let mut past_end = good.clone();
    // Second segment's vaddr near the top of the address space with a 4 KiB memsz.
    past_end[52 + 32 + 8..52 + 32 + 12].copy_from_slice(&0xffff_f800u32.to_le_bytes());
    let mut out_of_file = good.clone();
    out_of_file[52 + 16..52 + 20].copy_from_slice(&0x10_0000u32.to_le_bytes());
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("trunc", good[..40].to_vec(), "too short"),
        (
            "text",
            b"#!/bin/sh\n# a shell script is not an executable for this VM\necho hi\n".to_vec(),
            "not an ELF",
        ),
        ("x86", wrong_machine, "expected 243 (RISC-V)"),
        ("elf64", elf64, "expected 1 (ELF32)"),
        (
            "past_end",
            past_end,
            "runs past the end of the 32-bit address space",
        ),
        ("out_of_file", out_of_file, "lies outside the"),
    ];
    for (name, bytes, msg) in cases {
        let path = write(dir.path(), name, &bytes);
        let o = poie(&["run", &path]);
        assert_eq!(o.status.code(), Some(125), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{name}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{name}");
    }
}

#[test]
fn traps_and_step_limit_have_documented_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let illegal = write(
        dir.path(),
        "illegal",
        &elf(&[addi(0, 0, 0), 0xffff_ffff], &[]),
    );
    let o = poie(&["run", &illegal]);
    assert_eq!(o.status.code(), Some(132));
    let e = stderr(&o);
    assert!(
        e.contains("illegal instruction at pc 0x00010004 (instruction word 0xffffffff)"),
        "{e}"
    );

    let wild = write(
        dir.path(),
        "wild",
        &elf(&[lui(5, 0xdead_0000), i(0, 5, 2, 6, 0x03)], &[]),
    );
    let o = poie(&["run", &wild]);
    assert_eq!(o.status.code(), Some(139));
    assert!(
        stderr(&o).contains("load from unmapped address 0xdead0000"),
        "{}",
        stderr(&o)
    );

    let o = poie(&["run", "sieve", "--max-steps", "1000"]);
    assert_eq!(o.status.code(), Some(124));
    assert!(stderr(&o).contains("step limit reached: stopped after 1000 instructions"));

    let o = poie(&["run", "no-such-guest"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("neither a file nor a built-in guest"));

    let o = poie(&["run", "hello", "--frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--frobnicate"));
}

#[test]
fn exit_status_is_the_guests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(
        dir.path(),
        "exit7",
        &elf(&prog(&[vec![addi(10, 0, 7)], exit()]), &[]),
    );
    assert_eq!(poie(&["run", &p]).status.code(), Some(7));
}

#[test]
fn trace_out_writes_32_bytes_per_step_deterministically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.trace");
    let b = dir.path().join("b.trace");
    let input = write(dir.path(), "in", b"2000 5");
    for p in [&a, &b] {
        let o = poie(&[
            "run",
            "sort",
            "--input",
            &input,
            "--trace-out",
            p.to_str().expect("utf8"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let ta = std::fs::read(&a).expect("trace");
    assert_eq!(ta.len() % 32, 0);
    assert!(!ta.is_empty());
    assert_eq!(ta, std::fs::read(&b).expect("trace"));
    // The library produces the same bytes.
    let g = poie::guests::find("sort").expect("sort");
    let mut vm = poie::vm::Vm::new(g.elf, b"2000 5".to_vec()).expect("loads");
    let mut sink = poie::trace::VecSink::default();
    vm.run(&mut sink, u64::MAX).expect("runs");
    assert_eq!(ta, sink.0.as_flattened());
}

#[test]
fn guests_lists_builtins() {
    let o = poie(&["guests"]);
    let out = stdout(&o);
    for name in ["hello", "sha256", "sort", "sieve", "ledger"] {
        assert!(out.contains(name), "{out}");
    }
    // Each says what it reads.
    assert_eq!(out.matches("input: ").count(), 5, "{out}");
    assert!(out.contains("\"N SEED\""), "{out}");
    assert!(out.contains("FROM TO AMOUNT"), "{out}");
}

/// Input a built-in guest would ignore draws a warning naming the file; input it reads as
/// intended draws none. The guest still runs as it would (its behaviour is what is proved).
#[test]
fn input_a_guest_ignores_is_warned_about() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let cases: [(&str, &str, &[u8], Option<&str>); 9] = [
        (
            "sort",
            "words.txt",
            b"banana\napple\n",
            Some("other text such as \"banana\""),
        ),
        ("sort", "many.txt", b"10 1 3", Some("1 more number")),
        (
            "sort",
            "big.txt",
            b"2000000 1",
            Some("N = 2000000 is above its limit"),
        ),
        ("sort", "ok.txt", b"1000 7\n", None),
        ("sieve", "ok2.txt", b"1000", None),
        ("hello", "h.txt", b"x", Some("hello reads no input")),
        (
            "ledger",
            "csv.txt",
            b"# c\n1 2 3\n1,2,3\n",
            Some("1 line(s)"),
        ),
        ("ledger", "good.txt", b"# c\n1 2 3\n\n4\t5 6\r\n", None),
        ("sha256", "any.txt", b"anything at all", None),
    ];
    for (guest, name, bytes, warning) in cases {
        let path = write(d, name, bytes);
        let o = poie(&["run", guest, "--input", &path, "--max-steps", "100000"]);
        let err = stderr(&o);
        match warning {
            Some(w) => {
                assert!(
                    err.contains("poie: warning: input "),
                    "{guest} {name}: {err}"
                );
                assert!(
                    err.contains(name) && err.contains(w),
                    "{guest} {name}: {err}"
                );
            }
            None => assert!(!err.contains("warning"), "{guest} {name}: {err}"),
        }
    }
    // The words are not sorted: the guest ran its defaults (N = 100000).
    let path = write(d, "w.txt", b"pear fig\n");
    let o = poie(&["run", "sort", "--input", &path]);
    assert!(stdout(&o).starts_with("n=100000 sorted=1"));
    let o = poie(&["run", "sort", "--input", &write(d, "n.txt", b"1000 7")]);
    assert!(stdout(&o).starts_with("n=1000 sorted=1"));
}

#[test]
fn trace_out_to_a_device_writes_in_place() {
    let o = poie(&["run", "hello", "--trace-out", "/dev/null"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let ft = std::fs::metadata("/dev/null")
            .expect("/dev/null")
            .file_type();
        assert!(ft.is_char_device(), "/dev/null must stay a device");
    }
}

#[test]
fn code_stored_into_a_data_page_faults_with_139() {
    // RX, RW, RX: store `exit(42)` into the data page between the code pages and jump there.
    // Linux (and qemu-riscv32) deliver SIGSEGV: the data page is not executable.
    let data = TEXT + 0x1000;
    let mut code = li(5, data);
    for (k, word) in [addi(10, 0, 42), addi(17, 0, 93), ECALL]
        .into_iter()
        .enumerate()
    {
        code.extend(li(6, word));
        code.push(sw(6, 5, 4 * k as i32));
    }
    code.push(jalr(0, 5, 0));
    let image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &code),
            Seg::zero(data, 0x1000, PF_R | PF_W),
            Seg::code(TEXT + 0x2000, PF_R | PF_X, &exit()),
        ],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "wx", &image);
    let o = poie(&["run", &p]);
    assert_eq!(o.status.code(), Some(139), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("instruction fetch from a non-executable address at pc 0x00011000"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn huge_and_refused_elfs_give_exit_codes_and_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two 1.5 GiB bss segments: loaded, run, exit 0 (memory is only mapped).
    let big = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &exit()),
            Seg::zero(0x0100_0000, 0x6000_0000, PF_R | PF_W),
            Seg::zero(0x8000_0000, 0x6000_0000, PF_R | PF_W),
        ],
    );
    let o = poie(&["run", &write(dir.path(), "big", &big)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The entry point outside every executable segment: 125 and the reason.
    let bad_entry = elf_segments(
        TEXT + 0x1000,
        &[
            Seg::code(TEXT, PF_R | PF_X, &exit()),
            Seg::zero(TEXT + 0x1000, 0x1000, PF_R | PF_W),
        ],
    );
    let o = poie(&["run", &write(dir.path(), "bad_entry", &bad_entry)]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("entry point 0x11000"), "{}", stderr(&o));
}

/// A trace file cannot fill the disk: past `--max-trace-bytes` the run stops, exits 125 and
/// leaves nothing; and a run killed while writing (SIGKILL, which no handler sees) leaves no
/// temporary file behind, because the file has no name until it is complete.
#[test]
fn trace_out_is_bounded_and_leaves_nothing_when_stopped_or_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let looping = write(d, "loop.elf", &elf(&[j(0, 0)], &[]));
    let out = d.join("t.trace");
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let o = poie(&[
        "run",
        &looping,
        "--trace-out",
        out.to_str().expect("utf8"),
        "--max-trace-bytes",
        "3200",
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--max-trace-bytes 3200 (100 steps"),
        "{}",
        stderr(&o)
    );
    assert_eq!(listing(), ["loop.elf"]);
    // Exactly at the limit is fine, and the file is named on stderr.
    let o = poie(&[
        "run",
        &looping,
        "--trace-out",
        out.to_str().expect("utf8"),
        "--max-trace-bytes",
        "3200",
        "--max-steps",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(124), "{}", stderr(&o));
    assert!(stderr(&o).contains("wrote"), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&out).expect("trace").len(), 3200);
    std::fs::remove_file(&out).expect("remove");
    #[cfg(target_os = "linux")]
    {
        let mut child = common::cli::bin()
            .args(["run", &looping, "--trace-out", out.to_str().expect("utf8")])
            .spawn()
            .expect("spawns");
        std::thread::sleep(std::time::Duration::from_millis(300));
        child.kill().expect("SIGKILL");
        child.wait().expect("waits");
        assert_eq!(listing(), ["loop.elf"]);
    }
}
