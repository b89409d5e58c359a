//! Hostile files, votes, guests and arguments (issue 9): each case here crashed, hung, leaked
//! or framed a party before it was fixed. Every command runs under a deadline, so a hang fails
//! the test instead of stalling the suite.

mod common;

use common::cli::{assert_ok, poie_within, refused, stderr, stdout};
use common::fixtures::{self, check_args, reveal_args, vote_args};
use common::rv32::*;
use poie::proof::{HashId, Layout, Params, ProverConfig, Salt};
use poie::protocol::keys::Key;
use poie::protocol::vote::{self, check, Verdict, Vote};
use poie::protocol::windback::{self, Execution, Job};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Runs poie in `dir` under a deadline of a minute.
fn poie(dir: &Path, args: &[&str]) -> Output {
    poie_within(dir, 60, args)
}

/// A folder with a key, a windback over the built-in sort guest, a vote (8 lanes) and its
/// reveal.
fn voted() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("in.txt"), "300 3").expect("write");
    std::fs::write(d.join("wb.txt"), "sort in.txt\n").expect("write");
    assert!(poie(d, &["key", "new", "k.key"]).status.success());
    assert_ok(&poie(
        d,
        &vote_args("v.salt", &["--lanes", "8", "--out", "vote.json"]),
    ));
    assert_ok(&poie(d, &reveal_args("vote.json", "v.salt", "reveal.json")));
    dir
}

/// A leak claim against vote.json, from the unique secret in u.secret, made at time 5.
fn leak_claim(d: &Path) -> Output {
    poie(
        d,
        &[
            "leak-claim",
            "--vote",
            "vote.json",
            "--secret-file",
            "u.secret",
            "--claimant",
            "0x2222222222222222222222222222222222222222",
            "--at",
            "5",
            "--out",
            "claim.json",
        ],
    )
}

/// A looping guest: `jal x0, 0` forever.
fn looping_elf() -> Vec<u8> {
    elf(&[j(0, 0)], &[])
}

#[test]
fn signed_votes_with_impossible_layouts_are_refused_by_every_command() {
    let dir = voted();
    let d = dir.path();
    // Re-sign the vote with a bad lane count, as a hostile executor would.
    let key_text = std::fs::read_to_string(d.join("k.key")).expect("key");
    let seed =
        poie::hexser::decode::<32>(key_text.lines().nth(1).expect("hex").trim()).expect("seed");
    let key = Key::from_seed(&seed);
    let text = std::fs::read_to_string(d.join("vote.json")).expect("vote");
    let v: Vote = serde_json::from_str(&text).expect("vote");
    for lanes in [0u32, u32::MAX] {
        let mut bad = v.clone();
        bad.params.layout = Layout {
            lanes,
            chained: true,
        };
        bad.sign(&key);
        assert!(bad.authentic());
        std::fs::write(
            d.join("bad.json"),
            serde_json::to_string(&bad).expect("json"),
        )
        .expect("write");
        for args in [
            check_args("bad.json", "reveal.json", "wb.txt").to_vec(),
            vec![
                "audit-respond",
                "--vote",
                "bad.json",
                "--salt-file",
                "v.salt",
                "--windback",
                "wb.txt",
                "--challenge",
                "c.json",
                "--out",
                "o.json",
            ],
            vec!["audit-challenge", "--vote", "bad.json", "--out", "c.json"],
            vec![
                "audit",
                "--vote",
                "bad.json",
                "--reveal",
                "reveal.json",
                "--windback",
                "wb.txt",
                "--challenge",
                "c.json",
                "--openings",
                "o.json",
            ],
        ] {
            let o = poie_within(d, 30, &args);
            refused(&o, 125, "lanes must be");
        }
    }
}

