//! Votes, reveals and the full check. Byte layouts are in docs/SPEC.md, section 6.
//!
//! Two profiles of votes are current (SPEC 6.3, 6.8). Version 3, the off-chain profile, commits
//! with blake3 and takes its address from the ed25519 key. Version 4, the on-chain profile,
//! is keccak throughout, so that a contract, which affords keccak and `ecrecover` but not
//! blake3 or ed25519, checks every commitment a dispute rests on: its salt commitment,
//! windback digest, trace tree and unique secret are keccak, its address is the Ethereum
//! address of the executor's secp256k1 key, and it carries that key's signature of
//! `keccak256(message)` besides the ed25519 one.

use super::keys::{self, address_of, recover_eth, verify, EthSignature, Key, NoEthKey};
pub use super::profile::{Profile, ProfileError, Unauthentic};
use super::windback::{self, ExecuteError, Execution, Job, JobClaim};
use poie_proof::backend::SimdError;
use poie_proof::{unique_secret, Address, HashId, Hasher, Params, Prover, ProverConfig, Salt};
use serde::{Deserialize, Serialize};
use std::io;

/// The off-chain profile's version. Version 2 added the step limit and the streamed stdout
/// hash of the state roots. Version 3 claims each job's initial state, step count and final
/// state commitment (SPEC 6.2, 6.3), so that a referee can check a job's start and end without
/// running it.
pub const VOTE_VERSION: u32 = 3;
/// The on-chain profile's version: version 3's fields and signed layout, keccak commitments,
/// an Ethereum address and an `eth_signature` (SPEC 6.3, 6.8).
pub const ONCHAIN_VOTE_VERSION: u32 = 4;
pub const DS_VOTE: &[u8] = b"poie/v1/vote";
pub const DS_SALT: &[u8] = b"poie/v1/salt";

/// The version-3 salt commitment, `blake3(DS_SALT || s)`: [`Profile::salt_commitment`] of
/// [`Profile::OffChain`].
pub fn salt_commitment(salt: &Salt) -> [u8; 32] {
    Profile::OffChain.salt_commitment(salt)
}

/// The most chunks a vote may claim (SPEC 6.3). A verifier's work is bounded by the `n` it
/// accepts, and `n` is the signer's to choose; a local budget would not do, since a refusal is
/// not a verdict and a cheater would inflate `n` past every budget. So the protocol caps `n`:
/// a vote beyond it is invalid, and every verifier says so before any work. 2^28 chunks is 3.4
/// times the largest windback measured (79 M steps) and keeps a full check within about a
/// minute and the challenge game's tree within 24 GiB (96 bytes per chunk).
pub const MAX_VOTE_CHUNKS: u64 = 1 << 28;

/// A vote that claims more work than the protocol allows (SPEC 6.3): invalid whatever it proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the vote claims {n} chunks and {jobs} jobs; the protocol allows at most {MAX_VOTE_CHUNKS} chunks and {max_jobs} jobs", max_jobs = windback::MAX_JOBS)]
pub struct BeyondCap {
    pub n: u64,
    pub jobs: usize,
}

/// A signed vote on a windback's state roots, carrying the proof root. Read only when it
/// follows its version's profile ([`Vote::profile`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VoteFields")]
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
    /// ed25519 over [`Vote::message`], under `public_key`.
    #[serde(with = "poie_files::hexser::bytes")]
    pub signature: [u8; 64],
    /// Version 4 only: the secp256k1 signature of [`Vote::eth_digest`] by the key whose
    /// Ethereum address is `address`, `r || s || v` (`ecrecover`'s). Absent from the file of a
    /// version-3 vote.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_bytes")]
    pub eth_signature: Option<EthSignature>,
}

/// What a vote file holds, before [`Vote::profile`]'s rules: a vote is read through it, so
/// that no vote breaking them is ever read (a version-4 vote over blake3, say).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VoteFields {
    version: u32,
    address: Address,
    #[serde(with = "poie_files::hexser::bytes")]
    public_key: [u8; 32],
    #[serde(with = "poie_files::hexser::bytes")]
    salt_commitment: [u8; 32],
    #[serde(with = "poie_files::hexser::bytes")]
    windback: [u8; 32],
    jobs: Vec<JobClaim>,
    n: u64,
    #[serde(with = "poie_files::limit")]
    max_steps: u64,
    params: Params,
    #[serde(with = "poie_files::hexser::bytes")]
    root: [u8; 32],
    #[serde(with = "poie_files::hexser::bytes")]
    signature: [u8; 64],
    #[serde(default, with = "opt_bytes")]
    eth_signature: Option<EthSignature>,
}

