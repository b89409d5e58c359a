//! The RV32IM user-mode virtual machine.
//!
//! [`Vm::run`] executes until the guest exits, traps or reaches a step limit, emitting one
//! [`Chunk`] per retired instruction into a [`TraceSink`]. Code is predecoded at load time into
//! a table indexed by `(pc - code_base) / 4`; the run loop fills a batch buffer that stays in
//! cache and hands it to the sink when full.

mod decode;
mod elf;
mod exec;
mod layout;
mod memory;
mod snapshot;
mod state;
mod syscall;

pub use decode::{decode, Inst, Op};
pub use elf::ElfError;
pub use memory::{Memory, MAX_RESIDENT_PAGES, PAGE_SIZE};
pub use snapshot::Snapshot;
pub use state::proof::LeafProof;
pub use state::step::{StepProofParts, StepProver};
pub use state::{
    StateCommitment, STATUS_EXITED, STATUS_RUNNING, STATUS_STEP_LIMIT, STATUS_TRAPPED,
};
pub use syscall::MAX_OUTPUT;

use memory::WRITE;
use poie_trace::{Chunk, TraceSink};
use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, OnceLock};
use thiserror::Error;

/// The stack occupies `[STACK_TOP - STACK_SIZE, STACK_TOP)`.
pub const STACK_TOP: u32 = 0x8000_0000;
pub const STACK_SIZE: u32 = 8 << 20;
/// `brk` may grow the heap up to here.
pub const BRK_MAX: u32 = 0x7000_0000;
/// Largest span of predecoded code (16 Mi instructions): the pages holding the executable
/// segments' file bytes, from the first to the last.
const MAX_CODE_SPAN: u64 = 64 << 20;
/// Default number of chunks handed to the sink at a time: 8 KiB, a quarter of a typical L1d,
/// so the batch does not evict the guest's own data (measured 2-4% faster than 1024).
pub const DEFAULT_BATCH: usize = 256;

/// The guest's `argv[0]` (and `AT_EXECFN`), NUL-terminated: fixed, so that no host path can
/// reach the trace.
pub const ARGV0: &[u8] = b"guest\0";
/// Where [`ARGV0`] lies: the last 16 bytes of the stack.
pub const ARGV0_ADDR: u32 = STACK_TOP - 16;
/// Where the `AT_RANDOM` bytes lie: the 16 bytes below [`ARGV0_ADDR`].
pub const AT_RANDOM_ADDR: u32 = STACK_TOP - 32;
/// The 16 `AT_RANDOM` bytes: the first 16 bytes of `blake3("poie/v1/AT_RANDOM")`. The same in
/// every run: a guest cannot be given entropy without the trace losing its meaning.
pub const AT_RANDOM_BYTES: [u8; 16] = [
    0x3c, 0x4c, 0xbb, 0x5e, 0xd4, 0xc4, 0xe0, 0x33, 0x56, 0x0b, 0x5f, 0x44, 0x86, 0xaa, 0xed, 0x05,
];
/// The initial `sp`: where `argc` lies (16-byte aligned, as the RISC-V psABI asks).
pub const INITIAL_SP: u32 = 0x7fff_ff40;

/// The auxiliary vector's keys, in the order Linux writes them (`fs/binfmt_elf.c`).
pub mod auxv {
    pub const AT_NULL: u32 = 0;
    pub const AT_PHDR: u32 = 3;
    pub const AT_PHENT: u32 = 4;
    pub const AT_PHNUM: u32 = 5;
    pub const AT_PAGESZ: u32 = 6;
    pub const AT_BASE: u32 = 7;
    pub const AT_FLAGS: u32 = 8;
    pub const AT_ENTRY: u32 = 9;
    pub const AT_UID: u32 = 11;
    pub const AT_EUID: u32 = 12;
    pub const AT_GID: u32 = 13;
    pub const AT_EGID: u32 = 14;
    pub const AT_HWCAP: u32 = 16;
    pub const AT_CLKTCK: u32 = 17;
    pub const AT_SECURE: u32 = 23;
    pub const AT_RANDOM: u32 = 25;
    pub const AT_EXECFN: u32 = 31;
    /// `AT_HWCAP` for RV32IM: one bit per single-letter extension, `1 << (letter - 'A')`.
    pub const HWCAP_RV32IM: u32 = 1 << (b'I' - b'A') | 1 << (b'M' - b'A');
}

