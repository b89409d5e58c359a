//! The record of one session of the challenge game: what each side said, with the executor's
//! signatures ([`Transcript`]), and the file `poie challenge` writes and `poie referee` reads
//! ([`TranscriptFile`]; the format is in docs/SPEC.md 6.5).

use super::challenger::Outcome;
use super::wire::{Msg, Nonce, Reply, Signature};
use crate::vote::Vote;
use poie_files::json::VersionedFile;
use poie_proof::hash::Digest32;
use serde::{Deserialize, Serialize};

/// Who sent a transcript entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    Challenger,
    Executor,
}

/// One line of a transcript: a challenger's message; or an executor's reply with its
/// signature; or why an expected reply is missing (timeout, garbage, closed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub from: Party,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<Msg>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_sig")]
    pub sig: Option<Signature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl Entry {
    pub(super) fn challenger(m: Msg) -> Entry {
        Entry {
            from: Party::Challenger,
            msg: Some(m),
            sig: None,
            failure: None,
        }
    }

    pub(super) fn reply(r: &Reply) -> Entry {
        Entry {
            from: Party::Executor,
            msg: Some(r.msg.clone()),
            sig: r.sig,
            failure: None,
        }
    }

    pub(super) fn failure(why: String) -> Entry {
        Entry {
            from: Party::Executor,
            msg: None,
            sig: None,
            failure: Some(why),
        }
    }
}

/// An optional signature as hex.
mod opt_sig {
    use super::Signature;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Signature>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(sig) => s.serialize_str(&hex::encode(sig)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Signature>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| poie_files::hexser::decode(&s).map_err(D::Error::custom))
            .transpose()
    }
}

/// What was said in one session: its nonce, and the entries in order (each challenger message
/// followed by the executor's reply or why there is none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    pub nonce: Nonce,
    pub entries: Vec<Entry>,
}

/// A transcript judged against a vote it is not about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the transcript is for another vote")]
pub struct OtherVote;

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

    /// Checks that the transcript is about vote `v` (its root), before any work is spent on
    /// judging it against `v`.
    pub fn about(&self, v: &Vote) -> Result<(), OtherVote> {
        if self.vote_root != v.root {
            return Err(OtherVote);
        }
        Ok(())
    }

    /// The session as [`super::referee()`] takes it.
    pub fn transcript(&self) -> Transcript {
        Transcript {
            nonce: self.nonce,
            entries: self.entries.clone(),
        }
    }
}
