//! The construction's hash functions: unique secret, leaves, nodes and the final commitment,
//! for each supported hash (blake3 and keccak256). Byte layouts are in `docs/SPEC.md`.

use super::backend::{key_words, Blake3Many, Simd, SimdError};
use super::keccak::{KeccakMany, Template};
use super::salt::Salt;
use poie_files::Address;
use sha3::{Digest, Keccak256};
use std::fmt;
use std::str::FromStr;

pub type Digest32 = [u8; 32];

/// Domain-separation strings (ASCII, no terminator).
pub const DS_SECRET: &[u8] = b"poie/v1/unique-secret";
pub const DS_NODE_KEY: &str = "poie/v1/node";
pub const DS_ROOT: &[u8] = b"poie/v1/root";
/// Keccak prefix bytes for leaves and nodes.
pub const KECCAK_LEAF: u8 = 0x00;
pub const KECCAK_NODE: u8 = 0x01;

/// Which hash function the whole proof uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashId {
    Blake3,
    Keccak,
}

impl HashId {
    pub const ALL: [HashId; 2] = [HashId::Blake3, HashId::Keccak];

    /// The byte that identifies the hash in the committed parameters.
    pub fn code(self) -> u8 {
        match self {
            HashId::Blake3 => 1,
            HashId::Keccak => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashId::Blake3 => "blake3",
            HashId::Keccak => "keccak",
        }
    }

    /// Plain hash of a byte string (secret derivation, final commitment).
    pub fn hash(self, parts: &[&[u8]]) -> Digest32 {
        match self {
            HashId::Blake3 => {
                let mut h = blake3::Hasher::new();
                parts.iter().for_each(|p| {
                    h.update(p);
                });
                *h.finalize().as_bytes()
            }
            HashId::Keccak => {
                let mut h = Keccak256::new();
                parts.iter().for_each(|p| h.update(p));
                h.finalize().into()
            }
        }
    }
}

impl fmt::Display for HashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A hash name poie does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hash '{0}' (expected blake3 or keccak)")]
pub struct UnknownHash(pub String);

impl FromStr for HashId {
    type Err = UnknownHash;
    fn from_str(s: &str) -> Result<Self, UnknownHash> {
        match s {
            "blake3" => Ok(HashId::Blake3),
            "keccak" | "keccak256" => Ok(HashId::Keccak),
            _ => Err(UnknownHash(s.into())),
        }
    }
}

/// `s~ = H(DS_SECRET || s || a)`: the executor's unique secret.
pub fn unique_secret(hash: HashId, salt: &Salt, address: &Address) -> Digest32 {
    hash.hash(&[DS_SECRET, salt.expose(), address.as_bytes()])
}

/// The plain blake3 of `bytes`: how commitments and windbacks name a program, an input or a
/// trace file (SPEC 4).
pub fn blake3_digest(bytes: &[u8]) -> Digest32 {
    *blake3::hash(bytes).as_bytes()
}

/// The fixed blake3 key for internal nodes: `blake3::derive_key("poie/v1/node", "")`.
pub fn blake3_node_key() -> Digest32 {
    static KEY: std::sync::OnceLock<Digest32> = std::sync::OnceLock::new();
    *KEY.get_or_init(|| blake3::derive_key(DS_NODE_KEY, b""))
}

/// Hashes leaves (`H_s~(chunk || link)`) and nodes (`H_node(left || right)`), many at a time.
/// Holds the unique secret, so it never prints it.
#[derive(Clone)]
pub struct Hasher {
    hash: HashId,
    engine: Engine,
}

/// The batched hash of a [`Hasher`]: its SIMD backend and its fixed inputs (keys, prefixes).
#[derive(Clone)]
enum Engine {
    Blake3 {
        many: Blake3Many,
        leaf_key: [u32; 8],
        node_key: [u32; 8],
    },
    /// Leaves are `keccak256(0x00 || s~ || chunk || link)` and nodes
    /// `keccak256(0x01 || left || right)`: one block each, the prefix in a template.
    Keccak {
        many: KeccakMany,
        leaf: Box<Template>,
        node: Box<Template>,
    },
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("hash", &self.hash)
            .field("simd", &self.simd())
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// A backend this CPU lacks is refused, for either hash.
    pub fn new(hash: HashId, secret: Digest32, simd: Simd) -> Result<Self, SimdError> {
        let engine = match hash {
            HashId::Blake3 => Engine::Blake3 {
                many: Blake3Many::new(simd)?,
                leaf_key: key_words(&secret),
                node_key: key_words(&blake3_node_key()),
            },
            HashId::Keccak => {
                let mut prefix = [KECCAK_LEAF; 33];
                prefix[1..].copy_from_slice(&secret);
                Engine::Keccak {
                    many: KeccakMany::new(simd)?,
                    leaf: Box::new(Template::new(&prefix)),
                    node: Box::new(Template::new(&[KECCAK_NODE])),
                }
            }
        };
        Ok(Hasher { hash, engine })
    }