/// Why a program could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("invalid ELF: {0}")]
    Elf(ElfError),
    #[error(
        "executable segments' file bytes span {0:#x} bytes of pages, more than the {MAX_CODE_SPAN:#x} supported"
    )]
    CodeTooLarge(u64),
    #[error(
        "segments' file bytes and the initial stack fill {0} pages, more than the {MAX_RESIDENT_PAGES} pages (256 MiB) a guest may have resident"
    )]
    TooManyPages(usize),
}

impl From<ElfError> for LoadError {
    fn from(e: ElfError) -> Self {
        LoadError::Elf(e)
    }
}

/// What made the guest stop abnormally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    IllegalInstruction,
    Breakpoint,
    /// Load from an unmapped address.
    LoadFault {
        addr: u32,
    },
    /// Store to an unmapped or read-only address.
    StoreFault {
        addr: u32,
    },
    /// The pc is not in an executable page.
    FetchFault,
    /// A jump or taken branch to an address that is not 4-byte aligned.
    MisalignedJump {
        target: u32,
    },
    /// A store (at `addr`) or a `read` (into the buffer at `addr`) would make more than
    /// [`MAX_RESIDENT_PAGES`] pages resident.
    MemoryLimit {
        addr: u32,
    },
    /// A `write` to a stream that already holds [`MAX_OUTPUT`] bytes.
    OutputLimit,
}

/// A trap: the faulting instruction did not retire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trap {
    pub pc: u32,
    pub word: u32,
    pub kind: TrapKind,
}

impl Trap {
    /// The process exit code `poie run` uses: 128 + the signal Linux would deliver.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            TrapKind::IllegalInstruction => 132,    // SIGILL
            TrapKind::Breakpoint => 133,            // SIGTRAP
            TrapKind::MisalignedJump { .. } => 135, // SIGBUS
            TrapKind::LoadFault { .. } | TrapKind::StoreFault { .. } | TrapKind::FetchFault => 139, // SIGSEGV
            TrapKind::MemoryLimit { .. } => MEMORY_LIMIT_EXIT_CODE,
            TrapKind::OutputLimit => 153, // SIGXFSZ
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TrapKind::IllegalInstruction => "illegal instruction".to_string(),
            TrapKind::Breakpoint => "breakpoint (ebreak)".to_string(),
            TrapKind::LoadFault { addr } => format!("load from unmapped address {addr:#010x}"),
            TrapKind::StoreFault { addr } => {
                format!("store to unmapped or read-only address {addr:#010x}")
            }
            TrapKind::FetchFault => "instruction fetch from a non-executable address".into(),
            TrapKind::MemoryLimit { addr } => format!(
                "memory limit: a write to {addr:#010x} would make more than {MAX_RESIDENT_PAGES} pages resident"
            ),
            TrapKind::MisalignedJump { target } => {
                format!("jump to misaligned address {target:#010x}")
            }
            TrapKind::OutputLimit => format!(
                "output limit: a write to a stream that already holds {} bytes",
                MAX_OUTPUT
            ),
        };
        write!(
            f,
            "{what} at pc {:#010x} (instruction word {:#010x})",
            self.pc, self.word
        )
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The guest called `exit`/`exit_group` with this status (the full 32-bit `a0`).
    Exited(u32),
    Trapped(Trap),
    /// The step limit was reached before the guest exited.
    StepLimit,
}