impl TryFrom<VoteFields> for Vote {
    type Error = ProfileError;
    fn try_from(f: VoteFields) -> Result<Vote, ProfileError> {
        let v = Vote {
            version: f.version,
            address: f.address,
            public_key: f.public_key,
            salt_commitment: f.salt_commitment,
            windback: f.windback,
            jobs: f.jobs,
            n: f.n,
            max_steps: f.max_steps,
            params: f.params,
            root: f.root,
            signature: f.signature,
            eth_signature: f.eth_signature,
        };
        v.profile()?;
        Ok(v)
    }
}

/// `Option<[u8; N]>` as hex, or absent.
mod opt_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(
        b: &Option<[u8; N]>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match b {
            Some(b) => poie_files::hexser::bytes::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<Option<[u8; N]>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| poie_files::hexser::decode(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

impl poie_files::json::VersionedFile for Vote {
    const WHAT: &'static str = "vote";
    const VERSION: u32 = VOTE_VERSION;
    const VERSIONS: &'static [u32] = &[VOTE_VERSION, ONCHAIN_VOTE_VERSION];
    fn version(&self) -> u32 {
        self.version
    }
}

/// The salt behind a vote, published after the voting period. Its version is its vote's, and
/// picks the same profile (the salt commitment's hash); its fields are the same in both.
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
    const VERSIONS: &'static [u32] = &[VOTE_VERSION, ONCHAIN_VOTE_VERSION];
    fn version(&self) -> u32 {
        self.version
    }
}

/// Why a salt cannot be revealed for a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the salt is not the one the vote committed to")]
pub struct WrongSalt;

/// The reveal of vote `v`, of `v`'s version. The salt must be the one `v` committed to (under
/// `v`'s profile; a vote of a version poie does not read commits to none): any other would
/// make a reveal every check refuses, and might publish a secret that is not the vote's salt.
pub fn reveal(v: &Vote, salt: Salt) -> Result<Reveal, WrongSalt> {
    let profile = Profile::of_version(v.version).ok_or(WrongSalt)?;
    if profile.salt_commitment(&salt) != v.salt_commitment {
        return Err(WrongSalt);
    }
    Ok(Reveal {
        version: v.version,
        address: v.address,
        root: v.root,
        salt,
    })
}

impl Reveal {
    /// For `v`: same version, address and root, and the salt is the one `v` committed to under
    /// its profile.
    pub fn belongs_to(&self, v: &Vote) -> bool {
        self.version == v.version
            && self.address == v.address
            && self.root == v.root
            && Profile::of_version(v.version)
                .is_some_and(|p| p.salt_commitment(&self.salt) == v.salt_commitment)
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

    /// The profile of the vote's version, if the vote follows it: version 3 without an
    /// `eth_signature`, or version 4 over keccak with one. A vote that does not is refused when
    /// read and is never authentic.
    pub fn profile(&self) -> Result<Profile, ProfileError> {
        let profile =
            Profile::of_version(self.version).ok_or(ProfileError::Version(self.version))?;
        match (profile, self.eth_signature.is_some()) {
            (Profile::OffChain, true) => Err(ProfileError::EthSignatureInOffChain),
            (Profile::OnChain, _) if self.params.hash != HashId::Keccak => {
                Err(ProfileError::NotKeccak(self.params.hash))
            }
            (Profile::OnChain, false) => Err(ProfileError::NoEthSignature),
            _ => Ok(profile),
        }
    }

    /// The signed bytes, the same layout in both versions: `DS_VOTE || version (u32 LE) ||
    /// address (20) || public key (32) || salt commitment (32) || windback digest (32) || count
    /// (u64 LE) || for each job: initial state (32) || steps (u64 LE) || state root (32) || n
    /// (u64 LE) || max_steps (u64 LE) || params (7 bytes) || root (32)`. A contract rebuilds
    /// it from the vote's fields (SPEC 6.3).
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

    /// What the eth signature signs: `keccak256(message())`, the 32 bytes themselves (no
    /// EIP-191 prefix), so that `ecrecover(keccak256(message), v, r, s)` is the address.
    pub fn eth_digest(&self) -> [u8; 32] {
        keys::keccak256(&self.message())
    }

    /// Signs the vote as its version wants: ed25519 over [`Vote::message`], and for version 4
    /// the eth signature of [`Vote::eth_digest`] too (any earlier one is dropped). A key with
    /// no secp256k1 key (a chance of about 2^-128) leaves a version-4 vote without one, which
    /// no verifier reads; [`vote`] refuses such a key before any work.
    pub fn sign(&mut self, key: &Key) {
        self.signature = key.sign(&self.message());
        self.eth_signature = match self.version {
            ONCHAIN_VOTE_VERSION => key.sign_eth(&self.eth_digest()).ok(),
            _ => None,
        };
    }

    /// The executor's unique secret `s~ = H(DS_SECRET || salt || address)` (docs/SPEC.md 3.2)
    /// under this vote's hash: what its leaves are keyed with, and what a leak claim shows.
    pub fn unique_secret(&self, salt: &Salt) -> [u8; 32] {
        unique_secret(self.params.hash, salt, &self.address)
    }

    /// [`Vote::authenticate`] found nothing wrong.
    pub fn authentic(&self) -> bool {
        self.authenticate().is_ok()
    }

    /// Whether the vote is its executor's: it follows its profile, its ed25519 signature
    /// verifies strictly over [`Vote::message`], and its address is the signer's: derived from
    /// the public key (version 3), or the Ethereum address the eth signature recovers to, with
    /// `v` 27 or 28 and a low `s` (version 4: the ed25519 key is then the one the on-chain key
    /// signed for, since the public key is in the message).
    pub fn authenticate(&self) -> Result<(), Unauthentic> {
        let profile = self.profile()?;
        if !verify(&self.public_key, &self.message(), &self.signature) {
            return Err(Unauthentic::Signature);
        }
        match (profile, &self.eth_signature) {
            (Profile::OnChain, Some(sig)) => {
                let recovered = recover_eth(&self.eth_digest(), sig)?;
                if recovered != self.address {
                    return Err(Unauthentic::EthAddress {
                        address: self.address,
                        recovered,
                    });
                }
            }
            (Profile::OnChain, None) => return Err(ProfileError::NoEthSignature.into()),
            (Profile::OffChain, _) => {
                let derived = address_of(&self.public_key);
                if self.address != derived {
                    return Err(Unauthentic::Address {
                        address: self.address,
                        derived,
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether `jobs` are the windback this vote is for: its digest under the vote's profile
    /// (a version poie does not read is for no windback). Fails as reading a job does, for the
    /// keccak digest reads each file again.
    pub fn is_for(&self, jobs: &[Job]) -> Result<bool, ExecuteError> {
        match Profile::of_version(self.version) {
            Some(p) => Ok(p.windback_digest(jobs)? == self.windback),
            None => Ok(false),
        }
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
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Key(#[from] NoEthKey),
    /// The vote made does not verify: never published.
    #[error("the vote just signed does not verify ({0}): not written")]
    Unsigned(Unauthentic),
}

/// Executes the windback, proves it with `salt`, and returns the signed vote of version 3 (the
/// off-chain profile), whatever the hash; [`vote_as`] picks the profile.
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
    vote_as(
        Profile::OffChain,
        key,
        jobs,
        params,
        cfg,
        salt,
        max_steps,
        lie_at,
    )
}

/// As [`vote_with_lie`], in `profile`: the version, the address the key votes under, and the
/// salt commitment's and windback digest's hash are the profile's. The on-chain profile
/// needs the keccak hash, and a key with a secp256k1 key; both are checked before any work.
#[allow(clippy::too_many_arguments)]
pub fn vote_as(
    profile: Profile,
    key: &Key,
    jobs: &[Job],
    params: Params,
    cfg: ProverConfig,
    salt: &Salt,
    max_steps: u64,
    lie_at: Option<u64>,
) -> Result<Vote, ProveError> {
    if profile == Profile::OnChain && params.hash != HashId::Keccak {
        return Err(ProfileError::NotKeccak(params.hash).into());
    }
    let address = profile.address(key)?;
    // Before the execution: the keccak digest reads the files again, and may fail.
    let windback = profile.windback_digest(jobs)?;
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
        version: profile.version(),
        address,
        public_key: key.public(),
        salt_commitment: profile.salt_commitment(salt),
        windback,
        jobs: claims,
        n: proof.n,
        max_steps,
        params,
        root: proof.root,
        signature: [0; 64],
        eth_signature: None,
    };
    v.sign(key);
    // A vote that does not verify would be refused by everyone: say so now, not at a check.
    v.authenticate().map_err(ProveError::Unsigned)?;
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
    if !v.is_for(jobs)? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use poie_files::json::VersionedFile;
    use poie_proof::Layout;

    fn jobs() -> Vec<Job> {
        let hello = poie_guests::find("hello").expect("hello").elf;
        vec![Job {
            program: "hello".into(),
            elf: hello.into(),
            input: Vec::new().into(),
        }]
    }

    fn params(hash: HashId) -> Params {
        Params {
            hash,
            layout: Layout::new(2, true).expect("valid"),
        }
    }

    fn made(profile: Profile, hash: HashId) -> (Key, Salt, Vote) {
        let (key, salt) = (Key::from_seed(&[3; 32]), Salt::from([4; 32]));
        let v = vote_as(
            profile,
            &key,
            &jobs(),
            params(hash),
            ProverConfig::default(),
            &salt,
            u64::MAX,
            None,
        )
        .expect("votes");
        (key, salt, v)
    }

    fn read(v: &serde_json::Value) -> Result<Vote, poie_files::json::FileError> {
        Vote::from_text(&v.to_string(), "v.json")
    }

    /// Each version's profile: the version, address, salt commitment, windback digest and the
    /// eth signature; a vote made in one is authentic, read back whole, and its reveal is of its
    /// version.
    #[test]
    fn each_profile_commits_with_its_own_hash() {
        let (key, salt, v3) = made(Profile::OffChain, HashId::Blake3);
        let (_, _, v4) = made(Profile::OnChain, HashId::Keccak);
        assert_eq!((v3.version, v4.version), (3, 4));
        assert_eq!(v3.address, key.address());
        assert_eq!(Ok(v4.address), key.eth_address());
        assert_eq!(v3.public_key, v4.public_key);
        assert_eq!(v3.salt_commitment, salt_commitment(&salt));
        assert_eq!(
            v4.salt_commitment,
            keys::keccak256(&[DS_SALT, salt.expose()].concat())
        );
        assert_eq!(v3.windback, windback::digest(&jobs()));
        assert_eq!(
            v4.windback,
            windback::keccak_digest(&jobs()).expect("hashes")
        );
        assert_eq!(v3.eth_signature, None);
        assert_eq!(v4.eth_digest(), keys::keccak256(&v4.message()));
        let sig = v4.eth_signature.expect("signed");
        assert_eq!(recover_eth(&v4.eth_digest(), &sig), Ok(v4.address));
        for v in [&v3, &v4] {
            assert_eq!(v.authenticate(), Ok(()));
            assert_eq!(
                &read(&serde_json::to_value(v).expect("json")).expect("reads"),
                v
            );
            let r = reveal(v, salt).expect("its salt");
            assert_eq!(r.version, v.version);
            assert!(r.belongs_to(v));
        }
        // A reveal of the other version, or of the other profile's commitment, is not the vote's.
        let mut r = reveal(&v4, salt).expect("its salt");
        r.version = 3;
        assert!(!r.belongs_to(&v4));
        assert_eq!(reveal(&v4, Salt::from([5; 32])), Err(WrongSalt));
        // The v3 file has no eth_signature field, the v4 one 65 bytes of hex.
        let j3 = serde_json::to_value(&v3).expect("json");
        let j4 = serde_json::to_value(&v4).expect("json");
        assert!(j3.get("eth_signature").is_none());
        assert_eq!(j4["eth_signature"].as_str().map(str::len), Some(130));
    }

    /// The message's layout is version 3's, with the version number the only difference.
    #[test]
    fn the_signed_message_differs_from_version_3_by_the_version_only() {
        let (_, _, v4) = made(Profile::OnChain, HashId::Keccak);
        let mut as3 = v4.clone();
        as3.version = 3;
        let (m4, m3) = (v4.message(), as3.message());
        assert_eq!(m4.len(), m3.len());
        let at = DS_VOTE.len();
        assert_eq!(m4[at..at + 4], 4u32.to_le_bytes());
        assert_eq!(m4[..at], m3[..at]);
        assert_eq!(m4[at + 4..], m3[at + 4..]);
        assert_eq!(m4[at + 4..at + 24], v4.address.as_bytes()[..]);
        // 195 bytes of fixed fields plus 72 per job (SPEC 6.3).
        assert_eq!(
            m4.len(),
            DS_VOTE.len() + 4 + 20 + 32 * 3 + 8 + 72 + 8 + 8 + 7 + 32
        );
    }

    /// Files breaking their version's profile are refused when read, saying why.
    #[test]
    fn votes_breaking_their_profile_are_refused_when_read() {
        let (_, _, v3) = made(Profile::OffChain, HashId::Blake3);
        let (_, _, v4) = made(Profile::OnChain, HashId::Keccak);
        let j3 = serde_json::to_value(&v3).expect("json");
        let j4 = serde_json::to_value(&v4).expect("json");
        let refused = |j: &serde_json::Value, what: &str| {
            let e = read(j).expect_err("refused");
            let chain = format!(
                "{e}: {}",
                std::error::Error::source(&e).map_or(String::new(), |s| s.to_string())
            );
            assert!(chain.contains(what), "{chain}");
        };
        let mut blake = j4.clone();
        blake["params"]["hash"] = "blake3".into();
        refused(&blake, "must use the keccak hash, not blake3");
        let mut with_sig = j3.clone();
        with_sig["eth_signature"] = j4["eth_signature"].clone();
        refused(&with_sig, "a version-3 vote carries no eth_signature");
        let mut without = j4.clone();
        without
            .as_object_mut()
            .expect("object")
            .remove("eth_signature");
        refused(&without, "must carry an eth_signature");
        let mut short = j4.clone();
        short["eth_signature"] = "00".repeat(64).into();
        refused(&short, "expected 65 bytes");
        let mut v5 = j4.clone();
        v5["version"] = 5.into();
        refused(
            &v5,
            "unsupported vote version 5 (this poie reads version 3 or 4)",
        );
        // A version-3 vote over keccak is still read: the off-chain profile allows either hash.
        let (_, _, v3k) = made(Profile::OffChain, HashId::Keccak);
        assert_eq!(v3k.version, 3);
        assert!(v3k.authentic());
        // And the library refuses to make an on-chain vote over blake3.
        let e = vote_as(
            Profile::OnChain,
            &Key::from_seed(&[3; 32]),
            &jobs(),
            params(HashId::Blake3),
            ProverConfig::default(),
            &Salt::from([4; 32]),
            u64::MAX,
            None,
        )
        .expect_err("refused");
        assert!(
            matches!(
                e,
                ProveError::Profile(ProfileError::NotKeccak(HashId::Blake3))
            ),
            "{e}"
        );
    }

    /// A vote in memory breaking its profile, or with a forged eth signature or address, is not
    /// authentic, and says why.
    #[test]
    fn tampered_on_chain_votes_are_not_authentic() {
        let (key, _, v4) = made(Profile::OnChain, HashId::Keccak);
        let mut flipped = v4.clone();
        if let Some(s) = flipped.eth_signature.as_mut() {
            s[10] ^= 1;
        }
        assert!(matches!(
            flipped.authenticate(),
            Err(Unauthentic::EthAddress { .. } | Unauthentic::EthSignature(_))
        ));
        let mut v28 = v4.clone();
        if let Some(s) = v28.eth_signature.as_mut() {
            s[64] = 1;
        }
        assert_eq!(
            v28.authenticate(),
            Err(Unauthentic::EthSignature(keys::EthSignatureError::V(1)))
        );
        // The off-chain address in an on-chain vote, re-signed: the eth signature recovers to
        // the key's Ethereum address, not to it.
        let mut swapped = v4.clone();
        swapped.address = key.address();
        swapped.sign(&key);
        assert_eq!(
            swapped.authenticate(),
            Err(Unauthentic::EthAddress {
                address: key.address(),
                recovered: v4.address
            })
        );
        // Another executor's eth signature over the same vote.
        let other = Key::from_seed(&[6; 32]);
        let mut stolen = v4.clone();
        stolen.eth_signature = other.sign_eth(&v4.eth_digest()).ok();
        assert!(matches!(
            stolen.authenticate(),
            Err(Unauthentic::EthAddress { .. })
        ));
        let mut blake = v4.clone();
        blake.params.hash = HashId::Blake3;
        blake.sign(&key);
        assert_eq!(
            blake.authenticate(),
            Err(Unauthentic::Profile(ProfileError::NotKeccak(
                HashId::Blake3
            )))
        );
        let mut ed = v4.clone();
        ed.signature[0] ^= 1;
        assert_eq!(ed.authenticate(), Err(Unauthentic::Signature));
        // Version 3 with the same key: its address must be the ed25519 key's.
        let (_, _, mut v3) = made(Profile::OffChain, HashId::Blake3);
        v3.address = v4.address;
        v3.sign(&key);
        assert!(matches!(
            v3.authenticate(),
            Err(Unauthentic::Address { .. })
        ));
    }
}
