//! RV32IM conformance against qemu-riscv32, the oracle:
//! - our own per-instruction suite, `tests/conformance/*.S` (see `harness.h` there), assembled by
//!   `scripts/build-conformance.sh`: each program must exit with the same expected status (0, or
//!   the trap a `// expect-exit:` line names) and print the same bytes under poie and qemu;
//! - a seeded differential of random RV32IM programs that dump all registers and a data buffer.
//!
//! Missing tools follow the convention of tests/common/tools.rs: on a developer machine the test says
//! so and passes; in CI (`CI` set), where scripts/test.sh installs them, it fails.
// qemu-user, and exit statuses from signals, are Linux matters.
#![cfg(unix)]

mod common;
use common::rng::Rng;
use common::rv32::*;
use common::{cli, tools};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const GCC: &str = "riscv64-unknown-elf-gcc";
const QEMU: &str = "qemu-riscv32";
/// Far more than any program here executes: a runaway program stops with 124 instead of hanging.
const MAX_STEPS: &str = "10000000";

/// Whether the suite can be built and run: both tools are looked for, so both are reported.
fn suite_tools() -> bool {
    tools::installed(GCC, "the conformance suite") & tools::installed(QEMU, "the conformance suite")
}

/// Exit status as a shell reports it: a process killed by signal S gives 128 + S, which is
/// also how `poie run` reports a trap.
fn status(s: ExitStatus) -> i32 {
    s.code()
        .unwrap_or_else(|| 128 + s.signal().expect("exit code or signal"))
}

struct Ran {
    status: i32,
    stdout: Vec<u8>,
}

fn poie(elf: &Path) -> Ran {
    let o = cli::bin()
        .args(["run", "--max-steps", MAX_STEPS])
        .arg(elf)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("poie runs");
    Ran {
        status: status(o.status),
        stdout: o.stdout,
    }
}

fn qemu(elf: &Path) -> Ran {
    let o = Command::new(QEMU)
        .arg(elf)
        // A guest that dies of a signal may leave a core file in the working directory.
        .current_dir(elf.parent().expect("elf in a directory"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("qemu-riscv32 runs");
    Ran {
        status: status(o.status),
        stdout: o.stdout,
    }
}

/// What an exit status means for a harness program.
fn meaning(status: i32) -> String {
    match status {
        0 => "pass".into(),
        1..=120 => format!("check {status} failed"),
        121 => "failed before its first check".into(),
        124 => "step limit".into(),
        128.. => format!("signal {}", status - 128),
        _ => "unexpected status".into(),
    }
}

/// Runs `job` on every item, on as many threads as there are cores, keeping the order.
fn parallel<T: Sync, R: Send>(items: &[T], job: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let out = Mutex::new((0..items.len()).map(|_| None).collect::<Vec<Option<R>>>());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(k) else { break };
                let r = job(k, item);
                out.lock().expect("no worker panicked")[k] = Some(r);
            });
        }
    });
    out.into_inner()
        .expect("no worker panicked")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

fn build(out: &Path, sources: &[PathBuf]) {
    let ok = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/build-conformance.sh"
        ))
        .arg(out)
        .args(sources)
        .status()
        .expect("build script runs")
        .success();
    assert!(ok, "scripts/build-conformance.sh failed");
}

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// The `// expect-exit: N` line of a program that must trap; 0 (a pass) without one.
fn expected_status(source: &str) -> i32 {
    source
        .lines()
        .find_map(|l| l.trim().strip_prefix("// expect-exit:"))
        .map_or(0, |n| n.trim().parse().expect("expect-exit is a number"))
}

