//! Votes, reveals and the full check. Byte layouts are in docs/SPEC.md, section 6.

use super::keys::{address_of, verify, Key};
use super::windback::{self, ExecuteError, Execution, Job, JobClaim};
use poie_proof::backend::SimdError;
use poie_proof::{unique_secret, Address, Hasher, Params, Prover, ProverConfig, Salt};
use serde::{Deserialize, Serialize};
use std::io;

/// Version 2 added the step limit and the streamed stdout hash of the state roots. Version 3
/// claims each job's initial state, step count and final state commitment (SPEC 6.2, 6.3),
/// so that a referee can check a job's start and end without running it.
pub const VOTE_VERSION: u32 = 3;
pub const DS_VOTE: &[u8] = b"poie/v1/vote";
pub const DS_SALT: &[u8] = b"poie/v1/salt";

/// The most chunks a vote may claim (SPEC 6.3). A verifier's work is bounded by the `n` it
/// accepts, and `n` is the signer's to choose; a local budget would not do, since a refusal is
/// not a verdict and a cheater would inflate `n` past every budget. So the protocol caps `n`:
/// a vote beyond it is invalid, and every verifier says so before any work. 2^28 chunks is 3.4
/// times the largest windback measured (79 M steps) and keeps a full check within about a
/// minute and the challenge game's tree within 24 GiB (96 bytes per chunk).
pub const MAX_VOTE_CHUNKS: u64 = 1 << 28;

/// `blake3(DS_SALT || s)`: published in the vote, so any reveal is checked against the vote
/// by one hash, before any work, and a forged reveal cannot frame the executor.
pub fn salt_commitment(salt: &Salt) -> [u8; 32] {
    *blake3::Hasher::new()
        .update(DS_SALT)
        .update(salt.expose())
        .finalize()
        .as_bytes()
}

/// A vote that claims more work than the protocol allows (SPEC 6.3): invalid whatever it proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the vote claims {n} chunks and {jobs} jobs; the protocol allows at most {MAX_VOTE_CHUNKS} chunks and {max_jobs} jobs", max_jobs = windback::MAX_JOBS)]
pub struct BeyondCap {
    pub n: u64,
    pub jobs: usize,
}

/// A signed vote on a windback's state roots, carrying the proof root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vote {
    pub version: u32,
    pub address: Address,
    #[serde(with = "poie_files::hexser::bytes")]
    pub public_key: [u8; 32],
    /// [`salt_commitment`] of the salt the proof was built with.
    #[serde(with = "poie_files::hexser::bytes")]
    pub salt_commitment: [u8; 32],
    #[serde(with = "poie_files::hexser::bytes")]
    pub windback: [u8; 32],
    /// One claim per job, in the windback's order.
    pub jobs: Vec<JobClaim>,
    pub n: u64,
    /// The step limit each job ran under: part of what was executed, so every verifier replays
    /// the windback under it. `u64::MAX` (`null` in JSON) for none.
    #[serde(with = "poie_files::limit")]
    pub max_steps: u64,
    pub params: Params,
    #[serde(with = "poie_files::hexser::bytes")]
    pub root: [u8; 32],
    #[serde(with = "poie_files::hexser::bytes")]
    pub signature: [u8; 64],
}

impl poie_files::json::VersionedFile for Vote {
    const WHAT: &'static str = "vote";
    const VERSION: u32 = VOTE_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

/// The salt behind a vote, published after the voting period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reveal {
    pub version: u32,
    pub address: Address,
    /// The proof root of the vote this reveals.
    #[serde(with = "poie_files::hexser::bytes")]
    pub root: [u8; 32],
    /// Published on purpose: the reveal is the salt, as hex.
    pub salt: Salt,
}

impl poie_files::json::VersionedFile for Reveal {
    const WHAT: &'static str = "reveal";
    const VERSION: u32 = VOTE_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

/// Why a salt cannot be revealed for a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the salt is not the one the vote committed to")]
pub struct WrongSalt;

/// The reveal of vote `v`. The salt must be the one `v` committed to: any other would make a
/// reveal every check refuses, and might publish a secret that is not the vote's salt.
pub fn reveal(v: &Vote, salt: Salt) -> Result<Reveal, WrongSalt> {
    if salt_commitment(&salt) != v.salt_commitment {
        return Err(WrongSalt);
    }
    Ok(Reveal {
        version: VOTE_VERSION,
        address: v.address,
        root: v.root,
        salt,
    })
}

impl Reveal {
    /// For `v`: same address and root, and the salt is the one `v` committed to.
    pub fn belongs_to(&self, v: &Vote) -> bool {
        self.address == v.address
            && self.root == v.root
            && salt_commitment(&self.salt) == v.salt_commitment
    }
}

impl Vote {
    /// `Err` when the vote claims more than [`MAX_VOTE_CHUNKS`] chunks or more than
    /// [`windback::MAX_JOBS`] jobs: checked by every verifier before any work.
    pub fn within_cap(&self) -> Result<(), BeyondCap> {
        if self.n <= MAX_VOTE_CHUNKS && self.jobs.len() <= windback::MAX_JOBS {
            return Ok(());
        }
        Err(BeyondCap {
            n: self.n,
            jobs: self.jobs.len(),
        })
    }

