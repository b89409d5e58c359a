//! Windbacks: a sequence of jobs whose traces, concatenated, form one proof's trace.
//!
//! Manifest format (text): one job per line, `PROGRAM [INPUT]`, where PROGRAM is a built-in
//! guest name or an ELF path and INPUT a file (paths relative to the manifest's folder); blank
//! lines and lines starting with `#` are ignored.

use crate::guests;
use crate::trace::TraceSink;
use crate::vm::{LoadError, Outcome, Output, Vm};
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

#[derive(Debug, Error)]
pub enum WindbackError {
    #[error("{path}")]
    Io { path: String, source: io::Error },
    #[error("{path}, line {line}: {msg}")]
    Manifest {
        path: String,
        line: usize,
        msg: String,
    },
    #[error("job {job} ({program})")]
    Load {
        job: usize,
        program: String,
        source: LoadError,
    },
    #[error("{0}")]
    Sink(#[from] io::Error),
    #[error("{0}")]
    Simd(#[from] crate::proof::backend::SimdError),
}

/// Reads a manifest.
pub fn load(path: &Path) -> Result<Vec<Job>, WindbackError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| WindbackError::Io {
        path: p.clone(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut jobs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |msg: String| WindbackError::Manifest {
            path: p.clone(),
            line: i + 1,
            msg,
        };
        let mut parts = line.split_whitespace();
        let program = parts.next().unwrap_or_default().to_string();
        let input_name = parts.next();
        if parts.next().is_some() {
            return Err(err("expected `PROGRAM [INPUT]`".into()));
        }
        let elf = match guests::find(&program).filter(|_| !base.join(&program).exists()) {
            Some(g) => g.elf.to_vec(),
            None => std::fs::read(base.join(&program))
                .map_err(|e| err(format!("program {program}: {e}")))?,
        };
        let input = match input_name {
            Some(name) => {
                std::fs::read(base.join(name)).map_err(|e| err(format!("input {name}: {e}")))?
            }
            None => Vec::new(),
        };
        jobs.push(Job {
            program,
            elf,
            input,
        });
    }
    if jobs.is_empty() {
        return Err(WindbackError::Manifest {
            path: p,
            line: 0,
            msg: "no jobs".into(),
        });
    }
    Ok(jobs)
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
/// LE) || stdout)` with tag 0 for an exit (status = exit status), 1 for a trap, 2 for the step
/// limit (status 0 for both).
pub fn state_root(outcome: &Outcome, stdout: &[u8]) -> [u8; 32] {
    let (tag, status) = match outcome {
        Outcome::Exited(s) => (0u8, *s),
        Outcome::Trapped(_) => (1, 0),
        Outcome::StepLimit => (2, 0),
    };
    *blake3::Hasher::new()
        .update(DS_STATE)
        .update(&[tag])
        .update(&status.to_le_bytes())
        .update(&(stdout.len() as u64).to_le_bytes())
        .update(stdout)
        .finalize()
        .as_bytes()
}

/// Runs the jobs in order into one sink (their traces concatenated) and returns each job's
/// state root. `max_steps` bounds each job.
pub fn execute<S: TraceSink>(
    jobs: &[Job],
    sink: &mut S,
    max_steps: u64,
) -> Result<Vec<[u8; 32]>, WindbackError> {
    let mut roots = Vec::with_capacity(jobs.len());
    for (k, job) in jobs.iter().enumerate() {
        let mut vm =
            Vm::new(&job.elf, job.input.clone()).map_err(|source| WindbackError::Load {
                job: k,
                program: job.program.clone(),
                source,
            })?;
        vm.set_stderr(Output::Discard);
        let r = vm.run(sink, max_steps)?;
        roots.push(state_root(&r.outcome, vm.stdout()));
    }
    sink.finish()?;
    Ok(roots)
}
