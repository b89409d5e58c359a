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
use poie_vm::{LoadError, Output, Vm};
use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};
use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use thiserror::Error;

pub const DS_WINDBACK: &[u8] = b"poie/v1/windback";

/// The most jobs one windback may hold (SPEC 6.2): each costs a verifier a VM setup (about
/// 0.6 ms) whatever it executes, so a manifest of a million one-step jobs would demand work
/// its trace does not show. A manifest with more is refused, and so is a vote with more state
/// roots.
pub const MAX_JOBS: usize = 4096;

/// The most program and input bytes one windback may name in all, a file counted once per line
/// that names it (SPEC 6.2): each job's files are read and hashed again when it runs, so
/// without it 4096 lines naming one 256 MiB input would cost a verifier 1 TiB of reading and
/// hashing for a trace of a few steps.
pub const MAX_WINDBACK_BYTES: u64 = 4 << 30;

/// A job's program or input: its blake3 hash, and where its bytes are. A file is hashed once
/// when the manifest is read (once however many lines name it) and read again only when its
/// job runs, so running a windback holds one job's bytes at a time.
///
/// Its keccak256 hash, which a version-4 vote's windback digest commits to (SPEC 6.2), is
/// computed the first time it is asked for, and kept: a version-3 vote never pays a second
/// pass over up to 4 GiB of files, and the clones of one file's blob (one per line naming it)
/// share it.
#[derive(Clone, Debug)]
pub struct Blob {
    hash: [u8; 32],
    len: u64,
    source: Source,
    keccak: Arc<OnceLock<[u8; 32]>>,
}

#[derive(Clone, Debug)]
enum Source {
    Memory(Arc<[u8]>),
    /// A file's canonical path, confined to its manifest's folder when it was read.
    File(PathBuf),
}

impl Blob {
    /// The blake3 hash of the bytes: what a version-3 vote's windback digest commits to, and
    /// what [`Blob::load`] checks the bytes against.
    pub fn hash(&self) -> &[u8; 32] {
        &self.hash
    }

    /// The keccak256 hash of the bytes: what a version-4 vote's windback digest commits to.
    /// Computed on the first call (a file is read again, and must still have its blake3 hash:
    /// otherwise the two digests would be of different bytes) and kept.
    pub fn keccak(&self) -> io::Result<[u8; 32]> {
        if let Some(h) = self.keccak.get() {
            return Ok(*h);
        }
        let h = match &self.source {
            Source::Memory(b) => Keccak256::digest(b).into(),
            Source::File(path) => {
                let max = poie_files::files::MAX_PROGRAM;
                let f = poie_files::files::open_regular(path)?;
                let mut limited = f.take(max.saturating_add(1));
                let mut both = BothHashes(Keccak256::new(), blake3::Hasher::new());
                io::copy(&mut limited, &mut both)?;
                let BothHashes(k, b) = both;
                if b.finalize().as_bytes() != &self.hash {
                    return Err(io::Error::other(format!(
                        "{} changed since the manifest was read",
                        path.display()
                    )));
                }
                k.finalize().into()
            }
        };
        // A race with another thread computes the same bytes' hash: either value will do.
        let _ = self.keccak.set(h);
        Ok(h)
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes. A file is read again and must still have the hash it had when the manifest
    /// was read: a file changed in between would run something other than what was voted on.
    pub fn load(&self) -> io::Result<Vec<u8>> {
        match &self.source {
            Source::Memory(b) => Ok(b.to_vec()),
            Source::File(path) => {
                let bytes = poie_files::files::read_bounded(path, poie_files::files::MAX_PROGRAM)?;
                if blake3::hash(&bytes).as_bytes() != &self.hash {
                    return Err(io::Error::other(format!(
                        "{} changed since the manifest was read",
                        path.display()
                    )));
                }
                Ok(bytes)
            }
        }
    }

    /// Hashes a regular file of at most [`poie_files::files::MAX_PROGRAM`] bytes as it streams,
    /// keeping none of it.
    fn file(path: PathBuf) -> io::Result<Blob> {
        let max = poie_files::files::MAX_PROGRAM;
        let f = poie_files::files::open_regular(&path)?;
        let mut h = blake3::Hasher::new();
        let mut limited = f.take(max.saturating_add(1));
        let len = io::copy(&mut limited, &mut h)?;
        if len > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("larger than {max} bytes"),
            ));
        }
        Ok(Blob {
            hash: *h.finalize().as_bytes(),
            len,
            source: Source::File(path),
            keccak: Arc::default(),
        })
    }
}

