//! The protocol around the proof (`docs/PROTOCOL.md`): executor keys and addresses, windbacks,
//! signed votes, reveals and the full check, spot-check audits, the challenge game over TCP and
//! its transcripts, the second phase of a dispute (state bisection to one step proof), leak claims
//! and the epoch simulator; the off-chain and on-chain profiles of votes.

pub mod audit;
pub mod challenge;
pub mod dispute;
pub mod keys;
pub mod leak;
pub mod profile;
pub mod secret;
pub mod simulate;
pub mod vote;
pub mod windback;

/// The transcript of a challenge session and its file; it lives with the game.
pub use challenge::transcript;

/// The secp256k1 crate of the on-chain profile's keys and signatures (docs/SPEC.md 6.1), for
/// tools and tests that verify a version-4 vote's `eth_signature` with the same curve code.
pub use k256;
