//! Windbacks: a sequence of jobs whose traces, concatenated, form one proof's trace.
//!
//! Manifest format (text): one job per line, `PROGRAM [INPUT]`, where PROGRAM is a built-in
//! guest name or an ELF path and INPUT a file (paths relative to the manifest's folder); blank
//! lines and lines starting with `#` are ignored.
//!
//! A manifest comes from whoever posted the job, so its paths are confined: each must be
//! relative, without `..`, and resolve (symlinks followed) to a regular file inside the
//! manifest's folder, of at most [`poie_files::files::MAX_PROGRAM`] bytes. Otherwise a manifest
//! naming `../../k.key` would feed a host file to a guest, whose public results (`n`, state
//! roots) would then leak it.

use poie_guests as guests;
use poie_trace::TraceSink;
use poie_vm::{LoadError, Outcome, Output, OutputDigest, Vm};
use std::io;
use std::path::Path;
use thiserror::Error;

pub const DS_WINDBACK: &[u8] = b"poie/v1/windback";
pub const DS_STATE: &[u8] = b"poie/v1/state";

/// One job: program bytes, input bytes and names for messages.
#[derive(Clone, Debug)]
pub struct Job {
    pub program: String,
    pub elf: Vec<u8>,
    pub input: Vec<u8>,
}

/// Why a manifest could not be read.
#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("{path}")]
    Read { path: String, source: io::Error },
    /// The manifest's folder, which confines its entries, does not resolve.
    #[error("{path}")]
    Folder { path: String, source: io::Error },
    #[error("{path}, line {line}: {problem}")]
    Job {
        path: String,
        line: usize,
        problem: JobError,
    },
    #[error("{path}, line 0: no jobs")]
    NoJobs { path: String },
}

/// What is wrong with one job line of a manifest.
#[derive(Debug, Error)]
pub enum JobError {
    #[error("expected `PROGRAM [INPUT]`")]
    Syntax,
    #[error("program {name}: {problem}")]
    Program { name: String, problem: EntryError },
    #[error("input {name}: {problem}")]
    Input { name: String, problem: EntryError },
}

/// Why a path a manifest names is refused.
#[derive(Debug, Error)]
pub enum EntryError {
    #[error("must be a relative path inside the manifest's folder, without `..`")]
    NotRelative,
    /// It does not resolve (a missing file, say).
    #[error("{0}")]
    Resolve(io::Error),
    #[error("resolves (through a symbolic link) outside the manifest's folder")]
    Outside,
    /// Not a regular file of at most [`poie_files::files::MAX_PROGRAM`] bytes, or unreadable.
    #[error("{0}")]
    Read(io::Error),
}

/// Why a windback's jobs could not be run.
#[derive(Debug, Error)]
pub enum ExecuteError {
    #[error("job {job} ({program})")]
    Load {
        job: usize,
        program: String,
        source: LoadError,
    },
    /// The sink the trace streams into failed (a prover, a file).
    #[error(transparent)]
    Sink(#[from] io::Error),
    #[error("the windback's trace passed 2^64 chunks")]
    TraceOverflow,
}

/// Reads a manifest.
pub fn load(path: &Path) -> Result<Vec<Job>, ManifestError> {
    let p = path.display().to_string();
    let text = poie_files::files::read_text_bounded(path, poie_files::files::MAX_DOCUMENT)
        .map_err(|source| ManifestError::Read {
            path: p.clone(),
            source,
        })?;
    let base = match path.parent() {
        Some(b) if !b.as_os_str().is_empty() => b,
        _ => Path::new("."),
    };
    let root = base
        .canonicalize()
        .map_err(|source| ManifestError::Folder {
            path: base.display().to_string(),
            source,
        })?;
    let mut jobs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        jobs.push(
            job(base, &root, line).map_err(|problem| ManifestError::Job {
                path: p.clone(),
                line: i.saturating_add(1),
                problem,
            })?,
        );
    }
    if jobs.is_empty() {
        return Err(ManifestError::NoJobs { path: p });
    }
    Ok(jobs)
}

/// The job of one manifest line, `PROGRAM [INPUT]`: a built-in guest, unless the manifest's
/// folder `base` (canonically `root`) holds a file of that name, or an ELF file.
fn job(base: &Path, root: &Path, line: &str) -> Result<Job, JobError> {
    let mut parts = line.split_whitespace();
    let program = parts.next().unwrap_or_default().to_string();
    let input_name = parts.next();
    if parts.next().is_some() {
        return Err(JobError::Syntax);
    }
    let elf = match guests::find(&program).filter(|_| !base.join(&program).exists()) {
        Some(g) => g.elf.to_vec(),
        None => read_entry(root, &program).map_err(|problem| JobError::Program {
            name: program.clone(),
            problem,
        })?,
    };
    let input = match input_name {
        Some(name) => read_entry(root, name).map_err(|problem| JobError::Input {
            name: name.into(),
            problem,
        })?,
        None => Vec::new(),
    };
    Ok(Job {
        program,
        elf,
        input,
    })
}

