//! The protocol around the proof (`docs/PROTOCOL.md`): executor keys and addresses, windbacks,
//! signed votes, reveals and the full check, spot-check audits, the challenge game over TCP and
//! its transcripts, the second phase of a dispute (state bisection to one step proof), leak claims and the epoch simulator; and a helper for versioned JSON files.

pub mod audit;
pub mod challenge;
pub mod dispute;
pub mod keys;
pub mod leak;
pub mod secret;
pub mod simulate;
pub mod vote;
pub mod windback;

/// The transcript of a challenge session and its file; it lives with the game.
pub use challenge::transcript;
