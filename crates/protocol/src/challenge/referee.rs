//! The offline referee: replays the challenger's logic against a transcript's recorded replies.

use super::challenger::{play, Outcome};
use super::transcript::{Entry, Party, Transcript};
use super::tree::Tree;
use super::wire::{Disputed, Msg, Reply};
use std::iter::Enumerate;
use std::slice;

/// Why a transcript is refused: it is not a record of the game the challenger's logic plays.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefereeError {
    #[error("entry {entry} is not the challenger's {expected} here")]
    NotTheRequest {
        entry: usize,
        expected: &'static str,
    },
    #[error("the transcript ends before the challenger's {expected}")]
    EndsEarly { expected: &'static str },
    #[error("entry {entry} is neither an executor's reply nor a failure")]
    NotAReply { entry: usize },
    #[error("entry {entry} comes after the game's end")]
    AfterTheEnd { entry: usize },
}

/// Re-judges a transcript offline: replays the challenger's logic against the executor's
/// recorded replies, re-deriving every challenger message, under the live game's rule: only a
/// reply signed by the vote's key for this transcript's nonce, its index and its request is
/// evidence. The replay's outcome is the verdict; so silence, a refusal or an unsigned,
/// altered or replayed reply is [`Outcome::Unproven`], never a conviction. A transcript whose
/// challenger messages are not the game's, or that goes on after a proven end, is refused.
pub fn referee(
    correct: &Tree,
    disputed: &Disputed,
    transcript: &Transcript,
) -> Result<Outcome, RefereeError> {
    let mut replay = Replay {
        entries: transcript.entries.iter().enumerate(),
        invalid: None,
    };
    let outcome = play(
        correct,
        disputed,
        &transcript.nonce,
        |m| replay.ask(m),
        &mut Vec::new(),
    );
    if let Some(why) = replay.invalid {
        return Err(why);
    }
    // A proven verdict must be the whole transcript's. After an unproven end nothing more can
    // count (the live challenger stops there), and that end is the more useful answer.
    if outcome.is_proven() {
        if let Some((entry, _)) = replay.entries.next() {
            return Err(RefereeError::AfterTheEnd { entry });
        }
    }
    Ok(outcome)
}

/// The recorded side of a replayed game: the transcript's entries, read in order as the
/// replayed challenger asks.
struct Replay<'t> {
    entries: Enumerate<slice::Iter<'t, Entry>>,
    /// The first way the transcript departs from the game, if any: the verdict is refused.
    invalid: Option<RefereeError>,
}

/// Why the record holds no reply to a request, as the replayed game hears it.
#[derive(Debug, thiserror::Error)]
enum NoRecordedReply<'t> {
    /// The challenger recorded why the reply is missing: its own words, from the file.
    #[error("{0}")]
    Failure(&'t str),
    /// The record stops after a request: as silent as a recorded timeout.
    #[error("no reply recorded")]
    Missing,
    /// The transcript is not a record of this game (see [`Replay::invalid`]).
    #[error(transparent)]
    Invalid(RefereeError),
}

impl<'t> Replay<'t> {
    /// The recorded reply to `m`, which must be the next entry, recorded as the challenger's.
    fn ask(&mut self, m: &Msg) -> Result<Reply, NoRecordedReply<'t>> {
        let expected = m.kind();
        match self.entries.next() {
            Some((
                _,
                Entry {
                    from: Party::Challenger,
                    msg: Some(sent),
                    sig: None,
                    failure: None,
                },
            )) if sent == m => {}
            Some((entry, _)) => {
                return Err(self.invalid(RefereeError::NotTheRequest { entry, expected }))
            }
            None => return Err(self.invalid(RefereeError::EndsEarly { expected })),
        }
        match self.entries.next() {
            Some((
                _,
                Entry {
                    from: Party::Executor,
                    msg: Some(msg),
                    sig,
                    failure: None,
                },
            )) => Ok(Reply {
                msg: msg.clone(),
                sig: *sig,
            }),
            Some((
                _,
                Entry {
                    from: Party::Executor,
                    msg: None,
                    sig: None,
                    failure: Some(why),
                },
            )) => Err(NoRecordedReply::Failure(why)),
            None => Err(NoRecordedReply::Missing),
            Some((entry, _)) => Err(self.invalid(RefereeError::NotAReply { entry })),
        }
    }

    /// Keeps the first departure from the game, and ends the replayed game on it.
    fn invalid(&mut self, why: RefereeError) -> NoRecordedReply<'t> {
        self.invalid.get_or_insert_with(|| why.clone());
        NoRecordedReply::Invalid(why)
    }
}
