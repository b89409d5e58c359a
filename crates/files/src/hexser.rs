//! Serde helpers: fixed-size byte arrays as lowercase hex strings in JSON files. Digests,
//! keys and signatures are written as bare hex; executor addresses ([`crate::Address`]) as
//! `0x` + 40 hex characters ([`address`]). Readers accept either spelling of either.

use serde::{de::Error, Deserialize, Deserializer, Serializer};

/// Why a hex string is not the bytes a field wants.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HexError {
    #[error("invalid hex: {0}")]
    Invalid(#[from] hex::FromHexError),
    #[error("expected {expected} bytes of hex, found {found}")]
    Length { expected: usize, found: usize },
}

/// An address that is not `0x` + 40 hex characters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("bad address {text:?}: {problem}")]
pub struct AddressError {
    /// At most 50 characters of what was given.
    pub text: String,
    pub problem: HexError,
}

/// `N` bytes from hex, with or without a `0x` prefix.
pub fn decode<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    let v = hex::decode(s)?;
    v.try_into().map_err(|v: Vec<u8>| HexError::Length {
        expected: N,
        found: v.len(),
    })
}

/// `[u8; N]` as hex.
pub mod bytes {
    use super::*;
    pub fn serialize<S: Serializer, const N: usize>(b: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        decode(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// An executor's 20-byte address as it is written everywhere (files, output): `0x` + 40
/// lowercase hex characters.
pub fn address_string(a: &[u8; 20]) -> String {
    format!("0x{}", hex::encode(a))
}

/// Parses an address, `0x` + 40 hex characters; the bare 40 characters of older files are
/// accepted too.
pub fn parse_address(s: &str) -> Result<[u8; 20], AddressError> {
    decode::<20>(s.trim()).map_err(|problem| AddressError {
        text: truncate(s),
        problem,
    })
}

/// At most 50 characters of `s`, for messages about untrusted text.
fn truncate(s: &str) -> String {
    let mut t: String = s.chars().take(50).collect();
    if t.len() < s.len() {
        t.push_str("...");
    }
    t
}

/// `[u8; 20]` addresses as `0x` + hex ([`address_string`]); either spelling is read.
pub mod address {
    use super::*;
    pub fn serialize<S: Serializer>(a: &[u8; 20], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&address_string(a))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 20], D::Error> {
        parse_address(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// `Vec<[u8; 32]>` as a list of hex strings.
pub mod list {
    use super::*;
    use serde::ser::SerializeSeq;
    pub fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(&hex::encode(b))?;
        }
        seq.end()
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| decode(s).map_err(D::Error::custom))
            .collect()
    }
}

/// `Option<Vec<[u8; 32]>>` as an optional list of hex strings.
pub mod opt_list {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<Vec<[u8; 32]>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => list::serialize(v, s),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<[u8; 32]>>, D::Error> {
        Option::<Vec<String>>::deserialize(d)?
            .map(|v| {
                v.iter()
                    .map(|s| decode(s).map_err(D::Error::custom))
                    .collect()
            })
            .transpose()
    }
}
