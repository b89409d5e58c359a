//! Executor keys and addresses (docs/SPEC.md 6.1).
//!
//! One 32-byte seed gives two keys. The ed25519 key signs votes and the challenge game's
//! replies; its address, `blake3("poie/v1/address" || public key)[0..20]`, is a version-3
//! vote's. The secp256k1 key, `keccak256("poie/v1/secp256k1" || seed)` as a big-endian scalar,
//! is the executor's on-chain account: its Ethereum address is a version-4 vote's, and it
//! signs the vote's keccak digest so that a contract verifies it with `ecrecover` (ed25519
//! costs a contract about 500k gas).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature};
use poie_files::Address;
use sha3::{Digest, Keccak256};

pub const DS_ADDRESS: &[u8] = b"poie/v1/address";
pub const DS_SECP256K1: &[u8] = b"poie/v1/secp256k1";

/// An Ethereum signature as `ecrecover` takes it: `r (32) || s (32) || v (1, 27 or 28)`.
pub type EthSignature = [u8; 65];

/// The address of an ed25519 public key (a version-3 vote's).
pub fn address_of(public: &[u8; 32]) -> Address {
    let h = blake3::Hasher::new()
        .update(DS_ADDRESS)
        .update(public)
        .finalize();
    let mut a = [0u8; 20];
    a.copy_from_slice(&h.as_bytes()[..20]);
    Address::from(a)
}

/// `keccak256(bytes)`.
pub fn keccak256(bytes: &[u8]) -> [u8; 32] {
    Keccak256::digest(bytes).into()
}

/// The Ethereum address of a secp256k1 public key: the last 20 bytes of the keccak256 of its
/// uncompressed encoding without the `0x04` prefix (64 bytes), as Ethereum derives it.
pub fn eth_address_of(key: &k256::ecdsa::VerifyingKey) -> Address {
    let point = key.to_encoded_point(false);
    // An uncompressed point is 65 bytes, `0x04 || x || y`: hash `x || y`.
    let h = keccak256(point.as_bytes().get(1..).unwrap_or_default());
    let mut a = [0u8; 20];
    a.copy_from_slice(&h[12..]);
    Address::from(a)
}

/// Why a seed has no secp256k1 key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this key has no on-chain (secp256k1) key: keccak256(\"poie/v1/secp256k1\" || seed) is 0 or not below the group order (a chance of about 2^-128); make a new key")]
pub struct NoEthKey;

/// Why an Ethereum signature does not verify (SPEC 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EthSignatureError {
    #[error("its v is {0}, not 27 or 28")]
    V(u8),
    #[error("its r or s is 0 or not below the group order")]
    Range,
    #[error("its s is above n/2 (only the low-s form is accepted: no malleable signatures)")]
    HighS,
    #[error("it recovers no public key for this digest")]
    NoKey,
}

/// The secp256k1 signing key of `seed`: `keccak256(DS_SECP256K1 || seed)`, big-endian,
/// refused when it is 0 or not below the group order (never reduced, so that every
/// implementation derives the same key or none).
fn eth_key_of(seed: &[u8; 32]) -> Result<k256::ecdsa::SigningKey, NoEthKey> {
    let mut h = Keccak256::new();
    h.update(DS_SECP256K1);
    h.update(seed);
    let secret: [u8; 32] = h.finalize().into();
    k256::ecdsa::SigningKey::from_bytes(&secret.into()).map_err(|_| NoEthKey)
}

/// An executor's keys: the ed25519 key and the secp256k1 key derived from the same seed. The
/// seed never leaves the key file.
pub struct Key {
    ed: SigningKey,
    /// `None` only for a seed whose derived scalar is out of range (about 2^-128).
    eth: Option<k256::ecdsa::SigningKey>,
}

impl Key {
    pub fn from_seed(seed: &[u8; 32]) -> Key {
        Key {
            ed: SigningKey::from_bytes(seed),
            eth: eth_key_of(seed).ok(),
        }
    }

    pub fn seed(&self) -> [u8; 32] {
        self.ed.to_bytes()
    }

    /// The ed25519 public key.
    pub fn public(&self) -> [u8; 32] {
        self.ed.verifying_key().to_bytes()
    }

    /// The address of the ed25519 public key: a version-3 vote's.
    pub fn address(&self) -> Address {
        address_of(&self.public())
    }

    /// The Ethereum address of the secp256k1 key: a version-4 vote's, the on-chain account.
    pub fn eth_address(&self) -> Result<Address, NoEthKey> {
        self.eth
            .as_ref()
            .map(|k| eth_address_of(k.verifying_key()))
            .ok_or(NoEthKey)
    }

    /// An ed25519 signature of `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.ed.sign(msg).to_bytes()
    }

    /// The recoverable secp256k1 signature of the 32-byte `digest` itself (no EIP-191
    /// prefix): RFC 6979 deterministic, low s, `v = 27 + y parity`, so that Solidity's
    /// `ecrecover(digest, v, r, s)` returns [`Key::eth_address`].
    pub fn sign_eth(&self, digest: &[u8; 32]) -> Result<EthSignature, NoEthKey> {
        let k = self.eth.as_ref().ok_or(NoEthKey)?;
        // k256 signs in the low-s form and adjusts the recovery id to it. Signing a 32-byte
        // prehash with a valid key fails only where the nonce derivation fails (never for
        // RFC 6979), and a reduced x (an r that wrapped past n, about 2^-128) has no v that
        // `ecrecover` takes: both leave the vote unsigned rather than wrongly signed.
        let (sig, recid) = k.sign_prehash_recoverable(digest).map_err(|_| NoEthKey)?;
        if recid.is_x_reduced() {
            return Err(NoEthKey);
        }
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&sig.to_bytes());
        out[64] = 27 + u8::from(recid.is_y_odd());
        Ok(out)
    }
}