#[test]
fn extreme_arguments_get_clear_errors() {
    let dir = voted();
    let d = dir.path();
    let prove = |extra: &[&str]| {
        let mut args = vec![
            "prove",
            "--synthetic",
            "1000",
            "--salt-file",
            "v.salt",
            "--address",
            "0x1111111111111111111111111111111111111111",
        ];
        args.extend_from_slice(extra);
        poie_within(d, 30, &args)
    };
    refused(&prove(&["--batch", "18446744073709551615"]), 2, "--batch");
    refused(&prove(&["--batch", "1099511627776"]), 2, "--batch");
    refused(&prove(&["--batch", "0"]), 2, "--batch");
    refused(
        &prove(&["--threads", "20000", "--unchained"]),
        2,
        "--threads",
    );
    refused(
        &prove(&["--lanes", "4294967295"]),
        125,
        "lanes must be at most",
    );
    refused(&prove(&["--lanes", "0"]), 125, "lanes must be at least");
    let o = poie_within(
        d,
        30,
        &[
            "audit-challenge",
            "--vote",
            "vote.json",
            "--samples",
            "4294967295",
            "--out",
            "c.json",
        ],
    );
    refused(&o, 2, "--samples");
    // The largest accepted values still run.
    let o = prove(&["--batch", "1048576", "--lanes", "65536", "--threads", "3"]);
    assert_ok(&o);
}

#[test]
fn secret_files_of_one_kind_are_refused_as_another() {
    let dir = voted();
    let d = dir.path();
    // Revealing with the key file as the salt would publish the signing key.
    let o = poie(d, &reveal_args("vote.json", "k.key", "r2.json"));
    refused(&o, 125, "holds a signing key");
    assert!(!d.join("r2.json").exists());
    let o = poie(
        d,
        &[
            "vote",
            "--key",
            "v.salt",
            "--windback",
            "wb.txt",
            "--salt-out",
            "v2.salt",
        ],
    );
    refused(&o, 125, "holds a salt");
    assert!(!d.join("v2.salt").exists());
    // A derived unique secret is its own kind, and a leak claim holding it is private.
    let o = poie(
        d,
        &[
            "derive-secret",
            "--vote",
            "vote.json",
            "--salt-file",
            "v.salt",
            "--out",
            "u.secret",
        ],
    );
    assert_ok(&o);
    let o = poie(
        d,
        &["reveal", "--vote", "vote.json", "--salt-file", "u.secret"],
    );
    refused(&o, 125, "holds a unique secret");
    assert_ok(&leak_claim(d));
    for f in ["claim.json", "u.secret", "k.key", "v.salt"] {
        fixtures::assert_private(&d.join(f));
    }
    // A headerless file (the old format) is refused with what was expected.
    std::fs::write(d.join("old.salt"), "ab".repeat(32)).expect("write");
    let o = poie(
        d,
        &["reveal", "--vote", "vote.json", "--salt-file", "old.salt"],
    );
    refused(&o, 125, "poie-salt-v1");
}

#[test]
fn audit_respond_with_the_wrong_salt_refuses_and_writes_nothing() {
    let dir = voted();
    let d = dir.path();
    assert!(poie(d, &["salt", "new", "other.salt"]).status.success());
    let challenge = ["audit-challenge", "--vote", "vote.json", "--out", "c.json"];
    assert!(poie(d, &challenge).status.success());
    let o = poie(
        d,
        &[
            "audit-respond",
            "--vote",
            "vote.json",
            "--salt-file",
            "other.salt",
            "--windback",
            "wb.txt",
            "--challenge",
            "c.json",
            "--out",
            "o.json",
        ],
    );
    refused(&o, 125, "wrong salt");
    assert!(!d.join("o.json").exists());
    // The right salt with another windback: refused too, before the work.
    std::fs::write(d.join("in2.txt"), "301 3").expect("write");
    std::fs::write(d.join("wb2.txt"), "sort in2.txt\n").expect("write");
    let o = poie(
        d,
        &[
            "audit-respond",
            "--vote",
            "vote.json",
            "--salt-file",
            "v.salt",
            "--windback",
            "wb2.txt",
            "--challenge",
            "c.json",
            "--out",
            "o.json",
        ],
    );
    refused(&o, 125, "not the one the vote is for");
    assert!(!d.join("o.json").exists());
}

