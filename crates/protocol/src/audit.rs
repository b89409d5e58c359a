//! Spot-check audits: openings of leaf indices derived from the vote's own root (so the executor
//! cannot pick them), checked against the auditor's execution. The auditor executes once without
//! hashing the trace and verifies K branches, instead of re-hashing all n chunks.

use super::vote::{Reveal, Vote};
use super::windback::{self, ExecuteError, Execution, Job};
use poie_proof::backend::SimdError;
use poie_proof::opening::{verify, Opening, OpeningCollector, OpeningError};
use poie_proof::{Hasher, Prover, ProverConfig, Salt};
use poie_trace::{Chunk, TraceSink};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;

pub const DS_AUDIT: &[u8] = b"poie/v1/audit";

/// The most leaves one audit samples: far past any useful confidence (each sample catches a
/// wrong fraction `f` of leaves with probability `f`), and a bound on the openings an executor
/// must build and an auditor read.
pub const MAX_SAMPLES: u32 = 4096;

/// `min(k, MAX_SAMPLES)` indices in `[0, n)`: `u64 LE of blake3(DS_AUDIT || root || i (u32
/// LE))[0..8] mod n`.
pub fn sample_indices(root: &[u8; 32], n: u64, k: u32) -> Vec<u64> {
    if n == 0 {
        return Vec::new();
    }
    (0..k.min(MAX_SAMPLES))
        .map(|i| {
            let h = blake3::Hasher::new()
                .update(DS_AUDIT)
                .update(root)
                .update(&i.to_le_bytes())
                .finalize();
            let mut b = [0u8; 8];
            b.copy_from_slice(&h.as_bytes()[..8]);
            u64::from_le_bytes(b) % n
        })
        .collect()
}

/// Version of the audit response file.
pub const AUDIT_VERSION: u32 = 1;

/// The executor's answer to an audit: one opening per sampled index, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditResponse {
    pub version: u32,
    #[serde(with = "poie_files::hexser::bytes")]
    pub root: [u8; 32],
    pub openings: Vec<Opening>,
}

impl poie_files::json::VersionedFile for AuditResponse {
    const WHAT: &'static str = "audit response";
    const VERSION: u32 = AUDIT_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

/// Feeds many opening collectors at once.
struct Collectors(Vec<OpeningCollector>);

impl TraceSink for Collectors {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|c| c.consume(chunks))
    }
}

/// Why an executor cannot answer an audit of its vote.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    #[error("wrong salt for this vote: it is not the salt the vote committed to")]
    WrongSalt,
    #[error("this windback is not the one the vote is for")]
    WrongWindback,
    #[error(
        "re-executing gives a longer trace than the vote's: wrong salt or windback for this vote"
    )]
    LongerTrace,
    #[error(
        "re-executing gives another root than the vote's: wrong salt or windback for this vote"
    )]
    OtherRoot,
    #[error(transparent)]
    Simd(#[from] SimdError),
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// A sampled index cannot be opened in the vote's tree.
    #[error(transparent)]
    Opening(#[from] OpeningError),
    /// The prover, or an opening's collection, could not finish.
    #[error(transparent)]
    Prover(io::Error),
}

/// Executor side: re-executes with the salt (under the vote's step limit) and opens the
/// sampled indices of its own vote. Refuses, writing nothing, when the re-execution does not
/// give the vote's root: a wrong salt or windback would only produce openings that fail.
pub fn respond(
    v: &Vote,
    salt: &Salt,
    jobs: &[Job],
    samples: u32,
    cfg: ProverConfig,
) -> Result<AuditResponse, RespondError> {
    if super::vote::salt_commitment(salt) != v.salt_commitment {
        return Err(RespondError::WrongSalt);
    }
    if windback::digest(jobs) != v.windback {
        return Err(RespondError::WrongWindback);
    }
    let h = Hasher::for_executor(v.params.hash, salt, &v.address, cfg.simd)?;
    let collectors = sample_indices(&v.root, v.n, samples)
        .into_iter()
        .map(|i| OpeningCollector::new(h.clone(), v.params, v.n, i))
        .collect::<Result<Vec<_>, _>>()?;
    let mut tee = poie_trace::Tee(Prover::new(v.params, h, cfg), Collectors(collectors));
    if windback::execute_within(jobs, &mut tee, v.max_steps, v.n)? == Execution::TooLong {
        return Err(RespondError::LongerTrace);
    }
    let poie_trace::Tee(prover, Collectors(collectors)) = tee;
    let proof = prover.into_proof().map_err(RespondError::Prover)?;
    if proof.root != v.root {
        return Err(RespondError::OtherRoot);
    }
    let openings = collectors
        .into_iter()
        .map(|c| c.into_opening(&proof.lane_roots))
        .collect::<io::Result<Vec<_>>>()
        .map_err(RespondError::Prover)?;
    Ok(AuditResponse {
        version: AUDIT_VERSION,
        root: v.root,
        openings,
    })
}

/// Records the chunks at a set of indices, and nothing else.
struct Picker {
    wanted: Vec<u64>,
    next: usize,
    seen: u64,
    found: BTreeMap<u64, Chunk>,
}

impl TraceSink for Picker {
    fn consume(&mut self, chunks: &[Chunk]) -> io::Result<()> {
        let end = self.seen.saturating_add(chunks.len() as u64);
        while let Some(&i) = self.wanted.get(self.next) {
            if i >= end {
                break;
            }
            // `wanted` is sorted and every index before `seen` was taken: `i` is in this batch.
            let at = i
                .checked_sub(self.seen)
                .and_then(|k| usize::try_from(k).ok())
                .and_then(|k| chunks.get(k));
            if let Some(&chunk) = at {
                self.found.insert(i, chunk);
            }
            self.next += 1;
        }
        self.seen = end;
        Ok(())
    }
}

/// What an audit concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditVerdict {
    Passed {
        samples: usize,
    },
    BadSignature,
    WrongStateRoot {
        job: usize,
    },
    /// The executor's trace length differs from the auditor's execution.
    WrongLength {
        expected: u64,
    },
    /// Opening `k` (for sampled index `index`) is missing, for another index, or invalid.
    BadOpening {
        index: u64,
        reason: String,
    },
}

