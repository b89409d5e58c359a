//! The commitment file `poie prove` writes: the root and everything needed to check it.

use super::hash::Digest32;
use super::layout::Params;
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
        #[serde(with = "crate::hexser::bytes")]
        program_blake3: Digest32,
        #[serde(with = "crate::hexser::bytes")]
        input_blake3: Digest32,
        /// How the guest ended, e.g. "exited with status 0".
        outcome: String,
        exit_code: u8,
        /// `null` when the guest ran without a limit.
        #[serde(with = "crate::limit")]
        max_steps: u64,
    },
    /// A recorded trace file (blake3 of its bytes).
    File {
        #[serde(with = "crate::hexser::bytes")]
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
    /// The executor's 20-byte address, hex with 0x.
    pub address: String,
    /// Chunks (steps) in the trace.
    pub n: u64,
    #[serde(with = "crate::hexser::bytes")]
    pub root: Digest32,
    pub source: SourceInfo,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a valid {what} file")]
    Parse {
        path: String,
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("{path}: unsupported {what} version {found} (this poie reads version {expected})")]
    Version {
        path: String,
        what: &'static str,
        found: u32,
        expected: u32,
    },
    #[error("{path}: {msg}")]
    Invalid { path: String, msg: String },
}

/// Reads and checks a JSON file of type `T` that carries a `version` field.
pub fn load_json<T: for<'de> Deserialize<'de>>(
    path: &std::path::Path,
    what: &'static str,
    expected: u32,
    version_of: impl Fn(&T) -> u32,
) -> Result<T, FileError> {
    let p = path.display().to_string();
    let text =
        crate::files::read_text_bounded(path, crate::files::MAX_DOCUMENT).map_err(|source| {
            FileError::Io {
                path: p.clone(),
                source,
            }
        })?;
    // Check the version first, so a newer file gets a version error rather than a field error.
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        if let Some(found) = v.get("version").and_then(|v| v.as_u64()) {
            if found != u64::from(expected) {
                let found = u32::try_from(found).unwrap_or(u32::MAX);
                return Err(FileError::Version {
                    path: p,
                    what,
                    found,
                    expected,
                });
            }
        }
    }
    let value: T = serde_json::from_str(&text).map_err(|source| FileError::Parse {
        path: p.clone(),
        what,
        source,
    })?;
    let found = version_of(&value);
    if found != expected {
        return Err(FileError::Version {
            path: p,
            what,
            found,
            expected,
        });
    }
    Ok(value)
}

impl Commitment {
    pub fn load(path: &std::path::Path) -> Result<Self, FileError> {
        let c: Commitment = load_json(path, "commitment", COMMITMENT_VERSION, |c: &Commitment| {
            c.version
        })?;
        // The layout was checked as it was parsed (`Layout`'s serde `try_from`).
        Ok(c)
    }
}
