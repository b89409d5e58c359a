//! The record of one session of the challenge game: what each side said, with the executor's
//! signatures ([`Transcript`]), and the file `poie challenge` writes and `poie referee` reads
//! ([`TranscriptFile`]; the format is in docs/SPEC.md 6.5).
//!
//! A transcript file may come from anyone, so it is read in proportion to the game it claims to
//! record: at most [`MAX_TRANSCRIPT_BYTES`] bytes and [`MAX_TRANSCRIPT_ENTRIES`] entries, the
//! most a legal game can write, parsed as a stream (never as a whole JSON tree first, which
//! costs some 40 times the text) and refused at its first entry that no game could record.

use super::challenger::Outcome;
use super::server::MAX_SESSION_MESSAGES;
use super::wire::{Msg, Nonce, Reply, Signature, MAX_LINE};
use crate::vote::Vote;
use poie_files::json::{FileError, VersionedFile};
use poie_proof::hash::Digest32;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::io::Read;
use std::path::Path;

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

/// Most entries in a transcript: the executor reads at most [`MAX_SESSION_MESSAGES`] messages in
/// a session, and each is recorded with its reply or why there is none. (The challenger's own
/// bisection stops after 82 messages; the cap is the executor's, which no game outlasts.)
pub const MAX_TRANSCRIPT_ENTRIES: usize = 2 * MAX_SESSION_MESSAGES as usize;

/// Room for one entry of fixed size, pretty-printed: a message of the game other than an
/// `error` takes under 600 bytes with its signature and indentation.
const FIXED_ENTRY_BYTES: u64 = 2048;

/// Most bytes in a transcript file. A game ends at its first reply that is not signed evidence,
/// so every entry but the last reply is one of the game's fixed-size messages; the last reply
/// or failure, and the outcome that quotes it, come from one line of at most [`MAX_LINE`]
/// bytes, which the escaping between the wire and the file (serde's quoting, the challenger's
/// `escape_debug` twice, JSON) grows at most about twelve-fold: 32 lines are allowed.
pub const MAX_TRANSCRIPT_BYTES: u64 =
    MAX_TRANSCRIPT_ENTRIES as u64 * FIXED_ENTRY_BYTES + 32 * MAX_LINE as u64;

/// Why a transcript file is not the record of any game, found before it is judged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadTranscript {
    #[error(
        "{len} bytes, more than the {max} a transcript of a legal game can take ({MAX_TRANSCRIPT_ENTRIES} entries)"
    )]
    TooLarge { len: u64, max: u64 },
    #[error(
        "more than {max} entries, more than a legal game records (at most {MAX_SESSION_MESSAGES} messages, each with its reply)"
    )]
    TooManyEntries { max: usize },
    #[error("entry {entry} cannot be a game's: {why}")]
    BadEntry { entry: usize, why: &'static str },
}

/// Why a transcript file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("{path}: {why}")]
    Refused { path: String, why: BadTranscript },
    #[error(transparent)]
    File(#[from] FileError),
}

impl TranscriptError {
    /// As the error of [`VersionedFile::load`], whose signature every document shares.
    fn into_file_error(self, origin: &str) -> FileError {
        match self {
            TranscriptError::Refused { why, .. } => FileError::Invalid {
                path: origin.into(),
                msg: why.to_string(),
            },
            TranscriptError::File(e) => e,
        }
    }

    /// The reason, where the transcript was refused for what it holds.
    pub fn bad(&self) -> Option<&BadTranscript> {
        match self {
            TranscriptError::Refused { why, .. } => Some(why),
            TranscriptError::File(_) => None,
        }
    }
}

