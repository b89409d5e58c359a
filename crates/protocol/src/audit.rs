//! Spot-check audits. After the executor has published its signed vote, the auditor draws a
//! fresh random nonce; the sampled leaf indices follow from the vote's root and that nonce, so
//! neither party alone picks them: the executor's root is fixed before the nonce exists, and
//! grinding the root for good indices is useless. The executor opens the samples; the auditor
//! executes once without hashing the trace and verifies K branches instead of re-hashing all n
//! chunks.

use super::secret::{self, SecretError};
use super::vote::{first_wrong_claim, Reveal, Verdict, Vote};
use super::windback::{self, ExecuteError, Execution, Job};
use poie_proof::backend::SimdError;
use poie_proof::opening::{verify, Opening, OpeningCollector, OpeningError};
use poie_proof::{Hasher, Prover, ProverConfig, Salt};
use poie_trace::{Chunk, TraceSink};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;

pub const DS_AUDIT: &[u8] = b"poie/v2/audit";

/// The most leaves one audit samples: far past any useful confidence (each sample catches a
/// wrong fraction `f` of leaves with probability `f`), and a bound on the openings an executor
/// must build and an auditor read.
pub const MAX_SAMPLES: u32 = 4096;

/// `min(k, MAX_SAMPLES)` indices in `[0, n)`: `u64 LE of blake3(DS_AUDIT || root || nonce ||
/// i (u32 LE))[0..8] mod n`.
pub fn sample_indices(root: &[u8; 32], nonce: &[u8; 32], n: u64, k: u32) -> Vec<u64> {
    if n == 0 {
        return Vec::new();
    }
    (0..k.min(MAX_SAMPLES))
        .map(|i| {
            let h = blake3::Hasher::new()
                .update(DS_AUDIT)
                .update(root)
                .update(nonce)
                .update(&i.to_le_bytes())
                .finalize();
            let mut b = [0u8; 8];
            b.copy_from_slice(&h.as_bytes()[..8]);
            u64::from_le_bytes(b) % n
        })
        .collect()
}

/// Version of the audit challenge and response files.
pub const AUDIT_VERSION: u32 = 2;

/// The auditor's challenge: a fresh nonce drawn after it received the signed vote with `root`,
/// and how many leaves to sample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditChallenge {
    pub version: u32,
    #[serde(with = "poie_files::hexser::bytes")]
    pub root: [u8; 32],
    #[serde(with = "poie_files::hexser::bytes")]
    pub nonce: [u8; 32],
    pub samples: u32,
}