    /// The hasher of an executor: secret `s~ = H(DS_SECRET || salt || address)`.
    pub fn for_executor(
        hash: HashId,
        salt: &Salt,
        address: &Address,
        simd: Simd,
    ) -> Result<Self, SimdError> {
        Hasher::new(hash, unique_secret(hash, salt, address), simd)
    }

    pub fn hash_id(&self) -> HashId {
        self.hash
    }

    pub fn simd(&self) -> Simd {
        match &self.engine {
            Engine::Blake3 { many, .. } => many.simd(),
            Engine::Keccak { many, .. } => many.simd(),
        }
    }

    /// Inputs one batched call hashes at once: the backend's SIMD degree (blake3: up to 16,
    /// keccak: 1, 4 or 8).
    pub fn simd_width(&self) -> usize {
        match &self.engine {
            Engine::Blake3 { many, .. } => many.simd().degree(),
            Engine::Keccak { many, .. } => many.degree(),
        }
    }

    /// `out[i] = leaf(inputs[i])` where each input is `chunk || link`.
    pub fn leaves(&self, inputs: &[[u8; 64]], out: &mut [u8]) {
        match &self.engine {
            Engine::Blake3 { many, leaf_key, .. } => many.keyed_hash_64(leaf_key, inputs, out),
            Engine::Keccak { many, leaf, .. } => many.hash_64(leaf, inputs, out),
        }
    }

    /// `out[i] = node(inputs[i])` where each input is `left || right`.
    pub fn nodes(&self, inputs: &[[u8; 64]], out: &mut [u8]) {
        match &self.engine {
            Engine::Blake3 { many, node_key, .. } => many.keyed_hash_64(node_key, inputs, out),
            Engine::Keccak { many, node, .. } => many.hash_64(node, inputs, out),
        }
    }

    pub fn leaf(&self, chunk: &[u8; 32], link: &Digest32) -> Digest32 {
        let mut inp = [0u8; 64];
        inp[..32].copy_from_slice(chunk);
        inp[32..].copy_from_slice(link);
        let mut out = [0u8; 32];
        self.leaves(&[inp], &mut out);
        out
    }

    pub fn node(&self, left: &Digest32, right: &Digest32) -> Digest32 {
        let mut inp = [0u8; 64];
        inp[..32].copy_from_slice(left);
        inp[32..].copy_from_slice(right);
        let mut out = [0u8; 32];
        self.nodes(&[inp], &mut out);
        out
    }
}

/// The reference (scalar, public-API) leaf and node functions that tests check the batched
/// ones against.
pub mod reference {
    use super::*;

    pub fn leaf(hash: HashId, secret: &Digest32, chunk: &[u8; 32], link: &Digest32) -> Digest32 {
        match hash {
            HashId::Blake3 => {
                let mut m = [0u8; 64];
                m[..32].copy_from_slice(chunk);
                m[32..].copy_from_slice(link);
                *blake3::keyed_hash(secret, &m).as_bytes()
            }
            HashId::Keccak => hash.hash(&[&[KECCAK_LEAF], secret, chunk, link]),
        }
    }

    pub fn node(hash: HashId, left: &Digest32, right: &Digest32) -> Digest32 {
        match hash {
            HashId::Blake3 => {
                let mut m = [0u8; 64];
                m[..32].copy_from_slice(left);
                m[32..].copy_from_slice(right);
                *blake3::keyed_hash(&blake3_node_key(), &m).as_bytes()
            }
            HashId::Keccak => hash.hash(&[&[KECCAK_NODE], left, right]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_matches_reference_for_every_backend() {
        for hash in HashId::ALL {
            for simd in Simd::available() {
                let secret = unique_secret(hash, &Salt::from([7; 32]), &Address::from([9; 20]));
                let h = Hasher::new(hash, secret, simd).expect("available");
                let (c, l) = ([1u8; 32], [2u8; 32]);
                assert_eq!(h.leaf(&c, &l), reference::leaf(hash, &secret, &c, &l));
                assert_eq!(h.node(&c, &l), reference::node(hash, &c, &l));
                assert_ne!(
                    h.leaf(&c, &l),
                    h.node(&c, &l),
                    "leaves and nodes are separated"
                );
            }
        }
    }

    #[test]
    fn secret_depends_on_salt_and_address() {
        let base = unique_secret(
            HashId::Blake3,
            &Salt::from([1; 32]),
            &Address::from([2; 20]),
        );
        assert_ne!(
            base,
            unique_secret(
                HashId::Blake3,
                &Salt::from([3; 32]),
                &Address::from([2; 20])
            )
        );
        assert_ne!(
            base,
            unique_secret(
                HashId::Blake3,
                &Salt::from([1; 32]),
                &Address::from([4; 20])
            )
        );
        assert_ne!(
            base,
            unique_secret(
                HashId::Keccak,
                &Salt::from([1; 32]),
                &Address::from([2; 20])
            )
        );
    }
}