/// Version 2 added the session nonce and the executor's signature on each reply; version 1
/// transcripts proved nothing about what the executor said, and are refused. Version 3 added
/// the second phase's messages (`states`, `commitments`, `prove`, `noted`; SPEC 6.7).
pub const TRANSCRIPT_VERSION: u32 = 3;

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

    /// As [`TranscriptFile::parse`]: the default would build the whole JSON tree first.
    fn from_text(text: &str, origin: &str) -> Result<Self, FileError> {
        TranscriptFile::parse(text, origin).map_err(|e| e.into_file_error(origin))
    }

    /// As [`TranscriptFile::read`]: the default reads up to the 64 MiB of any document.
    fn load(path: &Path) -> Result<Self, FileError> {
        let origin = path.display().to_string();
        TranscriptFile::read(path).map_err(|e| e.into_file_error(&origin))
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

    /// Reads a transcript file: a regular file of at most [`MAX_TRANSCRIPT_BYTES`] (a longer one
    /// is refused by its length, before any of it is read), parsed as [`TranscriptFile::parse`].
    pub fn read(path: &Path) -> Result<TranscriptFile, TranscriptError> {
        let origin = path.display().to_string();
        let io = |source| {
            TranscriptError::File(FileError::Io {
                path: origin.clone(),
                source,
            })
        };
        let too_large = |len| TranscriptError::Refused {
            path: origin.clone(),
            why: BadTranscript::TooLarge {
                len,
                max: MAX_TRANSCRIPT_BYTES,
            },
        };
        let file = poie_files::files::open_regular(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > MAX_TRANSCRIPT_BYTES {
            return Err(too_large(len));
        }
        // A file growing while read is cut one byte past the bound, and refused.
        let mut bytes = Vec::new();
        file.take(MAX_TRANSCRIPT_BYTES.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io)?;
        let got = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if got > MAX_TRANSCRIPT_BYTES {
            return Err(too_large(got));
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not UTF-8 text",
            ))
        })?;
        TranscriptFile::parse(&text, &origin)
    }

    /// Parses a transcript read from `origin` (for error messages) as a stream, in three passes
    /// that keep nothing they do not need: the version first (as every document: a newer file
    /// gets a version error), then the entries one at a time, refused at the first that no game
    /// records or past [`MAX_TRANSCRIPT_ENTRIES`], and only then the whole file.
    pub fn parse(text: &str, origin: &str) -> Result<TranscriptFile, TranscriptError> {
        let len = u64::try_from(text.len()).unwrap_or(u64::MAX);
        let refused = |why| TranscriptError::Refused {
            path: origin.into(),
            why,
        };
        if len > MAX_TRANSCRIPT_BYTES {
            return Err(refused(BadTranscript::TooLarge {
                len,
                max: MAX_TRANSCRIPT_BYTES,
            }));
        }
        let parse = |source| {
            TranscriptError::File(FileError::Parse {
                path: origin.into(),
                what: Self::WHAT,
                source,
            })
        };
        let version = |found: Option<u64>| match found {
            Some(v) if v == u64::from(TRANSCRIPT_VERSION) => Ok(()),
            Some(found) => Err(TranscriptError::File(FileError::Version {
                path: origin.into(),
                what: Self::WHAT,
                field: Self::VERSION_FIELD,
                found,
                expected: Self::VERSIONS,
            })),
            None => Err(TranscriptError::File(FileError::NoVersion {
                path: origin.into(),
                what: Self::WHAT,
                field: Self::VERSION_FIELD,
            })),
        };
        let head: Head = serde_json::from_str(text).map_err(parse)?;
        version(head.version.and_then(|v| v.0))?;
        let scan: Scan = serde_json::from_str(text).map_err(parse)?;
        if let Some(why) = scan.entries.0 {
            return Err(refused(why));
        }
        let doc: TranscriptFile = serde_json::from_str(text).map_err(parse)?;
        version(Some(u64::from(doc.version)))?;
        Ok(doc)
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

impl Entry {
    /// Whether this entry can be entry `at` of a game: entries alternate, the challenger's
    /// message (a hello, query, open, states or prove, unsigned) first, then the executor's reply (signed or
    /// not) or why there is none.
    fn fits(&self, at: usize) -> Result<(), &'static str> {
        let challengers_turn = at.is_multiple_of(2);
        match (self.from, &self.msg, &self.sig, &self.failure) {
            (Party::Challenger, _, _, _) if !challengers_turn => {
                Err("the executor's reply or failure comes here")
            }
            (Party::Executor, _, _, _) if challengers_turn => {
                Err("a challenger's message comes here (entries alternate, the challenger's first)")
            }
            (
                Party::Challenger,
                Some(
                    Msg::Hello { .. }
                    | Msg::Query { .. }
                    | Msg::Open { .. }
                    | Msg::States { .. }
                    | Msg::Prove { .. },
                ),
                None,
                None,
            ) => Ok(()),
            (Party::Challenger, _, _, _) => Err(
                "a challenger's entry is a hello, query, open, states or prove, unsigned, and nothing else",
            ),
            (Party::Executor, Some(_), _, None) | (Party::Executor, None, None, Some(_)) => Ok(()),
            (Party::Executor, _, _, _) => Err(
                "an executor's entry is a reply (with its signature, if any) or a failure, not both",
            ),
        }
    }
}

/// The first pass of [`TranscriptFile::parse`]: the version, every other field skipped unread.
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    version: Option<VersionNumber>,
}

/// A version field as every document's loader reads it (`serde_json::Value::as_u64`): a
/// non-negative integer, or no version at all for anything else, which is skipped, not built.
struct VersionNumber(Option<u64>);

impl<'de> Deserialize<'de> for VersionNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(VersionVisitor)
    }
}

struct VersionVisitor;

impl<'de> Visitor<'de> for VersionVisitor {
    type Value = VersionNumber;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a version number")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<VersionNumber, E> {
        Ok(VersionNumber(Some(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<VersionNumber, E> {
        Ok(VersionNumber(u64::try_from(v).ok()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<VersionNumber, E> {
        Ok(VersionNumber(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<VersionNumber, E> {
        Ok(VersionNumber(None))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<VersionNumber, E> {
        Ok(VersionNumber(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<VersionNumber, E> {
        Ok(VersionNumber(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<VersionNumber, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(VersionNumber(None))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<VersionNumber, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(VersionNumber(None))
    }
}

/// The second pass of [`TranscriptFile::parse`]: the entries, checked one at a time and
/// dropped, every other field skipped unread.
#[derive(Deserialize)]
struct Scan {
    #[serde(default)]
    entries: EntryScan,
}

/// What the entries scan found wrong, if anything.
#[derive(Default)]
struct EntryScan(Option<BadTranscript>);

impl<'de> Deserialize<'de> for EntryScan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(EntryScanVisitor)
    }
}

struct EntryScanVisitor;

impl<'de> Visitor<'de> for EntryScanVisitor {
    type Value = EntryScan;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of transcript entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EntryScan, A::Error> {
        let mut at: usize = 0;
        let bad = loop {
            if at >= MAX_TRANSCRIPT_ENTRIES {
                match seq.next_element::<IgnoredAny>()? {
                    Some(_) => {
                        break BadTranscript::TooManyEntries {
                            max: MAX_TRANSCRIPT_ENTRIES,
                        }
                    }
                    None => return Ok(EntryScan(None)),
                }
            }
            let Some(entry) = seq.next_element::<Entry>()? else {
                return Ok(EntryScan(None));
            };
            if let Err(why) = entry.fits(at) {
                break BadTranscript::BadEntry { entry: at, why };
            }
            at = at.saturating_add(1);
        };
        // The parser wants the list read to its end: the rest is skipped, nothing of it kept.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(EntryScan(Some(bad)))
    }
}
