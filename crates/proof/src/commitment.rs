//! The commitment file `poie prove` writes: the root and everything needed to check it.

use super::hash::Digest32;
use super::layout::Params;
use poie_files::Address;
use serde::{Deserialize, Serialize};

/// Format version of commitment files.
pub const COMMITMENT_VERSION: u32 = 1;

/// What was proved: the trace's origin, by digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SourceInfo {
    /// A guest run: blake3 digests of the ELF and of the input bytes.
    Vm {
        program: String,
        #[serde(with = "poie_files::hexser::bytes")]
        program_blake3: Digest32,
        #[serde(with = "poie_files::hexser::bytes")]
        input_blake3: Digest32,
        /// How the guest ended, e.g. "exited with status 0".
        outcome: String,
        exit_code: u8,
        /// `null` when the guest ran without a limit.
        #[serde(with = "poie_files::limit")]
        max_steps: u64,
    },
    /// A recorded trace file (blake3 of its bytes).
    File {
        #[serde(with = "poie_files::hexser::bytes")]
        trace_blake3: Digest32,
    },
    Synthetic {
        seed: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    pub version: u32,
    pub params: Params,
    /// The executor's address: written with `0x`, read with or without it.
    pub address: Address,
    /// Chunks (steps) in the trace.
    pub n: u64,
    #[serde(with = "poie_files::hexser::bytes")]
    pub root: Digest32,
    pub source: SourceInfo,
}

impl poie_files::json::VersionedFile for Commitment {
    const WHAT: &'static str = "commitment";
    const VERSION: u32 = COMMITMENT_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}
