//! Executor keys (ed25519) and the 20-byte address derived from the public key:
//! `address = blake3("poie/v1/address" || public key)[0..20]`.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use poie_files::Address;

pub const DS_ADDRESS: &[u8] = b"poie/v1/address";

/// The address of a public key.
pub fn address_of(public: &[u8; 32]) -> Address {
    let h = blake3::Hasher::new()
        .update(DS_ADDRESS)
        .update(public)
        .finalize();
    let mut a = [0u8; 20];
    a.copy_from_slice(&h.as_bytes()[..20]);
    Address::from(a)
}

/// An executor's signing key. Its seed never leaves the key file.
pub struct Key(SigningKey);

impl Key {
    pub fn from_seed(seed: &[u8; 32]) -> Key {
        Key(SigningKey::from_bytes(seed))
    }

    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    pub fn address(&self) -> Address {
        address_of(&self.public())
    }

    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }
}

/// Checks an ed25519 signature (strict: no malleable encodings).
pub fn verify(public: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    match VerifyingKey::from_bytes(public) {
        Ok(vk) => vk.verify_strict(msg, &Signature::from_bytes(sig)).is_ok(),
        Err(_) => false,
    }
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
}