impl std::fmt::Display for AuditVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditVerdict::Passed { samples } => {
                write!(f, "passed: {samples} sampled leaves open correctly")
            }
            AuditVerdict::BadSignature => write!(f, "failed: bad signature or address"),
            AuditVerdict::WrongStateRoot { job } => {
                write!(f, "failed: wrong state root at job {job}")
            }
            AuditVerdict::WrongLength { expected } => write!(
                f,
                "failed: the execution has {expected} chunks, the vote says otherwise"
            ),
            AuditVerdict::BadOpening { index, reason } => {
                write!(f, "failed: leaf {index}: {reason}")
            }
        }
    }
}

/// Why an auditor cannot audit a vote.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Simd(#[from] SimdError),
    #[error(transparent)]
    Execute(#[from] ExecuteError),
}

/// Auditor side: executes without hashing the trace, then checks each sampled opening's chunk
/// against its own execution and its branches against the vote's root.
pub fn audit(
    v: &Vote,
    r: &Reveal,
    jobs: &[Job],
    resp: &AuditResponse,
    samples: u32,
) -> Result<AuditVerdict, AuditError> {
    if !v.authentic() || !r.belongs_to(v) {
        return Ok(AuditVerdict::BadSignature);
    }
    let indices = sample_indices(&v.root, v.n, samples);
    let mut wanted = indices.clone();
    wanted.sort_unstable();
    wanted.dedup();
    let mut picker = Picker {
        wanted,
        next: 0,
        seen: 0,
        found: BTreeMap::new(),
    };
    let roots = match windback::execute_within(jobs, &mut picker, v.max_steps, v.n)? {
        Execution::Complete(roots) => roots,
        // Replay stopped at n + 1 chunks: the length alone is wrong.
        Execution::TooLong => {
            return Ok(AuditVerdict::WrongLength {
                expected: picker.seen,
            })
        }
    };
    if let Some(job) =
        (0..roots.len().max(v.state_roots.len())).find(|&k| roots.get(k) != v.state_roots.get(k))
    {
        return Ok(AuditVerdict::WrongStateRoot { job });
    }
    if picker.seen != v.n {
        return Ok(AuditVerdict::WrongLength {
            expected: picker.seen,
        });
    }
    let h = Hasher::for_executor(
        v.params.hash,
        &r.salt,
        &v.address,
        poie_proof::Simd::detect(),
    )?;
    for (k, &index) in indices.iter().enumerate() {
        let bad = |reason: String| Ok(AuditVerdict::BadOpening { index, reason });
        let Some(o) = resp.openings.get(k) else {
            return bad("no opening given".into());
        };
        if o.index != index {
            return bad(format!("opening is for index {}", o.index));
        }
        if picker.found.get(&index) != Some(&o.chunk) {
            return bad("the opened chunk is not this step of the execution".into());
        }
        if let Err(e) = verify(&h, o, &v.params, v.n, &v.root) {
            return bad(e.to_string());
        }
    }
    Ok(AuditVerdict::Passed {
        samples: indices.len(),
    })
}