/// Process exit code `poie run` uses when the step limit is reached (as `timeout(1)` does).
pub const STEP_LIMIT_EXIT_CODE: u8 = 124;
/// Process exit code `poie run` uses when the guest reaches the resident-page limit: 128 +
/// SIGKILL, what Linux's out-of-memory killer delivers.
pub const MEMORY_LIMIT_EXIT_CODE: u8 = 137;

impl Outcome {
    /// The exit code a process running this guest ends with.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Exited(code) => *code as u8,
            Outcome::Trapped(t) => t.exit_code(),
            Outcome::StepLimit => STEP_LIMIT_EXIT_CODE,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Exited(c) => write!(f, "exited with status {}", *c as u8),
            Outcome::Trapped(t) => write!(f, "trapped: {t}"),
            Outcome::StepLimit => write!(f, "stopped at the step limit"),
        }
    }
}

/// The result of [`Vm::run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunResult {
    /// Instructions retired (= chunks emitted) by this call.
    pub steps: u64,
    pub outcome: Outcome,
}

/// The most guest output [`Output::Capture`] keeps: all of it, since the output limit
/// ([`MAX_OUTPUT`]) stops a guest first; the capture's own bound stays as a second guard on the
/// host's memory.
pub const CAPTURE_LIMIT: usize = MAX_OUTPUT as usize;

/// Where guest output goes.
pub enum Output {
    /// Kept in memory, up to [`CAPTURE_LIMIT`] bytes; read with [`Vm::stdout`] / [`Vm::stderr`].
    Capture(Vec<u8>),
    /// Hashed as it is written, kept nowhere: any amount of output in constant memory.
    Digest(Box<OutputDigest>),
    /// Streamed to a host writer. A host write error is remembered, not shown to the guest, so
    /// the guest's behaviour cannot depend on the host.
    Writer(Box<dyn Write + Send>),
    Discard,
}

/// The length and blake3 hash of everything a guest wrote to one stream.
#[derive(Clone, Default)]
pub struct OutputDigest {
    hasher: blake3::Hasher,
    len: u64,
}

impl OutputDigest {
    pub fn new() -> Self {
        OutputDigest::default()
    }

    /// Bytes written.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// blake3 of the bytes written.
    pub fn hash(&self) -> [u8; 32] {
        *self.hasher.finalize().as_bytes()
    }
}

impl Output {
    fn write(&mut self, bytes: &[u8]) {
        match self {
            Output::Capture(v) => {
                let room = CAPTURE_LIMIT.saturating_sub(v.len());
                v.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
            }
            Output::Digest(d) => {
                d.hasher.update(bytes);
                d.len = d.len.saturating_add(bytes.len() as u64);
            }
            Output::Writer(w) => {
                let _ = w.write_all(bytes).and_then(|_| w.flush());
            }
            Output::Discard => {}
        }
    }

    fn captured(&self) -> &[u8] {
        match self {
            Output::Capture(v) => v,
            _ => &[],
        }
    }
}

struct Io {
    /// Shared, never copied: a snapshot and the VMs resumed from it hold the same bytes (the
    /// input never changes, and may be hundreds of MiB).
    input: Arc<Vec<u8>>,
    input_pos: usize,
    stdout: Output,
    stderr: Output,
    /// Bytes the guest wrote to each stream, whatever the host does with them: what the output
    /// limit counts.
    stdout_written: u64,
    stderr_written: u64,
    /// Bit `fd` set while fd 0, 1 or 2 is open; `close` clears it.
    open_fds: u8,
    /// Each stream's output accumulator for the state commitment (`state::absorb_output`),
    /// kept here because the stream itself may be a digest, a writer or nothing.
    stdout_acc: [u8; 32],
    stderr_acc: [u8; 32],
    /// The input's Merkle root, computed by the first state commitment: the input never
    /// changes, and may be hundreds of MiB.
    input_root: OnceLock<[u8; 32]>,
}