/// Runs one built program under both machines; `Err` describes how it failed.
fn check_program(dir: &Path, name: &str, expected: i32) -> Result<(), String> {
    let elf = dir.join(format!("{name}.elf"));
    let (p, q) = (poie(&elf), qemu(&elf));
    let mut errs = Vec::new();
    for (who, r) in [("poie", &p), ("qemu", &q)] {
        if r.status != expected {
            errs.push(format!(
                "{who} exited {} ({}), expected {expected}",
                r.status,
                meaning(r.status)
            ));
        }
    }
    if p.stdout != q.stdout {
        errs.push(format!(
            "stdout differs: poie {:?}, qemu {:?}",
            String::from_utf8_lossy(&p.stdout),
            String::from_utf8_lossy(&q.stdout)
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}: {}", errs.join("; ")))
    }
}

/// Every RV32IM instruction has a program named after it (ebreak traps, so it has a trap_ one).
const INSTRUCTIONS: &str =
    "lui auipc jal jalr beq bne blt bge bltu bgeu lb lh lw lbu lhu sb sh sw \
    addi slti sltiu xori ori andi slli srli srai add sub sll slt sltu xor srl sra or and fence \
    ecall trap_ebreak mul mulh mulhsu mulhu div divu rem remu";

#[test]
fn own_suite_passes_under_poie_and_qemu() {
    if !suite_tools() {
        return;
    }
    let mut programs: Vec<(String, i32)> = std::fs::read_dir(suite_dir())
        .expect("tests/conformance")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "S"))
        .map(|p| {
            let name = p.file_stem().expect("stem").to_string_lossy().into_owned();
            let src = std::fs::read_to_string(&p).expect("read source");
            (name, expected_status(&src))
        })
        .collect();
    programs.sort();
    assert_eq!(INSTRUCTIONS.split_whitespace().count(), 48);
    for ins in INSTRUCTIONS.split_whitespace() {
        assert!(
            programs.iter().any(|(n, _)| n == ins),
            "no conformance program for {ins}"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    build(dir.path(), &[]);
    let failures: Vec<String> = parallel(&programs, |_, (name, expected)| {
        check_program(dir.path(), name, *expected)
    })
    .into_iter()
    .filter_map(Result::err)
    .collect();
    assert!(
        failures.is_empty(),
        "{} of {} conformance programs failed (rebuild with scripts/build-conformance.sh):\n{}",
        failures.len(),
        programs.len(),
        failures.join("\n")
    );
}

/// The harness itself can fail: a wrong expectation in each family of checks exits with that
/// check's number under both machines, so a pass above means the checks ran.
#[test]
fn a_wrong_expectation_fails_with_its_check_number() {
    if !suite_tools() {
        return;
    }
    // Each body's last check is wrong and any before it hold, so the status names the last.
    let wrong = [
        ("rr", "RR 1, add, 2, 1, 1\n RR 7, add, 3, 1, 1", 7),
        (
            "ri",
            "RI 5, srai, 0xffffffff, 0x80000000, 31\n RI 6, srli, 0xffffffff, 0x80000000, 31",
            6,
        ),
        ("load", "LOAD 9, lbu, 0xffffffff, word, 0", 9),
        (
            "store",
            "STORE 3, sh, lh, 0x00001234, 0x81234, word, 1\n STORE 4, sb, lbu, 0xff, 0x80, word, 1",
            4,
        ),
        (
            "taken",
            "BR_TAKEN 11, blt, 1, 2\n BR_TAKEN 12, bltu, 0xffffffff, 1",
            12,
        ),
        (
            "not_taken",
            "BR_NOT_TAKEN 20, bge, 0x80000000, 0\n BR_NOT_TAKEN 21, bge, 0, 0x80000000",
            21,
        ),
        ("bypass", "RR_RD_BYPASS 30, 1, mulhu, 2, 0xffffffff, 2", 30),
        // the link is the next instruction, not the jalr itself
        (
            "jalr",
            "CHECK 40\n ABS x2, 1f\n 2: jalr x5, 0(x2)\n 1: ABS x7, 2b\n EXPECT_EQ x5, x7",
            40,
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let sources: Vec<PathBuf> = wrong
        .iter()
        .map(|(name, body, _)| {
            let p = dir.path().join(format!("{name}.S"));
            let src = format!(
                "#include \"harness.h\"\n TEST_BEGIN\n {body}\n TEST_END\n .data\nword: .word 0\n"
            );
            std::fs::write(&p, src).expect("write source");
            p
        })
        .collect();
    build(dir.path(), &sources);
    for (name, _, check) in wrong {
        assert_eq!(check_program(dir.path(), name, check), Ok(()), "{name}");
    }
}

// ---- the random differential ----

/// Programs and units per program. Each program is about 60 + UNITS * 1.3 instructions; the
/// total takes a few seconds on 2 cores. `POIE_DIFF_PROGRAMS` and `POIE_DIFF_SEED` run a longer
/// or another sample.
const PROGRAMS: usize = 500;
const UNITS: usize = 300;
const SEED: u64 = 0x706f_6965_2d64_6966;

/// Loads and stores use `off(base)` with `off` in BUF_LO..BUF_HI: the buffer straddles the page
/// boundary at BASE, so misaligned accesses also cross pages. The registers are dumped just
/// above the buffer, still within reach of a 12-bit offset.
const BASE: u32 = DATA + 0x1000;
const BUF_LO: i32 = -1536;
const BUF_HI: i32 = 1536;
const DUMP: i32 = BUF_HI;
const DUMP_LEN: usize = 31 * 4;
const OUT_LEN: usize = DUMP_LEN + (BUF_HI - BUF_LO) as usize;

/// The draws of the random programs.
impl Rng {
    fn below32(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + self.below32((hi - lo) as u32) as i32
    }
    /// Values where arithmetic has edges: signs, overflow, division by 0 and -1, shifts.
    fn value(&mut self) -> u32 {
        match self.below32(12) {
            0 => 0,
            1 => 1,
            2 => u32::MAX,
            3 => 0x8000_0000,
            4 => 0x7fff_ffff,
            5 => self.range(-16, 16) as u32,
            6 => 1 << self.below32(32),
            7 => !(1 << self.below32(32)),
            8 => self.below32(64),
            _ => self.next() as u32,
        }
    }
    /// A buffer offset for an access of `width` bytes, any alignment; a quarter of them within
    /// 4 bytes of BASE, where misaligned accesses cross a page boundary.
    fn offset(&mut self, width: i32) -> i32 {
        if self.below32(4) == 0 {
            self.range(-4, 4)
        } else {
            self.range(BUF_LO, BUF_HI - width + 1)
        }
    }
    fn imm12(&mut self) -> i32 {
        match self.below32(6) {
            0 => 0,
            1 => -1,
            2 => 2047,
            3 => -2048,
            4 => self.range(-16, 16),
            _ => self.range(-2048, 2048),
        }
    }
}

/// A piece of the program that branches may land on. Jumps go forward by `skip` whole units,
/// so every program ends, and never into the middle of an auipc + jalr pair.
enum Unit {
    Code(Vec<u32>),
    Branch {
        f3: u32,
        rs1: u32,
        rs2: u32,
        skip: usize,
    },
    Jal {
        rd: u32,
        skip: usize,
    },
    /// `auipc rx, 0; jalr rd, off(rx)`, with bit 0 of the offset set when `odd` (cleared by
    /// jalr).
    Jalr {
        rx: u32,
        rd: u32,
        skip: usize,
        odd: bool,
    },
}

impl Unit {
    fn words(&self) -> u32 {
        match self {
            Unit::Code(w) => w.len() as u32,
            Unit::Jalr { .. } => 2,
            _ => 1,
        }
    }
}

const R_OPS: [(u32, u32); 18] = [
    (0, 0),    // add
    (0x20, 0), // sub
    (0, 1),    // sll
    (0, 2),    // slt
    (0, 3),    // sltu
    (0, 4),    // xor
    (0, 5),    // srl
    (0x20, 5), // sra
    (0, 6),    // or
    (0, 7),    // and
    (1, 0),    // mul
    (1, 1),    // mulh
    (1, 2),    // mulhsu
    (1, 3),    // mulhu
    (1, 4),    // div
    (1, 5),    // divu
    (1, 6),    // rem
    (1, 7),    // remu
];
/// addi, slti, sltiu, xori, ori, andi.
const I_OPS: [u32; 6] = [0, 2, 3, 4, 6, 7];
/// (funct3, width) of lb, lh, lw, lbu, lhu and of sb, sh, sw.
const LOADS: [(u32, i32); 5] = [(0, 1), (1, 2), (2, 4), (4, 1), (5, 2)];
const STORES: [(u32, i32); 3] = [(0, 1), (1, 2), (2, 4)];
const BRANCHES: [u32; 6] = [0, 1, 4, 5, 6, 7];

/// The exit status of a random program whose output `write` failed (returned 0 or less).
const WRITE_FAILED: i32 = 3;

/// A random program's epilogue: dump x1..x31 (the base too: its value is known), write the
/// dump and the buffer to stdout, exit 0. A `write` may be short (poie moves at most to the end
/// of the buffer's 32-byte leaf per call, docs/SPEC.md 1.4; Linux may stop short too), so each
/// is a loop that writes on from where the last call stopped; a result of 0 or less exits with
/// [`WRITE_FAILED`] rather than spinning.
fn epilogue(base: u32) -> Vec<u32> {
    let mut tail: Vec<u32> = (1..32)
        .map(|k| s(DUMP + 4 * (k as i32 - 1), k, base, 2))
        .collect();
    let mut to_fail = Vec::new();
    for (from, len) in [
        (BASE.wrapping_add_signed(DUMP), DUMP_LEN as u32),
        (BASE.wrapping_add_signed(BUF_LO), (BUF_HI - BUF_LO) as u32),
    ] {
        tail.extend(prog(&[li(11, from), li(12, len)]));
        let top = tail.len();
        tail.extend([addi(10, 0, 1), addi(17, 0, 64), ECALL]);
        to_fail.push(tail.len());
        tail.extend([
            b(0, 10, 0, 5),               // bge x0, a0, fail (patched below)
            r(0, 10, 11, 0, 11, 0x33),    // add a1, a1, a0
            r(0x20, 10, 12, 0, 12, 0x33), // sub a2, a2, a0
        ]);
        let here = tail.len() as i32;
        tail.push(b((top as i32 - here) * 4, 0, 12, 1)); // bne a2, x0, top
    }
    tail.extend([addi(10, 0, 0), addi(17, 0, 93), ECALL]);
    let fail = tail.len();
    tail.extend([addi(10, 0, WRITE_FAILED), addi(17, 0, 93), ECALL]);
    for at in to_fail {
        tail[at] = b((fail as i32 - at as i32) * 4, 10, 0, 5);
    }
    tail
}

/// One random program: its ELF and the initial data segment.
fn random_program(seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Rng(seed);
    // The base register is never written by the body; which one it is varies, so that every
    // register is a destination in some programs.
    let base = 1 + rng.below32(31);
    let rd = |rng: &mut Rng| loop {
        let r = rng.below32(32);
        if r != base {
            return r;
        }
    };
    let mut units = Vec::new();
    for reg in (1..32).filter(|&reg| reg != base) {
        let v = rng.value();
        units.push(Unit::Code(li(reg, v)));
    }
    units.push(Unit::Code(li(base, BASE)));
    for _ in 0..UNITS {
        let (d, s1, s2) = (rd(&mut rng), rng.below32(32), rng.below32(32));
        let skip = 1 + rng.below32(8) as usize;
        let unit = match rng.below32(100) {
            0..=29 => {
                let (f7, f3) = R_OPS[rng.below32(18) as usize];
                Unit::Code(vec![r(f7, s2, s1, f3, d, 0x33)])
            }
            30..=43 => {
                let f3 = I_OPS[rng.below32(6) as usize];
                Unit::Code(vec![i(rng.imm12(), s1, f3, d, 0x13)])
            }
            44..=49 => {
                let sh = rng.below32(32) as i32;
                let (f3, imm) = match rng.below32(3) {
                    0 => (1, sh),         // slli
                    1 => (5, sh),         // srli
                    _ => (5, 0x400 | sh), // srai
                };
                Unit::Code(vec![i(imm, s1, f3, d, 0x13)])
            }
            50..=61 => {
                let (f3, width) = LOADS[rng.below32(5) as usize];
                let off = rng.offset(width);
                Unit::Code(vec![i(off, base, f3, d, 0x03)])
            }
            62..=73 => {
                let (f3, width) = STORES[rng.below32(3) as usize];
                let off = rng.offset(width);
                Unit::Code(vec![s(off, s2, base, f3)])
            }
            74..=81 => Unit::Branch {
                f3: BRANCHES[rng.below32(6) as usize],
                rs1: s1,
                rs2: s2,
                skip,
            },
            82..=87 => {
                let v = rng.value();
                Unit::Code(li(d, v))
            }
            88..=91 => {
                let imm = (rng.next() as u32) & 0xffff_f000;
                Unit::Code(vec![if rng.below32(2) == 0 {
                    lui(d, imm)
                } else {
                    auipc(d, imm)
                }])
            }
            92..=95 => Unit::Jal { rd: d, skip },
            _ => Unit::Jalr {
                // rx holds the auipc result until jalr reads it, so not x0.
                rx: loop {
                    let x = rd(&mut rng);
                    if x != 0 {
                        break x;
                    }
                },
                rd: d,
                skip,
                odd: rng.below32(2) == 1,
            },
        };
        units.push(unit);
    }
    let end = units.len();
    units.push(Unit::Code(epilogue(base)));

    // Lay out, then encode the control transfers against unit addresses.
    let mut at = Vec::with_capacity(units.len());
    let mut pc = TEXT;
    for u in &units {
        at.push(pc);
        pc += 4 * u.words();
    }
    let target = |k: usize, skip: usize| at[(k + 1 + skip).min(end)];
    let mut code = Vec::new();
    for (k, u) in units.iter().enumerate() {
        let here = at[k];
        match *u {
            Unit::Code(ref w) => code.extend_from_slice(w),
            Unit::Branch { f3, rs1, rs2, skip } => {
                code.push(b(target(k, skip).wrapping_sub(here) as i32, rs2, rs1, f3))
            }
            Unit::Jal { rd, skip } => code.push(j(target(k, skip).wrapping_sub(here) as i32, rd)),
            Unit::Jalr { rx, rd, skip, odd } => {
                let off = target(k, skip).wrapping_sub(here) as i32 + i32::from(odd);
                code.extend([auipc(rx, 0), jalr(rd, rx, off)]);
            }
        }
    }
    // The text segment (at TEXT) must end below the data segment (at DATA).
    assert!(TEXT as usize + 4 * code.len() <= DATA as usize);
    let mut data = vec![0u8; 0x2000];
    let lo = (BASE - DATA) as usize - BUF_LO.unsigned_abs() as usize;
    for byte in &mut data[lo..lo + (BUF_HI - BUF_LO) as usize] {
        *byte = rng.next() as u8;
    }
    (elf(&code, &data), data)
}

/// Where two dumps differ, register by register and then the first buffer byte.
fn dump_diff(p: &[u8], q: &[u8]) -> String {
    if p.len() != OUT_LEN || q.len() != OUT_LEN {
        return format!("output lengths: poie {}, qemu {}", p.len(), q.len());
    }
    let word = |b: &[u8], k: usize| u32::from_le_bytes(b[4 * k..4 * k + 4].try_into().expect("4"));
    let mut d: Vec<String> = (0..31)
        .filter(|&k| word(p, k) != word(q, k))
        .map(|k| {
            format!(
                "x{}: poie {:#010x} qemu {:#010x}",
                k + 1,
                word(p, k),
                word(q, k)
            )
        })
        .collect();
    if let Some(o) = (DUMP_LEN..OUT_LEN).find(|&o| p[o] != q[o]) {
        let addr = BASE.wrapping_add_signed(BUF_LO) + (o - DUMP_LEN) as u32;
        d.push(format!(
            "first buffer byte differing at {addr:#x}: poie {:#04x} qemu {:#04x}",
            p[o], q[o]
        ));
    }
    d.join(", ")
}

#[test]
fn random_programs_match_qemu() {
    if !tools::installed(QEMU, "the differential test") {
        return;
    }
    fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
        std::env::var(key).map_or(default, |v| {
            v.parse().unwrap_or_else(|_| panic!("{key}: not a number"))
        })
    }
    let seed: u64 = env_or("POIE_DIFF_SEED", SEED);
    let programs: usize = env_or("POIE_DIFF_PROGRAMS", PROGRAMS);
    let dir = tempfile::tempdir().expect("tempdir");
    let ids: Vec<u64> = (0..programs as u64).collect();
    let results = parallel(&ids, |_, &n| {
        let pseed = seed ^ n.wrapping_mul(0xa076_1d64_78bd_642f);
        let (elf_bytes, data) = random_program(pseed);
        let path = dir.path().join(format!("{n}.elf"));
        std::fs::write(&path, &elf_bytes).expect("write elf");
        // qemu-user will not load a file without execute permission.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let (p, q) = (poie(&path), qemu(&path));
        if p.status == 0 && q.status == 0 && p.stdout == q.stdout && q.stdout.len() == OUT_LEN {
            // Whether stores happened: the buffer no longer holds its initial bytes.
            let lo = (BASE - DATA) as usize - BUF_LO.unsigned_abs() as usize;
            return Ok(q.stdout[DUMP_LEN..] != data[lo..lo + OUT_LEN - DUMP_LEN]);
        }
        let why = format!(
            "program {n}: exit poie {} qemu {}; {}",
            p.status,
            q.status,
            dump_diff(&p.stdout, &q.stdout)
        );
        Err((n, why, elf_bytes))
    });
    let failures: Vec<&(u64, String, Vec<u8>)> =
        results.iter().filter_map(|r| r.as_ref().err()).collect();
    if !failures.is_empty() {
        // Keep the first few programs for objdump -D and a rerun; the rest only as lines.
        let shown: Vec<String> = failures
            .iter()
            .take(5)
            .map(|(n, why, elf_bytes)| {
                let keep = std::env::temp_dir().join(format!("poie-diff-{seed:x}-{n}.elf"));
                std::fs::write(&keep, elf_bytes).expect("keep elf");
                format!("{why} (kept at {})", keep.display())
            })
            .collect();
        panic!(
            "{} of {programs} random programs (POIE_DIFF_SEED={seed}) differ from qemu; the first:\n{}",
            failures.len(),
            shown.join("\n")
        );
    }
    let stored = results.iter().filter(|r| matches!(r, Ok(true))).count();
    assert!(
        stored * 10 >= programs * 9,
        "only {stored} of {programs} programs changed their buffer"
    );
}

/// The conformance programs, suite and random ones, step by step under the one-step verifier
/// (and, with the `evm` feature, the on-chain one): every instruction of the suite, its
/// checks' traps and exits included, proven and verified one step at a time.
#[test]
fn suite_and_random_programs_under_the_one_step_verifier() {
    use common::one_step::{check_run, Tally, MAX};
    use poie::vm::Vm;
    if !tools::installed(GCC, "the conformance suite") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    build(dir.path(), &[]);
    let mut tally = Tally::default();
    let mut programs = 0;
    for entry in std::fs::read_dir(dir.path()).expect("the built suite") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|x| x == "elf") {
            let elf = std::fs::read(&path).expect("read ELF");
            let mut vm = Vm::new(&elf, Vec::new()).expect("loads");
            let end = check_run(&mut vm, MAX, 100_000, &mut tally);
            assert_ne!(end.status, poie::referee::Status::Running, "{path:?}");
            programs += 1;
        }
    }
    for seed in 0..20 {
        let (elf, input) = random_program(seed);
        let mut vm = Vm::new(&elf, input).expect("loads");
        check_run(&mut vm, MAX, 100_000, &mut tally);
    }
    assert!(programs >= 48, "{programs} suite programs");
    assert!(tally.verified >= 5_000 && tally.ecalls > 0, "{tally:?}");
    eprintln!("{programs} suite programs and 20 random ones: {tally:?}");
}