    /// The signed bytes: `DS_VOTE || version (u32 LE) || address || public key || salt
    /// commitment || windback digest || count (u64 LE) || for each job: initial state ||
    /// steps (u64 LE) || state root || n (u64 LE) || max_steps (u64 LE) || params (7 bytes) ||
    /// root`.
    pub fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(160 + 72 * self.jobs.len());
        m.extend_from_slice(DS_VOTE);
        m.extend_from_slice(&self.version.to_le_bytes());
        m.extend_from_slice(self.address.as_bytes());
        m.extend_from_slice(&self.public_key);
        m.extend_from_slice(&self.salt_commitment);
        m.extend_from_slice(&self.windback);
        m.extend_from_slice(&(self.jobs.len() as u64).to_le_bytes());
        for job in &self.jobs {
            m.extend_from_slice(&job.initial_state);
            m.extend_from_slice(&job.steps.to_le_bytes());
            m.extend_from_slice(&job.state_root);
        }
        m.extend_from_slice(&self.n.to_le_bytes());
        m.extend_from_slice(&self.max_steps.to_le_bytes());
        m.extend_from_slice(&self.params.encode());
        m.extend_from_slice(&self.root);
        m
    }

    pub fn sign(&mut self, key: &Key) {
        self.signature = key.sign(&self.message());
    }

    /// The executor's unique secret `s~ = H(DS_SECRET || salt || address)` (docs/SPEC.md 3.2)
    /// under this vote's hash: what its leaves are keyed with, and what a leak claim shows.
    pub fn unique_secret(&self, salt: &Salt) -> [u8; 32] {
        unique_secret(self.params.hash, salt, &self.address)
    }

    /// Signature valid and address derived from the public key.
    pub fn authentic(&self) -> bool {
        self.address == address_of(&self.public_key)
            && verify(&self.public_key, &self.message(), &self.signature)
    }
}

/// Why a windback could not be executed and proved: for a vote, or for a full check's replay.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error(transparent)]
    Simd(#[from] SimdError),
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// The prover could not finish the proof.
    #[error(transparent)]
    Prover(io::Error),
    #[error("the windback's trace passes the protocol's cap of {MAX_VOTE_CHUNKS} chunks (SPEC 6.3): no valid vote can be signed for it")]
    BeyondCap,
}

/// Executes the windback, proves it with `salt`, and returns the signed vote.
pub fn vote(
    key: &Key,
    jobs: &[Job],
    params: Params,
    cfg: ProverConfig,
    salt: &Salt,
    max_steps: u64,
) -> Result<Vote, ProveError> {
    vote_with_lie(key, jobs, params, cfg, salt, max_steps, None)
}

/// As [`vote`], but proving a trace with step `lie_at` corrupted (drills: a lying executor).
pub fn vote_with_lie(
    key: &Key,
    jobs: &[Job],
    params: Params,
    cfg: ProverConfig,
    salt: &Salt,
    max_steps: u64,
    lie_at: Option<u64>,
) -> Result<Vote, ProveError> {
    let address = key.address();
    let hasher = Hasher::for_executor(params.hash, salt, &address, cfg.simd)?;
    let mut sink = poie_trace::Corrupting {
        inner: Prover::new(params, hasher, cfg),
        at: lie_at,
        seen: 0,
    };
    let claims = match windback::execute_within(jobs, &mut sink, max_steps, MAX_VOTE_CHUNKS)? {
        Execution::Complete(claims) => claims,
        Execution::TooLong => return Err(ProveError::BeyondCap),
    };
    let proof = sink.inner.into_proof().map_err(ProveError::Prover)?;
    let mut v = Vote {
        version: VOTE_VERSION,
        address,
        public_key: key.public(),
        salt_commitment: salt_commitment(salt),
        windback: windback::digest(jobs),
        jobs: claims,
        n: proof.n,
        max_steps,
        params,
        root: proof.root,
        signature: [0; 64],
    };
    v.sign(key);
    Ok(v)
}

