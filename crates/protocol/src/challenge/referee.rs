//! The offline referee: replays the challenger's logic against a transcript's recorded replies.

use super::challenger::{play, Outcome};
use super::transcript::{Entry, Party, Transcript};
use super::tree::Tree;
use super::wire::{Disputed, Reply};

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
) -> Result<Outcome, String> {
    let mut entries = transcript.entries.iter().enumerate();
    let mut invalid: Option<String> = None;
    let outcome = play(
        correct,
        disputed,
        &transcript.nonce,
        |m| {
            match entries.next() {
                Some((
                    _,
                    Entry {
                        from: Party::Challenger,
                        msg: Some(sent),
                        sig: None,
                        failure: None,
                    },
                )) if sent == m => {}
                Some((k, _)) => {
                    let why = format!("entry {k} is not the challenger's {} here", m.kind());
                    invalid.get_or_insert(why.clone());
                    return Err(why);
                }
                None => {
                    let why = format!("the transcript ends before the challenger's {}", m.kind());
                    invalid.get_or_insert(why.clone());
                    return Err(why);
                }
            }
            match entries.next() {
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
                )) => Err(why.clone()),
                // The record stops after a request: as silent as a recorded timeout.
                None => Err("no reply recorded".into()),
                Some((k, _)) => {
                    let why = format!("entry {k} is neither an executor's reply nor a failure");
                    invalid.get_or_insert(why.clone());
                    Err(why)
                }
            }
        },
        &mut Vec::new(),
    );
    if let Some(why) = invalid {
        return Err(why);
    }
    // A proven verdict must be the whole transcript's. After an unproven end nothing more can
    // count (the live challenger stops there), and that end is the more useful answer.
    if outcome.is_proven() {
        if let Some((k, _)) = entries.next() {
            return Err(format!("entry {k} comes after the game's end"));
        }
    }
    Ok(outcome)
}
