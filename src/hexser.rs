//! Serde helpers: fixed-size byte arrays as lowercase hex strings in JSON files.

use serde::{de::Error, Deserialize, Deserializer, Serializer};

pub fn decode<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    let v = hex::decode(s).map_err(|e| format!("invalid hex: {e}"))?;
    v.try_into()
        .map_err(|v: Vec<u8>| format!("expected {N} bytes of hex, found {}", v.len()))
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