/// Feeds the bytes written to keccak256 and blake3 at once: one pass over a file gives its
/// keccak hash and the blake3 hash that shows it is still the file the manifest named.
struct BothHashes(Keccak256, blake3::Hasher);

impl io::Write for BothHashes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        self.1.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Blob {
        Blob::from(Arc::<[u8]>::from(bytes))
    }
}

impl From<Arc<[u8]>> for Blob {
    fn from(bytes: Arc<[u8]>) -> Blob {
        Blob {
            hash: *blake3::hash(&bytes).as_bytes(),
            len: bytes.len() as u64,
            source: Source::Memory(bytes),
            keccak: Arc::default(),
        }
    }
}

impl From<&[u8]> for Blob {
    fn from(bytes: &[u8]) -> Blob {
        Blob::from(Arc::<[u8]>::from(bytes))
    }
}

/// One job: its program and input, and a name for messages.
#[derive(Clone, Debug)]
pub struct Job {
    pub program: String,
    pub elf: Blob,
    pub input: Blob,
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
    #[error("{path}, line {line}: more than {MAX_JOBS} jobs (SPEC 6.2)")]
    TooManyJobs { path: String, line: usize },
    #[error("{path}, line {line}: the jobs name more than {MAX_WINDBACK_BYTES} bytes of programs and inputs in all, a file counted once per line (SPEC 6.2)")]
    TooManyBytes { path: String, line: usize },
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
    #[error("job {job} ({program})")]
    Read {
        job: usize,
        program: String,
        source: io::Error,
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
    let mut seen = HashMap::new();
    let mut total = 0u64;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if jobs.len() == MAX_JOBS {
            return Err(ManifestError::TooManyJobs {
                path: p,
                line: i.saturating_add(1),
            });
        }
        let j = job(base, &root, line, &mut seen).map_err(|problem| ManifestError::Job {
            path: p.clone(),
            line: i.saturating_add(1),
            problem,
        })?;
        total = total
            .saturating_add(j.elf.len())
            .saturating_add(j.input.len());
        if total > MAX_WINDBACK_BYTES {
            return Err(ManifestError::TooManyBytes {
                path: p,
                line: i.saturating_add(1),
            });
        }
        jobs.push(j);
    }
    if jobs.is_empty() {
        return Err(ManifestError::NoJobs { path: p });
    }
    Ok(jobs)
}

/// The job of one manifest line, `PROGRAM [INPUT]`: a built-in guest, unless the manifest's
/// folder `base` (canonically `root`) holds a file of that name, or an ELF file. `seen` holds
/// the files already hashed, by canonical path (and the built-in guests, by a name no canonical
/// path can have).
fn job(
    base: &Path,
    root: &Path,
    line: &str,
    seen: &mut HashMap<PathBuf, Blob>,
) -> Result<Job, JobError> {
    let mut parts = line.split_whitespace();
    let program = parts.next().unwrap_or_default().to_string();
    let input_name = parts.next();
    if parts.next().is_some() {
        return Err(JobError::Syntax);
    }
    let elf = match guests::find(&program).filter(|_| !base.join(&program).exists()) {
        Some(g) => seen
            .entry(PathBuf::from(format!("built-in:{program}")))
            .or_insert_with(|| Blob::from(g.elf))
            .clone(),
        None => entry(root, &program, seen).map_err(|problem| JobError::Program {
            name: program.clone(),
            problem,
        })?,
    };
    let input = match input_name {
        Some(name) => entry(root, name, seen).map_err(|problem| JobError::Input {
            name: name.into(),
            problem,
        })?,
        None => Blob::from(Vec::new()),
    };
    Ok(Job {
        program,
        elf,
        input,
    })
}