#[test]
fn a_reveal_must_carry_the_salt_the_vote_committed_to() {
    let dir = voted();
    let d = dir.path();
    assert!(poie(d, &["salt", "new", "other.salt"]).status.success());
    let challenge = ["audit-challenge", "--vote", "vote.json", "--out", "c.json"];
    assert!(poie(d, &challenge).status.success());
    let o = poie(d, &reveal_args("vote.json", "other.salt", "r2.json"));
    refused(&o, 125, "not the salt");
    assert!(!d.join("r2.json").exists());
    // A forged reveal with a salt of the framer's choosing, and a leak claim made from it:
    // judge-leak must not slash the executor.
    let text = std::fs::read_to_string(d.join("reveal.json")).expect("reveal");
    let mut forged: serde_json::Value = serde_json::from_str(&text).expect("json");
    let other = std::fs::read_to_string(d.join("other.salt")).expect("salt");
    let other_hex = other.lines().nth(1).expect("hex").to_string();
    forged["salt"] = serde_json::Value::String(other_hex.clone());
    std::fs::write(d.join("forged.json"), forged.to_string()).expect("write");
    let v: Vote =
        serde_json::from_str(&std::fs::read_to_string(d.join("vote.json")).expect("vote"))
            .expect("vote");
    let salt = Salt::from(poie::hexser::decode::<32>(&other_hex).expect("hex"));
    let s = poie::proof::unique_secret(v.params.hash, &salt, &v.address);
    std::fs::write(
        d.join("u.secret"),
        format!("poie-unique-secret-v1\n{}\n", hex::encode(s)),
    )
    .expect("write");
    let o = leak_claim(d);
    assert_ok(&o);
    let o = poie(
        d,
        &[
            "judge-leak",
            "--claim",
            "claim.json",
            "--vote",
            "vote.json",
            "--reveal",
            "forged.json",
            "--reveal-start",
            "10",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("committed to"));
    // The same check refuses the forged reveal.
    let o = poie(d, &check_args("vote.json", "forged.json", "wb.txt"));
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("reveal"));
}

#[test]
fn vote_checks_its_outputs_before_the_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("wb.txt"), "hello\n").expect("write");
    assert!(poie(d, &["key", "new", "k.key"]).status.success());
    let vote = |out: &str| poie(d, &vote_args("v.salt", &["--out", out]));
    refused(&vote("missing/vote.json"), 125, "does not exist");
    assert!(!d.join("v.salt").exists(), "no salt left behind");
    let o = vote("vote.json");
    assert_ok(&o);
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_where_a_file_is_meant() {
    let dir = voted();
    let d = dir.path();
    let fifo = d.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.map(|s| s.success()).unwrap_or(false), "mkfifo");
    for special in ["fifo", "/dev/zero"] {
        let cases: Vec<Vec<&str>> = vec![
            check_args(special, "reveal.json", "wb.txt").to_vec(),
            check_args("vote.json", "reveal.json", special).to_vec(),
            vec!["reveal", "--vote", "vote.json", "--salt-file", special],
            vec![
                "vote",
                "--key",
                special,
                "--windback",
                "wb.txt",
                "--salt-out",
                "x.salt",
            ],
        ];
        for args in cases {
            let o = poie_within(d, 20, &args);
            refused(&o, 125, "not a regular file");
        }
    }
}