enum Stop {
    Exit(u32),
    Trap(Trap),
}

/// A loaded guest program and its machine state.
pub struct Vm {
    /// x0..x31, then the sink (index 32) that predecoded writes to x0 go to, so that no step
    /// has to zero x0 again; 64 entries so that `& 63` is an index without a bounds check.
    regs: [u32; 64],
    pc: u32,
    mem: Memory,
    /// Predecoded instructions of the pages from `code_base` on; see [`Vm::new`].
    code: Vec<exec::Slot>,
    code_base: u32,
    /// Whether any predecoded page is writable and executable; only then can a store change
    /// code the table holds.
    code_writable: bool,
    /// The initial break and the current one, as 33-bit numbers (2^32 when the highest segment
    /// ends in the last page; the break then never moves).
    brk_start: u64,
    brk: u64,
    io: Io,
    retired: u64,
    finished: Option<Outcome>,
    /// Why the last step left the hot loop; taken at once by the run loop.
    leave: Option<exec::Leave>,
}

/// `x` rounded up to a multiple of the page size.
fn page_up(x: u64) -> u64 {
    x.div_ceil(PAGE_SIZE as u64) * PAGE_SIZE as u64
}

/// The initial stack from [`INITIAL_SP`] to [`STACK_TOP`], Linux's layout for a static
/// executable run with one argument and no environment: `argc = 1`, `argv[0]`, a NULL argv
/// terminator, a NULL envp terminator, the auxiliary vector ending in `AT_NULL`, zero padding,
/// the `AT_RANDOM` bytes and the `argv[0]` string.
fn initial_stack(prog: &elf::Program) -> Vec<u8> {
    use auxv::*;
    let aux = [
        (AT_HWCAP, HWCAP_RV32IM),
        (AT_PAGESZ, PAGE_SIZE as u32),
        (AT_CLKTCK, 100),
        (AT_PHDR, prog.phdr),
        (AT_PHENT, 32),
        (AT_PHNUM, u32::from(prog.phnum)),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, prog.entry),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_SECURE, 0),
        (AT_RANDOM, AT_RANDOM_ADDR),
        (AT_EXECFN, ARGV0_ADDR),
        (AT_NULL, 0),
    ];
    let mut words = vec![1, ARGV0_ADDR, 0, 0];
    words.extend(aux.iter().flat_map(|&(k, v)| [k, v]));
    let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    bytes.resize((AT_RANDOM_ADDR - INITIAL_SP) as usize, 0);
    bytes.extend_from_slice(&AT_RANDOM_BYTES);
    bytes.extend_from_slice(ARGV0);
    bytes.resize((STACK_TOP - INITIAL_SP) as usize, 0);
    bytes
}

