//! An executor's 20-byte address (docs/SPEC.md 6.1), one type wherever one is meant, so that
//! no other 20 bytes can be passed for it. It is written as `0x` + 40 lowercase hex characters
//! everywhere (files, output), and read with or without the `0x` (older files wrote the bare
//! 40 characters): [`hexser::address_string`] and [`hexser::parse_address`].

use crate::hexser::{self, AddressError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An executor's address: the first 20 bytes of a hash of its public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address([u8; 20]);

impl Address {
    /// The address's bytes, as they are hashed into the unique secret and signed in votes.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }
}

impl From<[u8; 20]> for Address {
    fn from(bytes: [u8; 20]) -> Self {
        Address(bytes)
    }
}

impl From<Address> for [u8; 20] {
    fn from(a: Address) -> Self {
        a.0
    }
}

impl AsRef<[u8]> for Address {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `0x` + 40 lowercase hex characters, as every file and message writes an address.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hexser::address_string(&self.0))
    }
}

/// The same spelling as [`Display`](fmt::Display): an address is public, and the hex is what a
/// reader compares with files and output.
impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

/// `0x` + 40 hex characters, or the bare 40; surrounding whitespace is ignored.
impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, AddressError> {
        hexser::parse_address(s).map(Address)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        hexser::address::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        hexser::address::deserialize(d).map(Address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0x0102030405060708090a0b0c0d0e0f1011121314";

    fn sample() -> Address {
        let mut b = [0u8; 20];
        for (i, x) in (1u8..).zip(b.iter_mut()) {
            *x = i;
        }
        Address::from(b)
    }

    #[test]
    fn written_with_0x_and_read_with_or_without() {
        let a = sample();
        assert_eq!(a.to_string(), HEX);
        assert_eq!(format!("{a:?}"), format!("Address({HEX})"));
        assert_eq!(HEX.parse::<Address>(), Ok(a));
        assert_eq!(HEX[2..].parse::<Address>(), Ok(a));
        assert_eq!(format!(" {HEX}\n").parse::<Address>(), Ok(a));
        let json = serde_json::to_string(&a).expect("serializes");
        assert_eq!(json, format!("\"{HEX}\""));
        assert_eq!(serde_json::from_str::<Address>(&json).expect("reads"), a);
        let bare = format!("\"{}\"", &HEX[2..]);
        assert_eq!(serde_json::from_str::<Address>(&bare).expect("reads"), a);
    }

    #[test]
    fn other_text_is_refused() {
        for bad in [
            "",
            "0x",
            "0x1234",
            "zz",
            &"ab".repeat(21),
            &format!("{HEX}00"),
        ] {
            let e = bad.parse::<Address>().expect_err(bad);
            assert!(e.to_string().starts_with("bad address"), "{e}");
        }
        assert!(serde_json::from_str::<Address>("\"0x12\"").is_err());
        assert!(serde_json::from_str::<Address>("12").is_err());
    }
}