/// A windback's cost is bounded by its size: a manifest holds names and hashes, not bytes (a
/// file is read again when its job runs, and must not have changed), a file named on many lines
/// is one file, and a manifest of more than `MAX_JOBS` jobs is refused at the line that passes it.
#[test]
fn manifests_hold_hashes_and_are_limited_in_jobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("in.txt"), "40 3").expect("write");
    std::fs::write(d.join("m.txt"), "sort in.txt\n".repeat(12)).expect("write");
    let jobs = windback::load(&d.join("m.txt")).expect("loads");
    assert_eq!(jobs.len(), 12);
    let digest = windback::digest(&jobs);
    let mut sink = poie::trace::VecSink::default();
    windback::execute(&jobs, &mut sink, u64::MAX).expect("runs");
    // The same bytes in memory give the same digest and trace.
    let in_memory: Vec<Job> = (0..12)
        .map(|_| Job {
            program: "sort".into(),
            elf: poie::guests::find("sort").expect("sort").elf.into(),
            input: b"40 3".to_vec().into(),
        })
        .collect();
    assert_eq!(windback::digest(&in_memory), digest);
    let mut again = poie::trace::VecSink::default();
    windback::execute(&in_memory, &mut again, u64::MAX).expect("runs");
    assert_eq!(sink.0, again.0);
    // Changed after the manifest was read: refused when its job runs, not run as voted.
    std::fs::write(d.join("in.txt"), "40 4").expect("write");
    let e = windback::execute(&jobs, &mut poie::trace::VecSink::default(), u64::MAX)
        .expect_err("changed input");
    assert!(format!("{e:#}").contains("job 0"), "{e}");
    assert!(
        std::error::Error::source(&e).is_some_and(|s| s.to_string().contains("changed")),
        "{e:?}"
    );
    std::fs::write(
        d.join("m.txt"),
        "# comment\n".to_string() + &"hello\n".repeat(windback::MAX_JOBS + 1),
    )
    .expect("write");
    let e = windback::load(&d.join("m.txt")).expect_err("too many jobs");
    assert!(
        e.to_string().contains(&format!(
            "line {}: more than {} jobs",
            windback::MAX_JOBS + 2,
            windback::MAX_JOBS
        )),
        "{e}"
    );
    std::fs::write(d.join("m.txt"), "hello\n".repeat(windback::MAX_JOBS)).expect("write");
    assert_eq!(
        windback::load(&d.join("m.txt"))
            .expect("at the limit")
            .len(),
        windback::MAX_JOBS
    );
    // Each job's files are read again when it runs, so a windback names at most 4 GiB in all,
    // a file counted once per line: lines naming one (sparse) 256 MiB input, and `hello`'s
    // ELF, are refused at the 16th, after that file was hashed once.
    let big = std::fs::File::create(d.join("big.bin")).expect("create");
    big.set_len(256 << 20).expect("sparse");
    std::fs::write(d.join("m.txt"), "hello big.bin\n".repeat(17)).expect("write");
    let e = windback::load(&d.join("m.txt")).expect_err("too many bytes");
    assert!(
        e.to_string().contains("line 16: the jobs name more than"),
        "{e}"
    );
    std::fs::write(d.join("m.txt"), "hello big.bin\n".repeat(15)).expect("write");
    assert_eq!(
        windback::load(&d.join("m.txt"))
            .expect("under the limit")
            .len(),
        15
    );
}

#[test]
fn manifest_entries_stay_inside_the_manifest_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = dir.path().join("k.key");
    std::fs::write(&outside, "secret bytes").expect("write");
    let wb = dir.path().join("wb");
    std::fs::create_dir(&wb).expect("mkdir");
    std::fs::write(wb.join("in.txt"), "10 1").expect("write");
    let cases = [
        ("sort ../k.key\n", "without `..`"),
        (&*format!("sort {}\n", outside.display()), "relative path"),
        ("sort sub/../../k.key\n", "without `..`"),
        ("sort missing.txt\n", "missing.txt"),
        ("sort .\n", "not a regular file"),
    ];
    for (manifest, what) in cases {
        std::fs::write(wb.join("m.txt"), manifest).expect("write");
        let e = windback::load(&wb.join("m.txt")).expect_err(manifest);
        assert!(e.to_string().contains(what), "{manifest}: {e}");
        assert!(e.to_string().contains("line 1"), "{e}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&outside, wb.join("link")).expect("symlink");
        std::fs::write(wb.join("m.txt"), "sort link\n").expect("write");
        let e = windback::load(&wb.join("m.txt")).expect_err("symlink out");
        assert!(e.to_string().contains("outside"), "{e}");
    }
    std::fs::write(wb.join("m.txt"), "sort ./in.txt\n").expect("write");
    let jobs = windback::load(&wb.join("m.txt")).expect("inside is fine");
    assert_eq!(&*jobs[0].input.load().expect("reads"), b"10 1");
}

fn params() -> Params {
    Params {
        hash: HashId::Blake3,
        layout: Layout::new(4, true).expect("valid"),
    }
}

fn cfg() -> ProverConfig {
    ProverConfig {
        threads: 1,
        ..ProverConfig::default()
    }
}

