//! The executor's secret salt `s` (docs/SPEC.md 3.2): 32 random bytes, kept secret until the
//! reveal, from which the unique secret `s~ = H(DS_SECRET || s || address)` is derived.

use poie_files::hexser;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A secret salt. Its bytes are reached only through [`Salt::expose`], so that reading them
/// is visible where it happens; `{:?}` prints `Salt(..)`, so a salt never reaches a log
/// through a debug print, and it has no `Display`. Its serde form is hex: the only document
/// that holds a salt is a reveal, which publishes it on purpose.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Salt([u8; 32]);

impl Salt {
    /// The salt's bytes, for hashing, committing to or writing it.
    pub const fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for Salt {
    fn from(bytes: [u8; 32]) -> Self {
        Salt(bytes)
    }
}

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Salt(..)")
    }
}

impl Serialize for Salt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        hexser::bytes::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Salt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        hexser::bytes::deserialize(d).map(Salt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_bytes_and_serde_is_hex() {
        let s = Salt::from([0xab; 32]);
        assert_eq!(format!("{s:?}"), "Salt(..)");
        assert_eq!(format!("{:?}", Some(s)), "Some(Salt(..))");
        let json = serde_json::to_string(&s).expect("serializes");
        assert_eq!(json, format!("\"{}\"", "ab".repeat(32)));
        assert_eq!(serde_json::from_str::<Salt>(&json).expect("reads"), s);
        assert!(serde_json::from_str::<Salt>("\"abab\"").is_err());
        assert_eq!(s.expose(), &[0xab; 32]);
    }
}