impl Vm {
    /// Loads an ELF executable with the given stdin bytes. Output is captured in memory.
    ///
    /// The file is validated whole before any guest memory exists, and the pages its file bytes
    /// and the initial stack will fill are counted before any is allocated, so a refused file
    /// costs no more than its parse.
    pub fn new(elf_image: &[u8], input: Vec<u8>) -> Result<Vm, LoadError> {
        let stack = (STACK_TOP - STACK_SIZE, STACK_TOP);
        let prog = elf::parse(elf_image, stack)?;

        // The predecoded table covers the pages holding executable file bytes, first to last.
        // Executable pages outside it (zero-filled ones only) are decoded when fetched.
        let code_ranges: Vec<(u64, u64)> = prog
            .segments
            .iter()
            .filter(|s| s.executable() && s.filesz > 0)
            .map(|s| (u64::from(s.vaddr), u64::from(s.vaddr) + u64::from(s.filesz)))
            .collect();
        let code_start =
            code_ranges.iter().map(|r| r.0).min().unwrap_or(0) & !(PAGE_SIZE as u64 - 1);
        let code_end = page_up(code_ranges.iter().map(|r| r.1).max().unwrap_or(0));
        let span = code_end.saturating_sub(code_start);
        if span > MAX_CODE_SPAN {
            return Err(LoadError::CodeTooLarge(span));
        }
        // Both fit: the span is at most MAX_CODE_SPAN and starts below 2^32.
        let (code_base, span) = (code_start as u32, span as u32);

        let stack_image = initial_stack(&prog);
        let mut written: Vec<(u32, u32)> =
            prog.segments.iter().map(|s| (s.vaddr, s.filesz)).collect();
        written.push((INITIAL_SP, STACK_TOP - INITIAL_SP));
        let pages = memory::distinct_pages(&written);
        if pages > MAX_RESIDENT_PAGES {
            return Err(LoadError::TooManyPages(pages));
        }

        // A page's permissions are the union of those of the segments touching it; later
        // segments overwrite earlier ones where their file bytes overlap. Laid out in work
        // proportional to the result, not to the segments' sizes summed (`layout`).
        let mut mem = Memory::new();
        layout::map_segments(&mut mem, &prog.segments);
        layout::write_file_bytes(&mut mem, &prog.segments, elf_image)
            .map_err(|_| LoadError::TooManyPages(pages))?;
        mem.map(stack.0, STACK_SIZE, WRITE);
        mem.write_bytes(INITIAL_SP, &stack_image, false)
            .map_err(|_| LoadError::TooManyPages(pages))?;

        let code = (0..span / 4)
            .map(|i| {
                let pc = code_base.wrapping_add(4 * i);
                let word = mem.load_u32(pc).unwrap_or(0);
                let inst = if mem.is_executable(pc) {
                    decode(word)
                } else {
                    Inst::not_executable(word)
                };
                exec::Slot::new(inst, pc)
            })
            .collect();
        let code_writable = mem.any_writable_code(code_base, span);

        let mut regs = [0u32; 64];
        regs[2] = INITIAL_SP;
        let brk_start = page_up(prog.end);
        Ok(Vm {
            regs,
            pc: prog.entry,
            mem,
            code,
            code_base,
            code_writable,
            brk_start,
            brk: brk_start,
            io: Io {
                input: Arc::new(input),
                input_pos: 0,
                stdout: Output::Capture(Vec::new()),
                stderr: Output::Capture(Vec::new()),
                stdout_written: 0,
                stderr_written: 0,
                open_fds: 0b111,
                stdout_acc: [0; 32],
                stderr_acc: [0; 32],
                input_root: OnceLock::new(),
            },
            retired: 0,
            finished: None,
            leave: None,
        })
    }

    pub fn set_stdout(&mut self, out: Output) {
        self.io.stdout = out;
    }

    pub fn set_stderr(&mut self, out: Output) {
        self.io.stderr = out;
    }

    /// Guest stdout so far, if captured.
    pub fn stdout(&self) -> &[u8] {
        self.io.stdout.captured()
    }

    /// Length and hash of guest stdout so far, if it goes to [`Output::Digest`].
    pub fn stdout_digest(&self) -> Option<&OutputDigest> {
        match &self.io.stdout {
            Output::Digest(d) => Some(d.as_ref()),
            _ => None,
        }
    }

    /// Guest stderr so far, if captured.
    pub fn stderr(&self) -> &[u8] {
        self.io.stderr.captured()
    }

    pub fn pc(&self) -> u32 {
        self.pc
    }

    pub fn reg(&self, r: usize) -> u32 {
        self.regs[r & 31]
    }

    /// Instructions retired since loading.
    pub fn retired(&self) -> u64 {
        self.retired
    }

    pub fn memory(&self) -> &Memory {
        &self.mem
    }

    /// Runs with the default batch size. See [`Vm::run_batched`].
    pub fn run<S: TraceSink>(&mut self, sink: &mut S, max_steps: u64) -> io::Result<RunResult> {
        self.run_batched(sink, max_steps, DEFAULT_BATCH)
    }

