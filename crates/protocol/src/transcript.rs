//! The transcript file `poie challenge` writes and `poie referee` reads: one session of the
//! challenge game, with the executor's signatures. The format is in docs/SPEC.md 6.5.

use super::challenge::{Entry, Nonce, Outcome, Transcript};
use poie_files::json::VersionedFile;
use poie_proof::hash::Digest32;
use serde::{Deserialize, Serialize};

/// Version 2 added the session nonce and the executor's signature on each reply; version 1
/// transcripts proved nothing about what the executor said, and are refused.
pub const TRANSCRIPT_VERSION: u32 = 2;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptFile {
    pub version: u32,
    /// The disputed vote's root.
    #[serde(with = "poie_files::hexser::bytes")]
    pub vote_root: Digest32,
    /// The session's nonce, which every reply's signature covers.
    #[serde(with = "poie_files::hexser::bytes")]
    pub nonce: Nonce,
    pub entries: Vec<Entry>,
    /// What the challenger concluded live; the referee re-derives it and says so when it
    /// differs.
    pub outcome: Outcome,
}

impl VersionedFile for TranscriptFile {
    const WHAT: &'static str = "transcript";
    const VERSION: u32 = TRANSCRIPT_VERSION;
    fn version(&self) -> u32 {
        self.version
    }
}

impl TranscriptFile {
    pub fn new(vote_root: Digest32, transcript: Transcript, outcome: Outcome) -> TranscriptFile {
        TranscriptFile {
            version: TRANSCRIPT_VERSION,
            vote_root,
            nonce: transcript.nonce,
            entries: transcript.entries,
            outcome,
        }
    }

    /// The session as [`super::challenge::referee`] takes it.
    pub fn transcript(&self) -> Transcript {
        Transcript {
            nonce: self.nonce,
            entries: self.entries.clone(),
        }
    }
}