#[test]
fn the_step_limit_is_signed_and_every_replay_uses_it() {
    let jobs = vec![Job {
        program: "loop".into(),
        elf: looping_elf().into(),
        input: Vec::new().into(),
    }];
    let (key, salt) = (Key::from_seed(&[3; 32]), Salt::from([4; 32]));
    let v = vote::vote(&key, &jobs, params(), cfg(), &salt, 5000).expect("votes");
    assert_eq!((v.n, v.max_steps), (5000, 5000));
    let reveal = fixtures::reveal(&v, salt);
    // The checker runs no limit of its own: the vote's is enough, and it terminates.
    assert_eq!(
        check(&v, &reveal, &jobs, cfg()).expect("checks"),
        Verdict::Valid
    );
    // The limit is signed: changing it breaks the signature.
    let mut tampered = v.clone();
    tampered.max_steps = 6000;
    assert!(!tampered.authentic());
    // A signed vote that claims no limit over a looping job costs a checker n + 1 steps.
    let mut endless = v.clone();
    endless.max_steps = u64::MAX;
    endless.sign(&key);
    let start = Instant::now();
    assert_eq!(
        check(&endless, &reveal, &jobs, cfg()).expect("checks"),
        Verdict::TraceTooLong { n: 5000 }
    );
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn replay_is_bounded_by_the_votes_length() {
    let jobs = vec![
        Job {
            program: "hello".into(),
            elf: poie::guests::find("hello").expect("hello").elf.into(),
            input: Vec::new().into(),
        },
        Job {
            program: "loop".into(),
            elf: looping_elf().into(),
            input: Vec::new().into(),
        },
    ];
    let mut count = poie::trace::CountingSink::default();
    let e = windback::execute_within(&jobs, &mut count, u64::MAX, 10_000).expect("runs");
    assert_eq!(e, Execution::TooLong);
    assert_eq!(count.chunks, 10_001);
    // Within the bound, every job's state root.
    let mut count = poie::trace::CountingSink::default();
    let e = windback::execute_within(&jobs, &mut count, 700, 10_000).expect("runs");
    assert!(
        matches!(e, Execution::Complete(ref r) if r.len() == 2),
        "{e:?}"
    );
}

/// Writes 1 MiB from DATA to stdout four times (the output limit), then exits 0.
fn chatty_elf() -> Vec<u8> {
    chatty_elf_to(1, 4)
}

/// Writes 1 MiB from DATA to `fd` `times` times, then exits 0.
fn chatty_elf_to(fd: u32, times: u32) -> Vec<u8> {
    writer_elf(fd, times, 1 << 20)
}

/// Writes the `size` bytes at DATA to `fd` `times` times (`size` at most 1 MiB), then exits 0.
/// Each time is a loop of `write` calls, as in a libc's `write_all`: a call moves at most to
/// the end of its buffer's 32-byte leaf (SPEC 1.4), so the loop writes on from where the last
/// call stopped, and exits 3 on a result of 0 or less rather than spinning.
fn writer_elf(fd: u32, times: u32, size: u32) -> Vec<u8> {
    let mut code = li(9, times);
    let outer = code.len();
    code.extend([li(11, DATA), li(12, size)].concat());
    let call = code.len();
    code.extend([li(10, fd), vec![addi(17, 0, 64), ECALL]].concat());
    let guard = code.len();
    code.extend([
        b(0, 10, 0, 5),               // bge x0, a0, fail (patched below)
        r(0, 10, 11, 0, 11, 0x33),    // add a1, a1, a0
        r(0x20, 10, 12, 0, 12, 0x33), // sub a2, a2, a0
    ]);
    let at = code.len() as i32;
    code.push(b(4 * (call as i32 - at), 0, 12, 1)); // bne a2, x0, call
    code.push(addi(9, 9, -1));
    let at = code.len() as i32;
    code.push(b(4 * (outer as i32 - at), 0, 9, 1)); // bne x9, x0, the next round
    code.extend(prog(&[li(10, 0), exit()]));
    let fail = code.len() as i32;
    code.extend(prog(&[vec![addi(10, 0, 3)], exit()]));
    code[guard] = b(4 * (fail - guard as i32), 10, 0, 5);
    elf(&code, &vec![b'x'; 1 << 20])
}

/// A job writes at most `MAX_OUTPUT` bytes to each stream: the write that would pass it is
/// shortened, and the next one kills the guest as `SIGXFSZ` would (exit 153), whether the
/// stream is hashed, captured or discarded. So a verifier hashes at most 4 MiB per job.
#[test]
fn output_past_the_file_size_limit_traps() {
    use poie::vm::{Outcome, Output, TrapKind, Vm, MAX_OUTPUT};
    let mib = 1u64 << 20;
    for (fd, out) in [
        (1, Output::Digest(Box::default())),
        (2, Output::Discard),
        (1, Output::Capture(Vec::new())),
    ] {
        let elf = chatty_elf_to(fd, (MAX_OUTPUT / mib) as u32 + 3);
        let mut vm = Vm::new(&elf, Vec::new()).expect("loads");
        if fd == 1 {
            vm.set_stdout(out);
        } else {
            vm.set_stderr(out);
        }
        let r = vm.run(&mut poie::trace::NullSink, u64::MAX).expect("runs");
        let Outcome::Trapped(t) = r.outcome else {
            panic!("fd {fd}: {:?}", r.outcome)
        };
        assert_eq!(t.kind, TrapKind::OutputLimit);
        assert_eq!(r.outcome.exit_code(), 153);
        if let Some(d) = vm.stdout_digest() {
            assert_eq!(d.len(), MAX_OUTPUT);
        }
    }
    // Rounds of 1 MiB - 100 bytes, each written from DATA (leaf-aligned) 32 bytes a call, the
    // round's last call the 28 bytes left: after four rounds 400 bytes remain under the
    // limit, so the fifth round's 13th call is shortened by the limit to 16 bytes, and the
    // next traps. Each `write`'s result is the `rd_val` of its chunk (SPEC 2).
    let size = (mib - 100) as u32;
    let mut vm = Vm::new(&writer_elf(1, 8, size), Vec::new()).expect("loads");
    vm.set_stdout(Output::Capture(Vec::new()));
    let mut trace = poie::trace::VecSink::default();
    let r = vm.run(&mut trace, u64::MAX).expect("runs");
    assert!(matches!(r.outcome, Outcome::Trapped(t) if t.kind == TrapKind::OutputLimit));
    let word =
        |c: &[u8; 32], at: usize| u32::from_le_bytes([c[at], c[at + 1], c[at + 2], c[at + 3]]);
    let returned: Vec<u32> = trace
        .0
        .iter()
        .filter(|c| word(c, 4) == 0x73 && word(c, 8) == 64)
        .map(|c| word(c, 16))
        .collect();
    let mut expect = Vec::new();
    for _ in 0..4 {
        expect.extend([32; (1 << 15) - 4]);
        expect.push(28);
    }
    expect.extend([32; 12]);
    expect.push(16);
    assert_eq!(returned, expect);
    assert_eq!(vm.stdout().len() as u64, MAX_OUTPUT);
    // Exactly at the limit is fine.
    let elf = chatty_elf_to(1, (MAX_OUTPUT / mib) as u32);
    let mut vm = Vm::new(&elf, Vec::new()).expect("loads");
    vm.set_stdout(Output::Discard);
    let r = vm.run(&mut poie::trace::NullSink, u64::MAX).expect("runs");
    assert_eq!(r.outcome, Outcome::Exited(0));
}

#[test]
fn guest_output_is_hashed_as_it_streams_and_capture_is_bounded() {
    use poie::vm::{Output, Vm, CAPTURE_LIMIT};
    let elf = chatty_elf();
    let mut vm = Vm::new(&elf, Vec::new()).expect("loads");
    vm.set_stdout(Output::Digest(Box::default()));
    let r = vm.run(&mut poie::trace::NullSink, u64::MAX).expect("runs");
    assert_eq!(r.outcome, poie::vm::Outcome::Exited(0));
    let d = vm.stdout_digest().expect("digest");
    assert_eq!(d.len(), 4 << 20);
    let mut h = blake3::Hasher::new();
    for _ in 0..4 {
        h.update(&vec![b'x'; 1 << 20]);
    }
    assert_eq!(d.hash(), *h.finalize().as_bytes());
    // Captured output is bounded by the output limit: all of it is kept, and no more.
    let mut vm = Vm::new(&elf, Vec::new()).expect("loads");
    vm.run(&mut poie::trace::NullSink, u64::MAX).expect("runs");
    assert_eq!(vm.stdout().len(), CAPTURE_LIMIT);
    // The state root commits to all of it.
    let jobs = vec![Job {
        program: "chatty".into(),
        elf: elf.into(),
        input: Vec::new().into(),
    }];
    let claims = windback::execute(&jobs, &mut poie::trace::NullSink, u64::MAX).expect("runs");
    // The state root is the final state's commitment, whose stdout accumulator covers every
    // byte written.
    assert_eq!(claims[0].state_root, vm.state_commitment(0, u64::MAX));
    assert_eq!(vm.state(0, u64::MAX).stdout_len, 4 << 20);
}
