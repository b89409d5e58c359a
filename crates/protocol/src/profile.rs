//! The two profiles of votes (SPEC 6.3, 6.8): which hash a vote's commitments use and which
//! address it votes under, by its version; and why a vote is refused for its profile or is not
//! authentic.

use super::keys::{self, Key, NoEthKey};
use super::vote::{DS_SALT, ONCHAIN_VOTE_VERSION, VOTE_VERSION};
use super::windback::{self, ExecuteError, Job};
use poie_proof::{Address, HashId, Salt};

/// Which commitments a vote makes, by its version (SPEC 6.3, 6.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Version 3: blake3 salt commitment and windback digest, the address of the ed25519 key;
    /// any proof hash.
    OffChain,
    /// Version 4: keccak proof hash, keccak salt commitment and windback digest, the Ethereum
    /// address of the seed's secp256k1 key, and that key's signature of the vote.
    OnChain,
}

impl Profile {
    /// The profile of a vote or reveal version; `None` for a version poie does not read.
    pub fn of_version(version: u32) -> Option<Profile> {
        match version {
            VOTE_VERSION => Some(Profile::OffChain),
            ONCHAIN_VOTE_VERSION => Some(Profile::OnChain),
            _ => None,
        }
    }

    /// The profile `poie vote --hash` picks: keccak is on-chain (a contract can afford it), blake3
    /// off-chain.
    pub fn for_hash(hash: HashId) -> Profile {
        match hash {
            HashId::Keccak => Profile::OnChain,
            HashId::Blake3 => Profile::OffChain,
        }
    }

    pub fn version(self) -> u32 {
        match self {
            Profile::OffChain => VOTE_VERSION,
            Profile::OnChain => ONCHAIN_VOTE_VERSION,
        }
    }

    /// The hash of the salt commitment and of the windback digest.
    pub fn hash(self) -> HashId {
        match self {
            Profile::OffChain => HashId::Blake3,
            Profile::OnChain => HashId::Keccak,
        }
    }

    /// `H(DS_SALT || s)` with [`Profile::hash`]: published in the vote, so any reveal is checked
    /// against the vote by one hash, before any work, and a forged reveal cannot frame the
    /// executor.
    pub fn salt_commitment(self, salt: &Salt) -> [u8; 32] {
        self.hash().hash(&[DS_SALT, salt.expose()])
    }

    /// The windback digest (SPEC 6.2): [`windback::digest`] (blake3) or
    /// [`windback::keccak_digest`], which reads the files again the first time.
    pub fn windback_digest(self, jobs: &[Job]) -> Result<[u8; 32], ExecuteError> {
        match self {
            Profile::OffChain => Ok(windback::digest(jobs)),
            Profile::OnChain => windback::keccak_digest(jobs),
        }
    }

    /// The address `key` votes under: its ed25519 address, or its Ethereum address.
    pub fn address(self, key: &Key) -> Result<Address, NoEthKey> {
        match self {
            Profile::OffChain => Ok(key.address()),
            Profile::OnChain => key.eth_address(),
        }
    }
}

/// Why a vote does not follow the profile of its version (SPEC 6.3): refused when the file is
/// read, and never authentic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("vote version {0}: this poie reads versions {VOTE_VERSION} (off-chain) and {ONCHAIN_VOTE_VERSION} (on-chain)")]
    Version(u32),
    #[error("a version-{ONCHAIN_VOTE_VERSION} (on-chain) vote must use the keccak hash, not {}: a contract checks its tree and unique secret with keccak", .0.name())]
    NotKeccak(HashId),
    #[error("a version-{VOTE_VERSION} vote carries no eth_signature: only a version-{ONCHAIN_VOTE_VERSION} (on-chain) vote does")]
    EthSignatureInOffChain,
    #[error("a version-{ONCHAIN_VOTE_VERSION} (on-chain) vote must carry an eth_signature")]
    NoEthSignature,
}

/// Why a vote is not authentic: what [`Vote::authenticate`] found first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unauthentic {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("the ed25519 signature does not verify under the vote's public key")]
    Signature,
    #[error("the address {address} is not the one derived from the public key ({derived})")]
    Address { address: Address, derived: Address },
    #[error("the eth signature does not verify: {0}")]
    EthSignature(#[from] keys::EthSignatureError),
    #[error("the eth signature recovers to {recovered}, not the vote's address {address}")]
    EthAddress {
        address: Address,
        recovered: Address,
    },
}