    /// Runs until the guest exits or traps, or `max_steps` more instructions have retired,
    /// handing the trace to `sink` in batches of `batch` chunks (the last may be shorter).
    /// A sink error stops the run and is returned. Running again after the step limit continues
    /// where the run stopped; after an exit or trap it returns the same outcome at once.
    pub fn run_batched<S: TraceSink>(
        &mut self,
        sink: &mut S,
        max_steps: u64,
        batch: usize,
    ) -> io::Result<RunResult> {
        if let Some(outcome) = self.finished {
            sink.finish()?;
            return Ok(RunResult { steps: 0, outcome });
        }
        let batch = batch.max(1);
        // Only allocated if the sink lends no buffer of its own.
        let mut buf: Vec<Chunk> = Vec::new();
        let mut steps = 0u64;
        let outcome = loop {
            let want = (max_steps - steps).min(batch as u64) as usize;
            if want == 0 {
                break Outcome::StepLimit;
            }
            let (done, stop) = if S::RECORDS {
                // Write the chunks straight into the sink's buffer when it lends one (the
                // prover's block), else into our batch buffer for `consume`.
                let (dst, lent) = match sink.lend(want) {
                    Some(room) if !room.is_empty() => (room, true),
                    _ => {
                        buf.resize(batch, [0; 32]);
                        (&mut buf[..want], false)
                    }
                };
                let (done, stop) = self.exec(dst);
                if lent {
                    sink.commit(done)?;
                } else {
                    sink.consume(&buf[..done])?;
                }
                (done, stop)
            } else {
                self.exec_untraced(want)
            };
            steps += done as u64;
            match stop {
                None => {}
                Some(Stop::Exit(status)) => break Outcome::Exited(status),
                Some(Stop::Trap(t)) => break Outcome::Trapped(t),
            }
        };
        self.retired += steps;
        if !matches!(outcome, Outcome::StepLimit) {
            self.finished = Some(outcome);
        }
        sink.finish()?;
        Ok(RunResult { steps, outcome })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_random_bytes_are_the_documented_hash() {
        let h = blake3::hash(b"poie/v1/AT_RANDOM");
        assert_eq!(&h.as_bytes()[..16], &AT_RANDOM_BYTES);
    }

    #[test]
    fn initial_stack_fits_between_sp_and_the_top() {
        let prog = elf::Program {
            entry: 0x1_0000,
            segments: Vec::new(),
            phdr: 0x1_0034,
            phnum: 2,
            end: 0x1_1000,
        };
        let img = initial_stack(&prog);
        assert_eq!(img.len() as u32, STACK_TOP - INITIAL_SP);
        assert_eq!(INITIAL_SP % 16, 0);
        // argc, argv[0], NULL, NULL, 17 auxv pairs: the table ends before the AT_RANDOM bytes,
        // and sp is the highest 16-byte aligned address that leaves room for it.
        let table = 4 * (4 + 2 * 17);
        assert!(INITIAL_SP + table <= AT_RANDOM_ADDR);
        assert!(INITIAL_SP + 16 + table > AT_RANDOM_ADDR);
        let at = |a: u32| (a - INITIAL_SP) as usize;
        assert_eq!(
            &img[at(AT_RANDOM_ADDR)..at(AT_RANDOM_ADDR) + 16],
            &AT_RANDOM_BYTES
        );
        assert_eq!(&img[at(ARGV0_ADDR)..at(ARGV0_ADDR) + ARGV0.len()], ARGV0);
    }

    #[test]
    fn page_up_rounds_to_pages() {
        assert_eq!(page_up(0), 0);
        assert_eq!(page_up(1), 4096);
        assert_eq!(page_up(4096), 4096);
        assert_eq!(page_up(0xffff_f001), 1 << 32);
    }
}
