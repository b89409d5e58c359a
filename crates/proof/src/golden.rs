//! The golden roots, `tests/data/golden-roots.json`: fixed guest runs, salts, addresses and
//! layouts, and the root every machine must give each (docs/SPEC.md). Test support, in the
//! library so that one definition serves the integration tests (through `tests/common`) and
//! this crate's own unit tests (the emulated GPU kernels), which cannot reach `tests/`.

use crate::{Address, HashId, Layout, Params, Salt};
use serde::{Deserialize, Serialize};

/// The committed file, in the workspace's `tests/data`.
pub const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/golden-roots.json"
);

/// One golden configuration and its root, as the file spells them (hex; the address with `0x`).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct Golden {
    pub guest: String,
    pub input: String,
    pub salt: String,
    pub address: String,
    pub hash: HashId,
    pub lanes: u32,
    pub chained: bool,
    pub n: u64,
    pub root: String,
}

impl Golden {
    /// The salt's 32 bytes.
    pub fn salt(&self) -> Salt {
        Salt::from(unhex(&self.salt, "salt"))
    }

    /// The address's 20 bytes.
    pub fn address(&self) -> Address {
        Address::from(unhex::<20>(&self.address, "address"))
    }

    /// The root's 32 bytes.
    pub fn root(&self) -> [u8; 32] {
        unhex(&self.root, "root")
    }

    /// The hash and layout.
    pub fn params(&self) -> Params {
        Params {
            hash: self.hash,
            layout: Layout {
                lanes: self.lanes,
                chained: self.chained,
            },
        }
    }
}

/// Every configuration of [`PATH`]. Test support: a missing or malformed file panics.
pub fn load() -> Vec<Golden> {
    let text = std::fs::read_to_string(PATH).expect("golden file");
    serde_json::from_str(&text).expect("golden file parses")
}

fn unhex<const N: usize>(s: &str, what: &str) -> [u8; N] {
    let mut out = [0u8; N];
    hex::decode_to_slice(s.trim_start_matches("0x"), &mut out)
        .unwrap_or_else(|e| panic!("golden {what} {s:?}: {e}"));
    out
}