/// Checks an ed25519 signature (strict: no malleable encodings).
pub fn verify(public: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    match VerifyingKey::from_bytes(public) {
        Ok(vk) => vk.verify_strict(msg, &Signature::from_bytes(sig)).is_ok(),
        Err(_) => false,
    }
}

/// The Ethereum address that signed `digest` with `sig` (`r || s || v`), as `ecrecover`
/// returns it, but stricter: `v` must be 27 or 28 and `s` at most n/2, so that each signer
/// has one signature per digest.
pub fn recover_eth(digest: &[u8; 32], sig: &EthSignature) -> Result<Address, EthSignatureError> {
    let (rs, v) = sig.split_at(64);
    let y_odd = match v {
        [27] => false,
        [28] => true,
        [other] => return Err(EthSignatureError::V(*other)),
        _ => return Err(EthSignatureError::Range),
    };
    let s = EcdsaSignature::from_slice(rs).map_err(|_| EthSignatureError::Range)?;
    if s.normalize_s().is_some() {
        return Err(EthSignatureError::HighS);
    }
    let vk =
        k256::ecdsa::VerifyingKey::recover_from_prehash(digest, &s, RecoveryId::new(y_odd, false))
            .map_err(|_| EthSignatureError::NoKey)?;
    Ok(eth_address_of(&vk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_address() {
        let k = Key::from_seed(&[7; 32]);
        let sig = k.sign(b"vote");
        assert!(verify(&k.public(), b"vote", &sig));
        assert!(!verify(&k.public(), b"vote!", &sig));
        let other = Key::from_seed(&[8; 32]);
        assert!(!verify(&other.public(), b"vote", &sig));
        assert_ne!(k.address(), other.address());
        assert_eq!(k.address(), address_of(&k.public()));
    }

    /// The Ethereum address is the last 20 bytes of keccak256 of the 64-byte public key, and
    /// differs from the ed25519 address of the same seed.
    #[test]
    fn eth_address_and_signature_recover() {
        let seed = [7; 32];
        let k = Key::from_seed(&seed);
        let eth = k.eth_address().expect("an on-chain key");
        assert_ne!(eth, k.address());
        let sk = eth_key_of(&seed).expect("in range");
        let point = sk.verifying_key().to_encoded_point(false);
        let xy = &point.as_bytes()[1..];
        assert_eq!(xy.len(), 64);
        assert_eq!(eth.as_bytes()[..], keccak256(xy)[12..]);
        // The secret scalar is keccak256(DS || seed), big-endian.
        let mut pre = DS_SECP256K1.to_vec();
        pre.extend_from_slice(&seed);
        assert_eq!(sk.to_bytes()[..], keccak256(&pre)[..]);

        let digest = keccak256(b"a vote's message");
        let sig = k.sign_eth(&digest).expect("signs");
        assert!(sig[64] == 27 || sig[64] == 28);
        assert_eq!(recover_eth(&digest, &sig), Ok(eth));
        // Deterministic (RFC 6979): the same digest, the same signature.
        assert_eq!(k.sign_eth(&digest), Ok(sig));
        // Another digest recovers another address (or none).
        assert_ne!(recover_eth(&keccak256(b"another"), &sig), Ok(eth));
        // The other parity recovers another key.
        let mut flipped = sig;
        flipped[64] ^= 27 ^ 28;
        assert_ne!(recover_eth(&digest, &flipped), Ok(eth));
    }

    /// `v` outside {27, 28}, a zero or out-of-range `r`/`s`, and the high-s twin of a valid
    /// signature are all refused.
    #[test]
    fn malformed_and_malleable_eth_signatures_are_refused() {
        let k = Key::from_seed(&[9; 32]);
        let digest = keccak256(b"m");
        let sig = k.sign_eth(&digest).expect("signs");
        for v in [0, 1, 26, 29, 255] {
            let mut bad = sig;
            bad[64] = v;
            assert_eq!(recover_eth(&digest, &bad), Err(EthSignatureError::V(v)));
        }
        let mut zero_r = sig;
        zero_r[..32].fill(0);
        assert_eq!(recover_eth(&digest, &zero_r), Err(EthSignatureError::Range));
        let mut big_s = sig;
        big_s[32..64].fill(0xff);
        assert_eq!(recover_eth(&digest, &big_s), Err(EthSignatureError::Range));
        // s' = n - s with the other parity is the same signature for ecrecover: refused.
        let s = EcdsaSignature::from_slice(&sig[..64]).expect("valid");
        let (r, low) = s.split_scalars();
        let high = EcdsaSignature::from_scalars(r.to_bytes(), (-*low).to_bytes()).expect("valid");
        let mut twin = sig;
        twin[32..64].copy_from_slice(&high.to_bytes()[32..]);
        twin[64] ^= 27 ^ 28;
        assert_eq!(recover_eth(&digest, &twin), Err(EthSignatureError::HighS));
    }
}