impl poie_files::json::VersionedFile for AuditChallenge {
    const WHAT: &'static str = "audit challenge";
    const VERSION: u32 = AUDIT_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

impl AuditChallenge {
    /// The indices this challenge samples from a vote of `n` chunks.
    pub fn indices(&self, n: u64) -> Vec<u64> {
        sample_indices(&self.root, &self.nonce, n, self.samples)
    }
}

/// Why an auditor cannot challenge a vote.
#[derive(Debug, thiserror::Error)]
pub enum ChallengeError {
    #[error("the vote's signature or address does not verify: audit only authentic votes")]
    Unauthentic,
    #[error("samples must be 1 to {MAX_SAMPLES}, not {0}")]
    Samples(u32),
    #[error(transparent)]
    Random(#[from] SecretError),
}

/// Auditor side, first step: draws a fresh nonce from the operating system for an authentic,
/// already published vote. Call it only once the vote is in hand: a nonce the executor could
/// learn before it signs its root would let it grind the root again.
pub fn challenge(v: &Vote, samples: u32) -> Result<AuditChallenge, ChallengeError> {
    if !v.authentic() {
        return Err(ChallengeError::Unauthentic);
    }
    if !(1..=MAX_SAMPLES).contains(&samples) {
        return Err(ChallengeError::Samples(samples));
    }
    Ok(AuditChallenge {
        version: AUDIT_VERSION,
        root: v.root,
        nonce: secret::random32()?,
        samples,
    })
}

/// The executor's answer to an audit: one opening per sampled index, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditResponse {
    pub version: u32,
    #[serde(with = "poie_files::hexser::bytes")]
    pub root: [u8; 32],
    /// The nonce of the challenge answered.
    #[serde(with = "poie_files::hexser::bytes")]
    pub nonce: [u8; 32],
    pub openings: Vec<Opening>,
}

impl poie_files::json::VersionedFile for AuditResponse {
    const WHAT: &'static str = "audit response";
    const VERSION: u32 = AUDIT_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

/// Why an executor cannot answer an audit of its vote.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    #[error("wrong salt for this vote: it is not the salt the vote committed to")]
    WrongSalt,
    #[error("this windback is not the one the vote is for")]
    WrongWindback,
    #[error("the challenge is for another vote (root {0}), not this one")]
    OtherVote(String),
    #[error("the challenge asks for {0} samples: 1 to {MAX_SAMPLES} are allowed")]
    Samples(u32),
    #[error("{0}: the vote is invalid, there is nothing to open")]
    BeyondCap(super::vote::BeyondCap),
    #[error("{0}: the vote is invalid, there is nothing to open")]
    Profile(super::vote::ProfileError),
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
/// challenged indices of its own vote, all in one pass. Refuses, writing nothing, when the
/// challenge is for another vote or the re-execution does not give the vote's root: a wrong
/// salt or windback would only produce openings that fail.
pub fn respond(
    v: &Vote,
    salt: &Salt,
    jobs: &[Job],
    c: &AuditChallenge,
    cfg: ProverConfig,
) -> Result<AuditResponse, RespondError> {
    if c.root != v.root {
        return Err(RespondError::OtherVote(hex::encode(c.root)));
    }
    if !(1..=MAX_SAMPLES).contains(&c.samples) {
        return Err(RespondError::Samples(c.samples));
    }
    v.within_cap().map_err(RespondError::BeyondCap)?;
    let profile = v.profile().map_err(RespondError::Profile)?;
    if profile.salt_commitment(salt) != v.salt_commitment {
        return Err(RespondError::WrongSalt);
    }
    if !v.is_for(jobs)? {
        return Err(RespondError::WrongWindback);
    }
    let h = Hasher::for_executor(v.params.hash, salt, &v.address, cfg.simd)?;
    let collector = OpeningCollector::new(h.clone(), v.params, v.n, &c.indices(v.n))?;
    let mut tee = poie_trace::Tee(Prover::new(v.params, h, cfg), collector);
    if windback::execute_within(jobs, &mut tee, v.max_steps, v.n)? == Execution::TooLong {
        return Err(RespondError::LongerTrace);
    }
    let poie_trace::Tee(prover, collector) = tee;
    let proof = prover.into_proof().map_err(RespondError::Prover)?;
    if proof.root != v.root {
        return Err(RespondError::OtherRoot);
    }
    let openings = collector
        .into_openings(&proof.lane_roots)
        .map_err(RespondError::Prover)?;
    Ok(AuditResponse {
        version: AUDIT_VERSION,
        root: v.root,
        nonce: c.nonce,
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
    /// The vote claims more work than the protocol allows: invalid, not audited.
    BeyondCap(super::vote::BeyondCap),
    /// The response answers another challenge (or another vote) than the auditor's.
    NotThisChallenge,
    /// A job's claimed initial state or step count differs from the auditor's execution (or
    /// the vote has another number of jobs).
    WrongJobStart {
        job: usize,
    },
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
            AuditVerdict::BeyondCap(e) => write!(f, "failed: {e}"),
            AuditVerdict::NotThisChallenge => write!(
                f,
                "failed: the response answers another challenge or vote than this one"
            ),
            AuditVerdict::WrongJobStart { job } => {
                write!(f, "failed: wrong initial state or step count at job {job}")
            }
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
    #[error("the challenge is for another vote (root {0}), not this one")]
    OtherVote(String),
    #[error("the challenge asks for {0} samples: 1 to {MAX_SAMPLES} are allowed")]
    Samples(u32),
    #[error(transparent)]
    Simd(#[from] SimdError),
    #[error(transparent)]
    Execute(#[from] ExecuteError),
}

/// Auditor side, last step: given its own challenge `c` (never one the executor chose), executes
/// without hashing the trace, then checks each sampled opening's chunk against its own
/// execution and its branches against the vote's root.
pub fn audit(
    v: &Vote,
    r: &Reveal,
    jobs: &[Job],
    c: &AuditChallenge,
    resp: &AuditResponse,
) -> Result<AuditVerdict, AuditError> {
    if c.root != v.root {
        return Err(AuditError::OtherVote(hex::encode(c.root)));
    }
    // A challenge of no samples would pass every vote whose length and state roots are right.
    if !(1..=MAX_SAMPLES).contains(&c.samples) {
        return Err(AuditError::Samples(c.samples));
    }
    if !v.authentic() || !r.belongs_to(v) {
        return Ok(AuditVerdict::BadSignature);
    }
    if let Err(e) = v.within_cap() {
        return Ok(AuditVerdict::BeyondCap(e));
    }
    if resp.root != v.root || resp.nonce != c.nonce {
        return Ok(AuditVerdict::NotThisChallenge);
    }
    let indices = c.indices(v.n);
    let mut wanted = indices.clone();
    wanted.sort_unstable();
    wanted.dedup();
    let mut picker = Picker {
        wanted,
        next: 0,
        seen: 0,
        found: BTreeMap::new(),
    };
    let claims = match windback::execute_within(jobs, &mut picker, v.max_steps, v.n)? {
        Execution::Complete(claims) => claims,
        // Replay stopped at n + 1 chunks: the length alone is wrong.
        Execution::TooLong => {
            return Ok(AuditVerdict::WrongLength {
                expected: picker.seen,
            })
        }
    };
    match first_wrong_claim(&claims, &v.jobs) {
        Some(Verdict::WrongStateRoot { job }) => return Ok(AuditVerdict::WrongStateRoot { job }),
        Some(Verdict::WrongJobStart { job }) => return Ok(AuditVerdict::WrongJobStart { job }),
        _ => {}
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
    if resp.openings.len() > indices.len() {
        return Ok(AuditVerdict::BadOpening {
            index: resp.openings.get(indices.len()).map_or(0, |o| o.index),
            reason: format!(
                "the response holds {} openings for {} samples",
                resp.openings.len(),
                indices.len()
            ),
        });
    }
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