/// What a full check concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    BadSignature,
    /// The vote claims more work than the protocol allows: invalid whatever it proves.
    BeyondCap(BeyondCap),
    /// The vote is for another windback than the one checked.
    WindbackMismatch,
    /// The reveal does not belong to this vote.
    RevealMismatch,
    /// Replayed under the vote's step limit, the windback's trace is longer than the vote's
    /// `n` (replay stops there).
    TraceTooLong {
        n: u64,
    },
    /// The first job whose claimed initial state or step count differs from the re-execution
    /// (or that the vote lacks or has in excess).
    WrongJobStart {
        job: usize,
    },
    /// The first job whose state root differs from the re-execution.
    WrongStateRoot {
        job: usize,
    },
    /// The proof root does not match the re-execution with the revealed salt. When the trace
    /// lengths differ, `first_divergent` is the first chunk index one of them lacks; otherwise
    /// the divergent leaf is located by the challenge game.
    BadProof {
        first_divergent: Option<u64>,
        expected_n: u64,
    },
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Valid => write!(f, "valid"),
            Verdict::BadSignature => write!(f, "invalid: bad signature or address"),
            Verdict::BeyondCap(e) => write!(f, "invalid: {e}"),
            Verdict::WindbackMismatch => write!(f, "invalid: the vote is for another windback"),
            Verdict::RevealMismatch => write!(f, "invalid: the reveal is for another vote"),
            Verdict::TraceTooLong { n } => write!(
                f,
                "bad proof: under the vote's step limit the windback's trace is longer than its {n} chunks (first divergent leaf index {n})"
            ),
            Verdict::WrongJobStart { job } => {
                write!(f, "wrong job claim: job {job}'s initial state or step count")
            }
            Verdict::WrongStateRoot { job } => write!(f, "wrong state root: job {job}"),
            Verdict::BadProof { first_divergent: Some(i), expected_n } => {
                write!(f, "bad proof: the trace has {expected_n} chunks; first divergent leaf index {i}")
            }
            Verdict::BadProof { first_divergent: None, .. } => write!(
                f,
                "bad proof: the root does not match the re-execution (same length; the challenge game locates the leaf)"
            ),
        }
    }
}

/// Verifies the signature, re-executes the windback under the vote's step limit (and at most
/// `n + 1` chunks) and recomputes the root with the revealed salt.
pub fn check(v: &Vote, r: &Reveal, jobs: &[Job], cfg: ProverConfig) -> Result<Verdict, ProveError> {
    if !v.authentic() {
        return Ok(Verdict::BadSignature);
    }
    if let Err(e) = v.within_cap() {
        return Ok(Verdict::BeyondCap(e));
    }
    if windback::digest(jobs) != v.windback {
        return Ok(Verdict::WindbackMismatch);
    }
    if !r.belongs_to(v) {
        return Ok(Verdict::RevealMismatch);
    }
    let hasher = Hasher::for_executor(v.params.hash, &r.salt, &v.address, cfg.simd)?;
    let mut prover = Prover::new(v.params, hasher, cfg);
    let claims = match windback::execute_within(jobs, &mut prover, v.max_steps, v.n)? {
        Execution::Complete(claims) => claims,
        Execution::TooLong => return Ok(Verdict::TraceTooLong { n: v.n }),
    };
    let proof = prover.into_proof().map_err(ProveError::Prover)?;
    if let Some(verdict) = first_wrong_claim(&claims, &v.jobs) {
        return Ok(verdict);
    }
    // The signed `n` is part of what the vote claims: a root right for the true length under
    // a different `n` is still a false vote (a verifier's work is bounded by that `n`).
    if proof.root != v.root || proof.n != v.n {
        let first_divergent = (proof.n != v.n).then(|| proof.n.min(v.n));
        return Ok(Verdict::BadProof {
            first_divergent,
            expected_n: proof.n,
        });
    }
    Ok(Verdict::Valid)
}

/// The first job whose claim differs from the re-execution's `truth`: its start (initial
/// state, step count, or a job one list lacks) first, then its state root.
pub fn first_wrong_claim(truth: &[JobClaim], claimed: &[JobClaim]) -> Option<Verdict> {
    (0..truth.len().max(claimed.len())).find_map(|job| match (truth.get(job), claimed.get(job)) {
        (Some(t), Some(c)) if (t.initial_state, t.steps) != (c.initial_state, c.steps) => {
            Some(Verdict::WrongJobStart { job })
        }
        (Some(t), Some(c)) if t.state_root != c.state_root => Some(Verdict::WrongStateRoot { job }),
        (Some(_), Some(_)) => None,
        _ => Some(Verdict::WrongJobStart { job }),
    })
}
