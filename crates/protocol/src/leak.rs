//! Leak claims: anyone holding an executor's unique secret `s~` before the reveal can prove the
//! executor shared it (e.g. with an outsourced worker). At reveal the referee recomputes
//! `s~ = H(DS_SECRET || s || a)` from the revealed salt; a matching claim submitted before the
//! reveal period slashes the executor and rewards the claimant.

use super::vote::{Reveal, Vote};
use poie_proof::{Address, HashId};
use serde::{Deserialize, Serialize};

pub const CLAIM_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeakClaim {
    pub version: u32,
    /// The accused executor and its vote's root.
    pub address: Address,
    #[serde(with = "poie_files::hexser::bytes")]
    pub root: [u8; 32],
    pub hash: HashId,
    /// The leaked unique secret.
    #[serde(with = "poie_files::hexser::bytes")]
    pub secret: [u8; 32],
    /// Who gets the reward.
    pub claimant: Address,
    /// When the claim was submitted (a block height or epoch-relative time; the same clock as
    /// the reveal period's start).
    pub submitted_at: u64,
}

impl poie_files::json::VersionedFile for LeakClaim {
    const WHAT: &'static str = "leak claim";
    const VERSION: u32 = CLAIM_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeakVerdict {
    /// The executor leaked its secret: slash it, reward `claimant`.
    Slash {
        executor: Address,
        claimant: Address,
    },
    Rejected(String),
}

impl std::fmt::Display for LeakVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeakVerdict::Slash { executor, claimant } => write!(
                f,
                "slash: executor {executor} leaked its unique secret; reward claimant {claimant}"
            ),
            LeakVerdict::Rejected(why) => write!(f, "rejected: {why}"),
        }
    }
}

/// A claim built from a leaked secret.
pub fn claim(v: &Vote, secret: [u8; 32], claimant: Address, submitted_at: u64) -> LeakClaim {
    LeakClaim {
        version: CLAIM_VERSION,
        address: v.address,
        root: v.root,
        hash: v.params.hash,
        secret,
        claimant,
        submitted_at,
    }
}

/// Judges a claim at reveal time. Claims expire when the reveal period starts (`reveal_start`):
/// after that the secret is derivable from public data and proves nothing.
pub fn judge(c: &LeakClaim, v: &Vote, r: &Reveal, reveal_start: u64) -> LeakVerdict {
    if c.submitted_at >= reveal_start {
        return LeakVerdict::Rejected(format!(
            "expired: submitted at {}, claims close when the reveal period starts at {reveal_start}",
            c.submitted_at
        ));
    }
    if c.address != v.address || c.root != v.root || c.hash != v.params.hash {
        return LeakVerdict::Rejected("the claim names another vote".into());
    }
    // A vote its executor did not sign is a forgery: with the salt commitment swapped for a
    // salt the claimant holds, the reveal, the secret and the claim all agree, and judging it
    // would slash an executor for a vote it never made.
    if !v.authentic() {
        return LeakVerdict::Rejected(
            "the vote is not signed by its executor's key: a forged vote slashes no one".into(),
        );
    }
    // A reveal whose salt is not the one the vote committed to is a forgery: judging with it
    // would slash on a secret the executor never had.
    if !r.belongs_to(v) {
        return LeakVerdict::Rejected(
            "the reveal is for another vote, or its salt is not the one the vote committed to"
                .into(),
        );
    }
    if v.unique_secret(&r.salt) != c.secret {
        return LeakVerdict::Rejected("the claimed secret is not the executor's".into());
    }
    LeakVerdict::Slash {
        executor: v.address,
        claimant: c.claimant,
    }
}