/// Reads manifest entry `name` under the manifest's canonical folder `root`, refusing
/// anything that is not a bounded regular file inside it.
fn read_entry(root: &Path, name: &str) -> Result<Vec<u8>, EntryError> {
    use std::path::Component;
    let rel = Path::new(name);
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(EntryError::NotRelative);
    }
    let full = root.join(rel).canonicalize().map_err(EntryError::Resolve)?;
    if !full.starts_with(root) {
        return Err(EntryError::Outside);
    }
    poie_files::files::read_bounded(&full, poie_files::files::MAX_PROGRAM).map_err(EntryError::Read)
}

/// `blake3(DS_WINDBACK || count (u64 LE) || for each job: blake3(elf) || blake3(input))`.
pub fn digest(jobs: &[Job]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(DS_WINDBACK)
        .update(&(jobs.len() as u64).to_le_bytes());
    for j in jobs {
        h.update(blake3::hash(&j.elf).as_bytes())
            .update(blake3::hash(&j.input).as_bytes());
    }
    *h.finalize().as_bytes()
}

/// A job's state root: `blake3(DS_STATE || tag (u8) || status (u32 LE) || stdout length (u64
/// LE) || blake3(stdout))` with tag 0 for an exit (status = exit status), 1 for a trap, 2 for
/// the step limit (status 0 for both). The stdout is hashed as the guest writes it, so a guest
/// writing without end costs hashing, not memory.
pub fn state_root(outcome: &Outcome, stdout: &OutputDigest) -> [u8; 32] {
    let (tag, status) = match outcome {
        Outcome::Exited(s) => (0u8, *s),
        Outcome::Trapped(_) => (1, 0),
        Outcome::StepLimit => (2, 0),
    };
    *blake3::Hasher::new()
        .update(DS_STATE)
        .update(&[tag])
        .update(&status.to_le_bytes())
        .update(&stdout.len().to_le_bytes())
        .update(&stdout.hash())
        .finalize()
        .as_bytes()
}

/// What executing a windback within a vote's bounds gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Execution {
    /// Every job ran (to its exit, trap or step limit): their state roots.
    Complete(Vec<[u8; 32]>),
    /// The trace passed `max_chunks` chunks, so it cannot be the trace voted on; execution
    /// stopped there.
    TooLong,
}

/// Runs the jobs in order into one sink (their traces concatenated) and returns each job's
/// state root. `max_steps` bounds each job.
pub fn execute<S: TraceSink>(
    jobs: &[Job],
    sink: &mut S,
    max_steps: u64,
) -> Result<Vec<[u8; 32]>, ExecuteError> {
    match execute_within(jobs, sink, max_steps, u64::MAX)? {
        Execution::Complete(roots) => Ok(roots),
        Execution::TooLong => Err(ExecuteError::TraceOverflow),
    }
}

/// As [`execute`], but stops once the trace passes `max_chunks` chunks in all: a verifier
/// replaying a vote of `n` chunks never needs more than `n + 1`, whatever the vote's jobs do,
/// so a signed vote over a looping job costs it at most that much.
pub fn execute_within<S: TraceSink>(
    jobs: &[Job],
    sink: &mut S,
    max_steps: u64,
    max_chunks: u64,
) -> Result<Execution, ExecuteError> {
    let mut roots = Vec::with_capacity(jobs.len());
    // Chunks still allowed, counting the one that proves the trace too long.
    let mut budget = max_chunks.saturating_add(1);
    for (k, job) in jobs.iter().enumerate() {
        let mut vm = Vm::new(&job.elf, job.input.clone()).map_err(|source| ExecuteError::Load {
            job: k,
            program: job.program.clone(),
            source,
        })?;
        vm.set_stdout(Output::Digest(Box::default()));
        vm.set_stderr(Output::Discard);
        let limit = max_steps.min(budget);
        let r = vm.run(sink, limit)?;
        budget = budget.saturating_sub(r.steps);
        if budget == 0 {
            return Ok(Execution::TooLong);
        }
        let stdout = vm.stdout_digest().cloned().unwrap_or_default();
        roots.push(state_root(&r.outcome, &stdout));
    }
    sink.finish()?;
    Ok(Execution::Complete(roots))
}
