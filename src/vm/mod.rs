//! The RV32IM user-mode virtual machine.
//!
//! [`Vm::run`] executes until the guest exits, traps or reaches a step limit, emitting one
//! [`Chunk`] per retired instruction into a [`TraceSink`]. Code is predecoded at load time into
//! a table indexed by `(pc - code_base) / 4`; the run loop fills a batch buffer that stays in
//! cache and hands it to the sink when full.

mod decode;
mod elf;
mod exec;
mod memory;
mod syscall;

pub use decode::{decode, Inst, Op};
pub use elf::ElfError;
pub use memory::{Memory, PAGE_SIZE};

use crate::trace::{Chunk, TraceSink};
use std::fmt;
use std::io::{self, Write};
use thiserror::Error;

/// The stack occupies `[STACK_TOP - STACK_SIZE, STACK_TOP)`.
pub const STACK_TOP: u32 = 0x8000_0000;
pub const STACK_SIZE: u32 = 8 << 20;
/// `brk` may grow the heap up to here.
pub const BRK_MAX: u32 = 0x7000_0000;
/// Largest span of executable segments the predecoder accepts (16 Mi instructions).
const MAX_CODE_SPAN: u32 = 64 << 20;
/// Default number of chunks handed to the sink at a time: 8 KiB, a quarter of a typical L1d,
/// so the batch does not evict the guest's own data (measured 2-4% faster than 1024).
pub const DEFAULT_BATCH: usize = 256;

/// Why a program could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("invalid ELF: {0}")]
    Elf(ElfError),
    #[error("executable segments span {0:#x} bytes, more than the {MAX_CODE_SPAN:#x} supported")]
    CodeTooLarge(u32),
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
    /// The pc left the executable segments.
    FetchFault,
    /// A jump or taken branch to an address that is not 4-byte aligned.
    MisalignedJump {
        target: u32,
    },
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
            TrapKind::FetchFault => "instruction fetch outside the executable segments".into(),
            TrapKind::MisalignedJump { target } => {
                format!("jump to misaligned address {target:#010x}")
            }
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

/// The most guest output [`Output::Capture`] keeps; the rest is dropped, so a guest cannot
/// exhaust the host's memory by writing.
pub const CAPTURE_LIMIT: usize = 16 << 20;

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
    input: Vec<u8>,
    input_pos: usize,
    stdout: Output,
    stderr: Output,
}

enum Stop {
    Exit(u32),
    Trap(Trap),
}

/// A loaded guest program and its machine state.
pub struct Vm {
    regs: [u32; 32],
    pc: u32,
    mem: Memory,
    code: Vec<Inst>,
    code_base: u32,
    /// Whether any code page is writable; only then can a store change code.
    code_writable: bool,
    brk_start: u32,
    brk: u32,
    io: Io,
    retired: u64,
    finished: Option<Outcome>,
}

impl Vm {
    /// Loads an ELF executable with the given stdin bytes. Output is captured in memory.
    pub fn new(elf_image: &[u8], input: Vec<u8>) -> Result<Vm, LoadError> {
        let mut mem = Memory::new();
        let stack = (STACK_TOP - STACK_SIZE, STACK_TOP);
        let loaded = elf::load(elf_image, &mut mem, stack)?;
        mem.map(stack.0, STACK_SIZE, true);

        let code_base = loaded.code.iter().map(|c| c.0).min().unwrap_or(0) & !3;
        let code_end = loaded.code.iter().map(|c| c.1).max().unwrap_or(0);
        let span = code_end - code_base;
        if span > MAX_CODE_SPAN {
            return Err(LoadError::CodeTooLarge(span));
        }
        let code = (0..span / 4)
            .map(|i| {
                let pc = code_base + 4 * i;
                let in_code = loaded
                    .code
                    .iter()
                    .any(|&(s, e)| pc >= s && pc as u64 + 4 <= e as u64);
                match mem.load_u32(pc) {
                    Some(w) if in_code => decode(w),
                    w => Inst::illegal(w.unwrap_or(0)),
                }
            })
            .collect();
        let code_writable = mem.any_writable(code_base, span);

        // Linux's initial stack for a static binary with argc = 0: argc, a NULL argv terminator,
        // a NULL envp terminator and an AT_NULL auxv entry, all zero words. The stack is zeroed.
        let sp = STACK_TOP - 32;
        let mut regs = [0u32; 32];
        regs[2] = sp;
        let brk_start = loaded.end;
        Ok(Vm {
            regs,
            pc: loaded.entry,
            mem,
            code,
            code_base,
            code_writable,
            brk_start,
            brk: brk_start,
            io: Io {
                input,
                input_pos: 0,
                stdout: Output::Capture(Vec::new()),
                stderr: Output::Capture(Vec::new()),
            },
            retired: 0,
            finished: None,
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