/// Manifest entry `name` under the manifest's canonical folder `root`, refusing anything that
/// is not a bounded regular file inside it; hashed once per distinct file.
fn entry(root: &Path, name: &str, seen: &mut HashMap<PathBuf, Blob>) -> Result<Blob, EntryError> {
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
    if let Some(b) = seen.get(&full) {
        return Ok(b.clone());
    }
    let b = Blob::file(full.clone()).map_err(EntryError::Read)?;
    seen.insert(full, b.clone());
    Ok(b)
}

/// The version-3 (off-chain) windback digest: `blake3(DS_WINDBACK || count (u64 LE) || for
/// each job: blake3(elf) || blake3(input))`.
pub fn digest(jobs: &[Job]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(DS_WINDBACK)
        .update(&(jobs.len() as u64).to_le_bytes());
    for j in jobs {
        h.update(j.elf.hash()).update(j.input.hash());
    }
    *h.finalize().as_bytes()
}

/// The version-4 (on-chain) windback digest, which a contract recomputes with its keccak:
/// `keccak256(DS_WINDBACK || count (u64 LE) || for each job: keccak256(elf) ||
/// keccak256(input))`. It reads each distinct file once more (see [`Blob::keccak`]), so it
/// fails as loading a job does: a file gone or changed since the manifest was read.
pub fn keccak_digest(jobs: &[Job]) -> Result<[u8; 32], ExecuteError> {
    let mut h = Keccak256::new();
    h.update(DS_WINDBACK);
    h.update((jobs.len() as u64).to_le_bytes());
    for (k, j) in jobs.iter().enumerate() {
        let read = |source| ExecuteError::Read {
            job: k,
            program: j.program.clone(),
            source,
        };
        h.update(j.elf.keccak().map_err(read)?);
        h.update(j.input.keccak().map_err(read)?);
    }
    Ok(h.finalize().into())
}

/// What a vote claims of each job (SPEC 6.2): enough for a referee to check the job's start and
/// end from bounded data, without running it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobClaim {
    /// The state commitment (SPEC 1.6) of the job's initial state: its program loaded, its input
    /// committed, job index and the vote's step limit in the header. Anyone computes it from the
    /// windback's files without running anything.
    #[serde(with = "poie_files::hexser::bytes")]
    pub initial_state: [u8; 32],
    /// The chunks the job emitted: the instructions it retired.
    pub steps: u64,
    /// The job's state root: the state commitment of its final state (exited, trapped or at the
    /// step limit), which commits to its status, its stdout (the accumulator and length) and
    /// everything else the VM holds.
    #[serde(with = "poie_files::hexser::bytes")]
    pub state_root: [u8; 32],
}

/// What executing a windback within a vote's bounds gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Execution {
    /// Every job ran (to its exit, trap or step limit): what each did.
    Complete(Vec<JobClaim>),
    /// The trace passed `max_chunks` chunks, so it cannot be the trace voted on; execution
    /// stopped there.
    TooLong,
}

/// Runs the jobs in order into one sink (their traces concatenated) and returns what each job
/// did. `max_steps` bounds each job.
pub fn execute<S: TraceSink>(
    jobs: &[Job],
    sink: &mut S,
    max_steps: u64,
) -> Result<Vec<JobClaim>, ExecuteError> {
    match execute_within(jobs, sink, max_steps, u64::MAX)? {
        Execution::Complete(roots) => Ok(roots),
        Execution::TooLong => Err(ExecuteError::TraceOverflow),
    }
}

/// Job `k` of a windback, loaded (its files read again and checked against their hashes), its
/// output going nowhere: what every replay of a job starts from.
pub fn load_vm(job: &Job, k: usize) -> Result<Vm, ExecuteError> {
    let read = |source| ExecuteError::Read {
        job: k,
        program: job.program.clone(),
        source,
    };
    let elf = job.elf.load().map_err(read)?;
    let input = job.input.load().map_err(read)?;
    let mut vm = Vm::new(&elf, input).map_err(|source| ExecuteError::Load {
        job: k,
        program: job.program.clone(),
        source,
    })?;
    vm.set_stdout(Output::Discard);
    vm.set_stderr(Output::Discard);
    Ok(vm)
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
    let mut claims = Vec::with_capacity(jobs.len());
    // Chunks still allowed, counting the one that proves the trace too long.
    let mut budget = max_chunks.saturating_add(1);
    for (k, job) in jobs.iter().enumerate() {
        let mut vm = load_vm(job, k)?;
        // At most MAX_JOBS jobs: the index fits the header's u32.
        let index = u32::try_from(k).unwrap_or(u32::MAX);
        let initial_state = vm.state_commitment(index, max_steps);
        let limit = max_steps.min(budget);
        let r = vm.run(sink, limit)?;
        budget = budget.saturating_sub(r.steps);
        if budget == 0 {
            return Ok(Execution::TooLong);
        }
        claims.push(JobClaim {
            initial_state,
            steps: r.steps,
            state_root: vm.state_commitment(index, max_steps),
        });
    }
    sink.finish()?;
    Ok(Execution::Complete(claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keccak(parts: &[&[u8]]) -> [u8; 32] {
        let mut h = Keccak256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }

    /// The two digests commit to the same files with their own hash, in the layout of SPEC 6.2.
    #[test]
    fn the_keccak_digest_is_keccak_all_the_way_down() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("in.txt"), b"300 3").expect("write");
        std::fs::write(
            dir.path().join("wb.txt"),
            "sort in.txt\nhello\nsort in.txt\n",
        )
        .expect("write");
        let jobs = load(&dir.path().join("wb.txt")).expect("loads");
        let sort = guests::find("sort").expect("sort").elf;
        let hello = guests::find("hello").expect("hello").elf;
        let mut pre = DS_WINDBACK.to_vec();
        pre.extend_from_slice(&3u64.to_le_bytes());
        for (elf, input) in [
            (sort, &b"300 3"[..]),
            (hello, &b""[..]),
            (sort, &b"300 3"[..]),
        ] {
            pre.extend_from_slice(&keccak(&[elf]));
            pre.extend_from_slice(&keccak(&[input]));
        }
        assert_eq!(keccak_digest(&jobs).expect("hashes"), keccak(&[&pre]));
        let mut b3 = DS_WINDBACK.to_vec();
        b3.extend_from_slice(&3u64.to_le_bytes());
        for (elf, input) in [
            (sort, &b"300 3"[..]),
            (hello, &b""[..]),
            (sort, &b"300 3"[..]),
        ] {
            b3.extend_from_slice(blake3::hash(elf).as_bytes());
            b3.extend_from_slice(blake3::hash(input).as_bytes());
        }
        assert_eq!(digest(&jobs), *blake3::hash(&b3).as_bytes());
        // The lines naming one file share its blob, so its keccak hash is computed once.
        let (a, b) = (&jobs[0].input, &jobs[2].input);
        assert!(Arc::ptr_eq(&a.keccak, &b.keccak));
        assert!(a.keccak.get().is_some());
    }

    /// A file changed between the manifest's reading and its keccak hash is refused, as when
    /// its job runs.
    #[test]
    fn a_file_changed_before_its_keccak_hash_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("in.txt"), b"300 3").expect("write");
        std::fs::write(dir.path().join("wb.txt"), "sort in.txt\n").expect("write");
        let jobs = load(&dir.path().join("wb.txt")).expect("loads");
        std::fs::write(dir.path().join("in.txt"), b"300 4").expect("write");
        let e = keccak_digest(&jobs).expect_err("changed");
        let ExecuteError::Read { job, source, .. } = e else {
            panic!("{e}");
        };
        assert_eq!(job, 0);
        assert!(source
            .to_string()
            .contains("changed since the manifest was read"));
    }
}
